# nat-snat-clash: SNAT to one address, colliding source ports and ICMP ids, IPv4 and IPv6.
from oracle import *

for fam, (A, B), server in ((4, ("10.77.1.2", "10.77.1.3"), WAN4), (6, ("fd77:1::2", "fd77:1::3"), WAN6)):
    dns = udp_bind("wan", server, 53)
    srv = tcp_listen("wan", server, 8000)

    # UDP: same source port from both hosts
    for host in (A, B):
        u = udp_bind("lan", host, 6100)
        u.sendto(b"udp from " + host.encode(), (server, 53))
        data, peer = udp_recv(dns)
        dns.sendto(b"re " + data, peer[:2])
        assert udp_recv(u)[0] == b"re " + data
        u.close()
        pause(0.1)

    # TCP: same source port from both hosts, both left open
    conns = []
    for host in (A, B):
        c = tcp_connect("lan", host, 44100, server, 8000)
        s = tcp_accept(srv)
        c.sendall(b"tcp from " + host.encode())
        assert recv_exact(s, 9 + len(host))
        s.sendall(b"ok")
        assert recv_exact(c, 2) == b"ok"
        conns.append((c, s))
        pause(0.1)
    # the first host's connection closes, the second's is left open
    c, s = conns[0]
    c.close()
    assert expect_eof(s)
    s.close()
    pause(0.1)

    # ICMP echo: same id from both hosts, twice each
    for seq in (1, 2):
        for host in (A, B):
            assert ping("lan", host, server, 0x5a5a, seq=seq)
            pause(0.1)
    KEEP = globals().setdefault("KEEP", [])
    KEEP.append(conns[1])
    dns.close()
    srv.close()
    pause(0.2)
done()
