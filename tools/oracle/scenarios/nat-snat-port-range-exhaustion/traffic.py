# nat-snat-port-range-exhaustion: more flows than ports in the SNAT range.
from oracle import *

dns = udp_bind("wan", WAN4, 53)
for i in range(5):
    sport = 7001 + i
    u = udp_bind("lan", LAN4, sport)
    u.sendto(b"flow %d" % i, (WAN4, 53))
    data, peer = udp_recv(dns, timeout=0.5)
    if data is not None:
        dns.sendto(b"re " + data, peer)
        assert udp_recv(u)[0] == b"re " + data
        log("udp flow", i, "got port", peer[1])
    else:
        log("udp flow", i, "dropped")
    pause(0.1)

srv = tcp_listen("wan", WAN4, 8000)
keep = []
for i in range(3):
    try:
        c = tcp_connect("lan", LAN4, 45001 + i, WAN4, 8000, timeout=0.5)
        s = tcp_accept(srv)
        c.sendall(b"x")
        assert recv_exact(s, 1) == b"x"
        keep.append((c, s))
        log("tcp connection", i, "established")
    except (TimeoutError, OSError) as e:
        log("tcp connection", i, "failed:", e)
    pause(0.1)
done()
