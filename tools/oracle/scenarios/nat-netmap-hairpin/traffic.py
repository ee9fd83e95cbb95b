# nat-netmap-hairpin
from oracle import *

srv = tcp_listen("wan", WAN4, 8000)
c = tcp_connect("lan", "10.77.1.3", 41301, WAN4, 8000)  # appears as 10.77.3.3
s = tcp_accept(srv)
c.sendall(b"netmapped")
assert recv_exact(s, 9) == b"netmapped"
s.sendall(b"ok")
assert recv_exact(c, 2) == b"ok"
c.close()
assert expect_eof(s)
s.close()
pause(0.2)

dns = udp_bind("lan", LAN4, 53)
u = udp_bind("wan", WAN4, 41353)
u.sendto(b"to the mapped address", ("10.77.3.2", 53))
data, peer = udp_recv(dns)
assert data == b"to the mapped address", data
dns.sendto(b"from the mapped address", peer)
assert udp_recv(u)[0] == b"from the mapped address"
pause(0.2)

assert ping("wan", WAN4, "10.77.3.2", 0x3333)
pause(0.2)

# hairpin: 10.77.1.3 -> router wan address:8080 -> 10.77.1.2:80, source masqueraded to 10.77.1.1
web = tcp_listen("lan", LAN4, 80)
c = tcp_connect("lan", "10.77.1.3", 41380, GW_WAN4, 8080)
s = tcp_accept(web)
c.sendall(b"hairpin")
assert recv_exact(s, 7) == b"hairpin"
s.sendall(b"pin")
assert recv_exact(c, 3) == b"pin"
c.close()
assert expect_eof(s)
s.close()
pause(0.2)
done()
