# nat-masq-clash: two lan hosts, same source ports / ICMP id, one server.
from oracle import *

A, B = "10.77.1.2", "10.77.1.3"
dns = udp_bind("wan", WAN4, 53)
srv = tcp_listen("wan", WAN4, 8000)


def udp_pair(sport):
    for host in (A, B):
        u = udp_bind("lan", host, sport)
        u.sendto(b"from %s:%d" % (host.encode(), sport), (WAN4, 53))
        data, peer = udp_recv(dns)
        dns.sendto(b"re " + data, peer)
        assert udp_recv(u)[0] == b"re " + data
        u.close()
        pause(0.1)


udp_pair(6000)  # band 1024-65535
udp_pair(700)  # band 600-1023
udp_pair(100)  # band 1-511

# TCP: same source port from both hosts
conns = []
for host in (A, B):
    c = tcp_connect("lan", host, 44000, WAN4, 8000)
    s = tcp_accept(srv)
    c.sendall(b"hello from " + host.encode())
    assert recv_exact(s, 11 + len(host))
    s.sendall(b"hi")
    assert recv_exact(c, 2) == b"hi"
    conns.append((c, s))
    pause(0.1)
for c, s in conns:
    c.close()
    assert expect_eof(s)
    s.close()
    pause(0.1)

# ICMP echo: same id from both hosts
assert ping("lan", A, WAN4, 0x5555, seq=1)
pause(0.1)
assert ping("lan", B, WAN4, 0x5555, seq=1)
pause(0.1)
assert ping("lan", A, WAN4, 0x5555, seq=2)
pause(0.1)
assert ping("lan", B, WAN4, 0x5555, seq=2)
pause(0.2)
done()
