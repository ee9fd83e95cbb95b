# rules-conntrack-match: which packets each conntrack / state match selects.
from oracle import *

srv = tcp_listen("wan", WAN4, 8000)
c = tcp_connect("lan", LAN4, 43001, WAN4, 8000)
s = tcp_accept(srv)
c.sendall(b"masqueraded")
assert recv_exact(s, 11) == b"masqueraded"
s.sendall(b"ok")
assert recv_exact(c, 2) == b"ok"
c.close()
assert expect_eof(s)
s.close()
pause(0.2)

web = tcp_listen("lan", LAN4, 80)
c = tcp_connect("wan", WAN4, 43050, GW_WAN4, 8080)
s = tcp_accept(web)
c.sendall(b"forwarded")
assert recv_exact(s, 9) == b"forwarded"
s.sendall(b"ok")
assert recv_exact(c, 2) == b"ok"
s.close()
assert expect_eof(c)
c.close()
pause(0.2)

dns = udp_bind("wan", WAN4, 53)
u = udp_bind("lan", LAN4, 43100)
u.sendto(b"query", (WAN4, 53))
data, peer = udp_recv(dns)
dns.sendto(b"answer", peer)
assert udp_recv(u)[0] == b"answer"
pause(0.2)
assert ping("lan", LAN4, WAN4, 0x4343)
pause(0.2)
done()
