# rules-random-v6: seeded random IPv6 traffic through the random ruleset of gen_rules.py.
import random

from oracle import done
from scripted import UDP, IPv6, Raw, TcpFlow, Wire, show
from scapy.all import TCP, ICMPv6EchoRequest, ICMPv6DestUnreach, ICMPv6TimeExceeded

rng = random.Random(6161)
w = Wire()
LAN_HOSTS = ["fd77:1::2", "fd77:1::10", "fd77:1::11"]
WAN_HOST = "fd77:2::2"
GW_WAN6 = "fd77:2::1"
PORTS = [53, 80, 443, 8080, 5000, 5001, 22]
HLIMS = [64, 64, 64, 63, 2, 1]

flows = []
for k in range(220):
    r = rng.random()
    hl = rng.choice(HLIMS)
    if r < 0.15:
        src = rng.choice(LAN_HOSTS)
        f = TcpFlow(w, rng.randrange(40000, 60000), rng.choice(PORTS), v6=True, src=src, nat_addr=GW_WAN6)
        c0, s0 = rng.randrange(1, 2**32), rng.randrange(1, 2**32)
        show(f"{k} SYN {src}", f.c("S", c0, 0, ttl=hl, options=[("MSS", 1440)], wait=0.15))
        show(f"{k} SYN/ACK", f.s("SA", s0, c0 + 1, options=[("MSS", 1440)], wait=0.15))
        show(f"{k} ACK", f.c("A", c0 + 1, s0 + 1, wait=0.15))
        flows.append([f, c0 + 1, s0 + 1])
    elif r < 0.3 and flows:
        fl = rng.choice(flows)
        f, cs, ss = fl
        if rng.random() < 0.5:
            n = rng.choice([1, 50, 300])
            flags = rng.choice(["PA", "PA", "A", "FA", "R"])
            show(f"{k} c {flags}", f.c(flags, cs, ss, data=b"c" * n if flags == "PA" else b"", ttl=hl, wait=0.15))
            if flags == "PA":
                fl[1] = (cs + n) % 2**32
        else:
            n = rng.choice([1, 100, 1000])
            flags = rng.choice(["PA", "PA", "A", "FA", "RA"])
            show(f"{k} s {flags}", f.s(flags, ss, cs, data=b"s" * n if flags == "PA" else b"", ttl=hl, wait=0.15))
            if flags == "PA":
                fl[2] = (ss + n) % 2**32
    elif r < 0.5:
        src = rng.choice(LAN_HOSTS)
        # (no LAN destinations: a packet forwarded back out of lan0 draws an IPv6 redirect, which ctnat
        # does not send)
        dst = rng.choice([WAN_HOST, WAN_HOST, "fd77:1::1", GW_WAN6])
        pkt = IPv6(src=src, dst=dst, hlim=hl) / UDP(sport=rng.choice([5000, 5001, 40000 + k]), dport=rng.choice(PORTS)) / Raw(b"u" * rng.choice([1, 30, 200, 600]))
        show(f"{k} udp {src} -> {dst}", w.from_lan(pkt, wait=0.12))
    elif r < 0.62:
        dst = rng.choice([GW_WAN6, GW_WAN6, "fd77:1::2", "fd77:1::10"])
        dport = rng.choice([8080, 5000, 5001, 80, 22])
        if rng.random() < 0.5:
            pkt = IPv6(src=WAN_HOST, dst=dst, hlim=hl) / TCP(sport=rng.randrange(30000, 40000), dport=dport, flags=rng.choice(["S", "S", "A", "R", "SA"]), seq=rng.randrange(2**32), window=1000)
        else:
            pkt = IPv6(src=WAN_HOST, dst=dst, hlim=hl) / UDP(sport=rng.randrange(30000, 40000), dport=dport) / Raw(b"w" * rng.choice([5, 100]))
        show(f"{k} wan -> {dst}:{dport}", w.from_wan(pkt, wait=0.12))
    elif r < 0.8:
        if rng.random() < 0.6:
            src = rng.choice(LAN_HOSTS)
            pkt = IPv6(src=src, dst=rng.choice([WAN_HOST, "fd77:1::1", GW_WAN6]), hlim=hl) / ICMPv6EchoRequest(id=rng.choice([1, 2, 3]), seq=k, data=b"p" * rng.choice([8, 56, 300]))
            show(f"{k} echo from {src}", w.from_lan(pkt, wait=0.12))
        else:
            pkt = IPv6(src=WAN_HOST, dst=rng.choice([GW_WAN6, "fd77:1::2"]), hlim=hl) / ICMPv6EchoRequest(id=7, seq=k, data=b"q" * 32)
            show(f"{k} echo from wan", w.from_wan(pkt, wait=0.12))
    else:
        inner = IPv6(src=GW_WAN6, dst=WAN_HOST, hlim=1) / UDP(sport=rng.choice([5000, 5001, 40000]), dport=rng.choice(PORTS))
        err = rng.choice([ICMPv6DestUnreach(code=4), ICMPv6DestUnreach(code=1), ICMPv6TimeExceeded(code=0)])
        pkt = IPv6(src=WAN_HOST, dst=GW_WAN6, hlim=hl) / err / Raw(bytes(inner)[:48])
        show(f"{k} icmp6 error", w.from_wan(pkt, wait=0.12))
done()
