# nat-snat-options: id range exhaustion for ICMP, port range mapping for UDP, --random for TCP.
from oracle import *

for ident in (0x0a01, 0x0a02, 0x0a03):
    ok = ping("lan", LAN4, WAN4, ident, timeout=0.5)
    log("ping id", hex(ident), "answered" if ok else "dropped")
    pause(0.1)

dns = udp_bind("wan", WAN4, 53)
for sport in (7201, 7202):
    u = udp_bind("lan", LAN4, sport)
    u.sendto(b"to a port range %d" % sport, (WAN4, 53))
    data, peer = udp_recv(dns)
    log("udp", sport, "mapped to", peer[1])
    dns.sendto(b"re " + data, peer)
    assert udp_recv(u)[0] == b"re " + data
    pause(0.1)

srv = tcp_listen("wan", WAN4, 8000)
c = tcp_connect("lan", LAN4, 45201, WAN4, 8000)
s, peer = srv.accept()
log("tcp mapped to", peer[1])
c.sendall(b"random")
assert recv_exact(s, 6) == b"random"
s.sendall(b"ok")
assert recv_exact(c, 2) == b"ok"
pause(0.2)
done()
