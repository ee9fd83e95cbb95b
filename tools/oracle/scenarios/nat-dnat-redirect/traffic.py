# nat-dnat-redirect: inbound port forwards and REDIRECT to the gateway.
from oracle import *

dns = udp_bind("lan", LAN4, 53)
web = tcp_listen("lan", LAN4, 80)
web6 = tcp_listen("lan", LAN6, 80)

u = udp_bind("wan", WAN4, 40053)
u.sendto(b"forwarded query", (GW_WAN4, 5353))
data, peer = udp_recv(dns)
assert data == b"forwarded query", data
dns.sendto(b"forwarded answer", peer)
assert udp_recv(u)[0] == b"forwarded answer"
pause(0.2)

for fam, src, gw, listener, sport in ((4, WAN4, GW_WAN4, web, 40080), (6, WAN6, GW_WAN6, web6, 40081)):
    c = tcp_connect("wan", src, sport, gw, 8080)
    s = tcp_accept(listener)
    c.sendall(b"GET / HTTP/1.0\r\n\r\n")
    assert recv_exact(s, 18)
    s.sendall(b"HTTP/1.0 200 OK\r\n\r\nforwarded")
    s.close()
    assert recv_exact(c, 28)
    assert expect_eof(c)
    c.close()
    pause(0.2)

# REDIRECT to the gateway itself, where nothing listens
assert tcp_refused("lan", LAN4, 40222, WAN4, 2222)
pause(0.2)
r = udp_bind("lan", LAN4, 40223)
r.sendto(b"redirected", (WAN4, 2223))
pause(0.3)
done()
