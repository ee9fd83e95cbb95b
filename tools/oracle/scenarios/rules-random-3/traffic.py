# rules-random: seeded random traffic through the random ruleset of gen_rules.py.
import random

from oracle import GW_WAN4, done
from scripted import ICMP, IP, TCP, UDP, Raw, TcpFlow, Wire, show

rng = random.Random(8086 + 3)
w = Wire()
LAN_HOSTS = ["10.77.1.2", "10.77.1.10", "10.77.1.11"]
WAN_HOST = "10.77.2.2"
PORTS = [53, 80, 443, 8080, 5000, 5001, 22]
TTLS = [64, 64, 64, 63, 2, 1]

flows = []
for k in range(260):
    r = rng.random()
    ttl = rng.choice(TTLS)
    if r < 0.15:
        # a TCP connection opened from the lan (handshake, data both ways) through MASQUERADE
        src = rng.choice(LAN_HOSTS)
        f = TcpFlow(w, rng.randrange(40000, 60000), rng.choice(PORTS), src=src)
        c0, s0 = rng.randrange(1, 2**32), rng.randrange(1, 2**32)
        show(f"{k} SYN {src}", f.c("S", c0, 0, ttl=ttl, options=[("MSS", 1460)], wait=0.15))
        show(f"{k} SYN/ACK", f.s("SA", s0, c0 + 1, options=[("MSS", 1460)], wait=0.15))
        show(f"{k} ACK", f.c("A", c0 + 1, s0 + 1, wait=0.15))
        flows.append([f, c0 + 1, s0 + 1])
    elif r < 0.3 and flows:
        fl = rng.choice(flows)
        f, cs, ss = fl
        if rng.random() < 0.5:
            n = rng.choice([1, 50, 300])
            flags = rng.choice(["PA", "PA", "A", "FA", "R"])
            show(f"{k} c {flags}", f.c(flags, cs, ss, data=b"c" * n if flags == "PA" else b"", ttl=ttl, wait=0.15))
            if flags == "PA":
                fl[1] = (cs + n) % 2**32
        else:
            n = rng.choice([1, 100, 1000])
            flags = rng.choice(["PA", "PA", "A", "FA", "RA"])
            show(f"{k} s {flags}", f.s(flags, ss, cs, data=b"s" * n if flags == "PA" else b"", ttl=ttl, wait=0.15))
            if flags == "PA":
                fl[2] = (ss + n) % 2**32
    elif r < 0.5:
        src = rng.choice(LAN_HOSTS)
        dst = rng.choice([WAN_HOST, WAN_HOST, "10.77.1.1", "10.77.2.1", rng.choice(LAN_HOSTS)])
        pkt = IP(src=src, dst=dst, ttl=ttl) / UDP(sport=rng.choice([5000, 5001, 40000 + k]), dport=rng.choice(PORTS)) / Raw(b"u" * rng.choice([1, 30, 200, 600]))
        show(f"{k} udp {src} -> {dst}", w.from_lan(pkt, wait=0.12))
    elif r < 0.62:
        dst = rng.choice([GW_WAN4, GW_WAN4, "10.77.1.2", "10.77.1.10"])
        dport = rng.choice([8080, 5000, 5001, 80, 22])
        if rng.random() < 0.5:
            pkt = IP(src=WAN_HOST, dst=dst, ttl=ttl) / TCP(sport=rng.randrange(30000, 40000), dport=dport, flags=rng.choice(["S", "S", "A", "R", "SA"]), seq=rng.randrange(2**32), window=1000)
        else:
            pkt = IP(src=WAN_HOST, dst=dst, ttl=ttl) / UDP(sport=rng.randrange(30000, 40000), dport=dport) / Raw(b"w" * rng.choice([5, 100]))
        show(f"{k} wan -> {dst}:{dport}", w.from_wan(pkt, wait=0.12))
    elif r < 0.8:
        if rng.random() < 0.6:
            src = rng.choice(LAN_HOSTS)
            pkt = IP(src=src, dst=rng.choice([WAN_HOST, "10.77.1.1", "10.77.2.1"]), ttl=ttl) / ICMP(type=8, id=rng.choice([1, 2, 3]), seq=k) / Raw(b"p" * rng.choice([8, 56, 300]))
            show(f"{k} echo from {src}", w.from_lan(pkt, wait=0.12))
        else:
            pkt = IP(src=WAN_HOST, dst=rng.choice([GW_WAN4, "10.77.1.2"]), ttl=ttl) / ICMP(type=8, id=7, seq=k) / Raw(b"q" * 32)
            show(f"{k} echo from wan", w.from_wan(pkt, wait=0.12))
    else:
        # an ICMP error from the wan quoting something the gateway might have sent
        inner = IP(src=GW_WAN4, dst=WAN_HOST, ttl=1) / UDP(sport=rng.choice([5000, 5001, 40000]), dport=rng.choice(PORTS))
        kind = rng.choice([(3, 3), (3, 1), (11, 0), (3, 13)])
        pkt = IP(src=WAN_HOST, dst=GW_WAN4, ttl=ttl) / ICMP(type=kind[0], code=kind[1]) / Raw(bytes(inner)[:28])
        show(f"{k} icmp error {kind}", w.from_wan(pkt, wait=0.12))
done()
