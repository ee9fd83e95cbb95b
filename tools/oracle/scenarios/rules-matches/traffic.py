# rules-matches: which packets each stateless match selects.
from oracle import *

for lan, wan, port in ((LAN4, WAN4, 8000), (LAN6, WAN6, 8001)):
    srv = tcp_listen("wan", wan, port)
    c = tcp_connect("lan", lan, 44201, wan, port)
    s = tcp_accept(srv)
    c.sendall(b"m" * 1200)
    assert recv_exact(s, 1200) == b"m" * 1200
    s.sendall(b"ok")
    assert recv_exact(c, 2) == b"ok"
    c.close()
    assert expect_eof(s)
    s.close()
    srv.close()
    pause(0.2)
    dns = udp_bind("wan", wan, 53)
    u = udp_bind("lan", lan, 44202)
    u.sendto(b"query", (wan, 53))
    data, peer = udp_recv(dns)
    dns.sendto(b"answer", peer[:2])
    assert udp_recv(u)[0] == b"answer"
    u.sendto(b"F" * 3000, (wan, 53))
    data, peer = udp_recv(dns)
    assert len(data) == 3000
    u.close()
    dns.close()
    pause(0.2)
    assert ping("lan", lan, wan, 0x4444)
    pause(0.2)
done()
