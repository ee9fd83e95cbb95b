# v6-forward: IPv6 through a stateful filter, no NAT.
from oracle import *

srv = tcp_listen("wan", WAN6, 8000)
c = tcp_connect("lan", LAN6, 41001, WAN6, 8000)
s = tcp_accept(srv)
c.sendall(b"v6 request " * 10)
assert recv_exact(s, 110) == b"v6 request " * 10
s.sendall(b"v6 response " * 20)
assert recv_exact(c, 240) == b"v6 response " * 20
pause(0.2)
c.close()
assert expect_eof(s)
pause(0.1)
s.close()
pause(0.2)

# refused: nothing listens on 8001
assert tcp_refused("lan", LAN6, 41002, WAN6, 8001)
pause(0.2)

dns = udp_bind("wan", WAN6, 53)
u = udp_bind("lan", LAN6, 5301)
u.sendto(b"v6 query", (WAN6, 53))
data, peer = udp_recv(dns)
dns.sendto(b"v6 answer", peer[:2])
assert udp_recv(u)[0] == b"v6 answer"
pause(0.2)

assert ping("lan", LAN6, WAN6, 0x6001, seq=1)
pause(0.1)
assert ping("lan", LAN6, WAN6, 0x6001, seq=2)
pause(0.2)

# wan -> lan: not allowed by the FORWARD policy (the SYN is dropped; one SYN, then give up)
lsrv = tcp_listen("lan", LAN6, 9000)
try:
    tcp_connect("wan", WAN6, 42001, LAN6, 9000, timeout=0.5)
    raise SystemExit("wan -> lan connection should have been dropped")
except (TimeoutError, OSError):
    pass
pause(0.2)

# one connection left open
c5 = tcp_connect("lan", LAN6, 41005, WAN6, 8000)
s5 = tcp_accept(srv)
c5.sendall(b"keep")
assert recv_exact(s5, 4) == b"keep"
pause(0.2)
done()
