# rules-log-marks: MARK / CONNMARK / mark and connmark matches / LOG options, counted per rule.
from oracle import *

for lan, wan in ((LAN4, WAN4), (LAN6, WAN6)):
    srv = tcp_listen("wan", wan, 8000)
    for sport in (42301, 42302):
        c = tcp_connect("lan", lan, sport, wan, 8000)
        s = tcp_accept(srv)
        c.sendall(b"marked")
        assert recv_exact(s, 6) == b"marked"
        s.sendall(b"ok")
        assert recv_exact(c, 2) == b"ok"
        c.close()
        assert expect_eof(s)
        s.close()
        pause(0.2)
    srv.close()
    other = tcp_listen("wan", wan, 8001)
    try:
        tcp_connect("lan", lan, 42303, wan, 8001, timeout=0.4)
        raise SystemExit("port 8001 should be dropped")
    except (TimeoutError, OSError):
        pass
    other.close()
    pause(0.2)
    dns = udp_bind("wan", wan, 53)
    u = udp_bind("lan", lan, 42304)
    for i in range(2):
        u.sendto(b"q%d" % i, (wan, 53))
        data, peer = udp_recv(dns, timeout=0.5)
        if data is None:
            log(lan, "udp dropped")  # IPv6 has no rule for UDP: the FORWARD policy drops it
            continue
        dns.sendto(b"a%d" % i, peer[:2])
        got = udp_recv(u, timeout=0.5)[0]
        log(lan, "udp answer", got)
        pause(0.1)
    u.close()
    dns.close()
    log(lan, "ping", ping("lan", lan, wan, 0x4242, timeout=0.5))
    pause(0.2)
done()
