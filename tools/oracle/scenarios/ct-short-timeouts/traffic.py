# ct-short-timeouts: entries expire within the recording.
from oracle import *

dns = udp_bind("wan", WAN4, 53)
srv = tcp_listen("wan", WAN4, 8000)

u1 = udp_bind("lan", LAN4, 5101)
u1.sendto(b"first", (WAN4, 53))
data, peer = udp_recv(dns)
dns.sendto(b"first reply", peer)
assert udp_recv(u1)[0] == b"first reply"

u2 = udp_bind("lan", LAN4, 5102)  # unreplied
u2.sendto(b"unreplied", (WAN4, 53))
udp_recv(dns)
assert ping("lan", LAN4, WAN4, 0x0b0b)

c = tcp_connect("lan", LAN4, 49001, WAN4, 8000)
s = tcp_accept(srv)
c.sendall(b"short")
assert recv_exact(s, 5) == b"short"
c.close()
assert expect_eof(s)
s.close()
pause(0.3)

c = tcp_connect("lan", LAN4, 49002, WAN4, 8000)
s = tcp_accept(srv)
abort(c)  # RST: CLOSE, 2 s
s.close()

pause(4.5)  # the UDP, ICMP and TIME_WAIT entries expire

# the same flows again: new entries
u1.sendto(b"second", (WAN4, 53))
data, peer = udp_recv(dns)
dns.sendto(b"second reply", peer)
assert udp_recv(u1)[0] == b"second reply"
assert ping("lan", LAN4, WAN4, 0x0b0b, seq=2)
pause(1.0)
u3 = udp_bind("lan", LAN4, 5103)
u3.sendto(b"late", (WAN4, 53))
udp_recv(dns)
pause(0.5)
done()
