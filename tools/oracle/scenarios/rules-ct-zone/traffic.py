# rules-ct-zone: a connection tracked in conntrack zone 7.
from oracle import *

for port, sport in ((8001, 45002), (8000, 45003)):
    srv = tcp_listen("wan", WAN4, port)
    c = tcp_connect("lan", LAN4, sport, WAN4, port)
    s, peer = srv.accept()
    log("tcp", port, "from", peer)
    c.sendall(b"zone?")
    assert recv_exact(s, 5) == b"zone?"
    s.sendall(b"ok")
    assert recv_exact(c, 2) == b"ok"
    c.close()
    assert expect_eof(s)
    s.close()
    srv.close()
    pause(0.2)
done()
