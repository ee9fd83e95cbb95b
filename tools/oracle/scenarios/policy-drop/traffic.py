# policy-drop: FORWARD policy DROP with two stateless accept rules.
from oracle import *

srv = tcp_listen("wan", WAN4, 8000)
c = tcp_connect("lan", LAN4, 43001, WAN4, 8000)
s = tcp_accept(srv)
c.sendall(b"allowed " * 8)
assert recv_exact(s, 64) == b"allowed " * 8
s.sendall(b"ok " * 4)
assert recv_exact(c, 12) == b"ok " * 4
pause(0.1)
c.close()
assert expect_eof(s)
s.close()
pause(0.3)

# port 8001: the SYN is dropped by the policy; the client retransmits it once after ~1 s
srv2 = tcp_listen("wan", WAN4, 8001)
try:
    tcp_connect("lan", LAN4, 43002, WAN4, 8001, timeout=1.5)
    raise SystemExit("port 8001 should be dropped")
except (TimeoutError, OSError):
    pass
pause(0.2)

sink = udp_bind("wan", WAN4, 53)
u = udp_bind("lan", LAN4, 5401)
u.sendto(b"dropped datagram", (WAN4, 53))
pause(0.2)
assert not ping("lan", LAN4, WAN4, 0x4444, timeout=0.5)
pause(0.2)
done()
