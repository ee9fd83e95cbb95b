# rules-notrack: untracked traffic.
from oracle import *

# untracked UDP: the wan host answers the lan address itself (its default route is the gateway)
echo = udp_bind("wan", WAN4, 5000)
u = udp_bind("lan", LAN4, 45001)
u.sendto(b"untracked", (WAN4, 5000))
data, peer = udp_recv(echo)
log("untracked datagram arrived from", peer)
echo.sendto(b"untracked answer", peer)
assert udp_recv(u)[0] == b"untracked answer"
pause(0.2)

for port, sport in ((8000, 45003),):
    srv = tcp_listen("wan", WAN4, port)
    c = tcp_connect("lan", LAN4, sport, WAN4, port)
    s, peer = srv.accept()
    log("tcp", port, "from", peer)
    c.sendall(b"tracked")
    assert recv_exact(s, 7) == b"tracked"
    s.sendall(b"ok")
    assert recv_exact(c, 2) == b"ok"
    c.close()
    assert expect_eof(s)
    s.close()
    srv.close()
    pause(0.2)

assert ping("lan", LAN6, WAN6, 0x6464)
pause(0.2)
done()
