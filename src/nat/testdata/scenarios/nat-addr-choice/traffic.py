# nat-addr-choice: one UDP datagram per (source, destination, rule); the kernel's address choice
# for each shows in what the gateway forwards on wan0.
from oracle import done
from scripted import IP, UDP, IPv6, Raw, Wire

w = Wire()
SRC4 = ["10.77.1.2", "10.77.1.20", "10.77.1.33", "10.77.1.47", "10.77.1.150", "10.77.1.254"]
DST4 = ["10.77.2.2", "10.77.2.10", "10.77.2.11", "10.77.2.12"]
SRC6 = ["fd77:1::2", "fd77:1::20", "fd77:1::33:1", "fd77:1::abcd:47", "fd77:1:0:0:1::150", "fd77:1::fe"]
DST6 = ["fd77:2::2", "fd77:2::10", "fd77:2::11", "fd77:2::12"]

n = 0
for dport in (5001, 5002, 5003, 5005):
    for s in SRC4:
        for d in DST4:
            n += 1
            w.from_lan(IP(src=s, dst=d, ttl=64, id=n) / UDP(sport=40000 + n, dport=dport) / Raw(b"a"), wait=0)
    for s in SRC6:
        for d in DST6:
            n += 1
            w.from_lan(IPv6(src=s, dst=d, hlim=64) / UDP(sport=40000 + n, dport=dport) / Raw(b"a"), wait=0)

# NETMAP of destinations: 10.77.3.x -> 10.77.2.x, fd77:3::x -> fd77:2::x
for s, d in (("10.77.1.2", "10.77.3.2"), ("10.77.1.20", "10.77.3.10"), ("10.77.1.33", "10.77.3.12")):
    n += 1
    w.from_lan(IP(src=s, dst=d, ttl=64, id=n) / UDP(sport=40000 + n, dport=6000) / Raw(b"b"), wait=0)
for s, d in (("fd77:1::2", "fd77:3::2"), ("fd77:1::20", "fd77:3::10"), ("fd77:1::33:1", "fd77:3::12")):
    n += 1
    w.from_lan(IPv6(src=s, dst=d, hlim=64) / UDP(sport=40000 + n, dport=6000) / Raw(b"b"), wait=0)
done()
