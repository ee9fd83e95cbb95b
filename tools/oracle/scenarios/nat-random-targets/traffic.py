# nat-random-targets: seeded random traffic through NAT targets with ranges and options.
import random

from oracle import GW_WAN4, done
from scripted import ICMP, IP, TCP, UDP, Raw, Wire, show

rng = random.Random(4711)
w = Wire()
LAN = ["10.77.1.2", "10.77.1.8", "10.77.1.9", "10.77.1.10", "10.77.1.11", "10.77.1.3"]
WAN = "10.77.2.2"
seen = {}  # (proto, lan host, sport, dport) -> (mapped addr, mapped port, forwarded IP bytes)

for k in range(120):
    r = rng.random()
    if r < 0.45:
        host = rng.choice(LAN)
        proto = rng.choice(["udp", "udp", "tcp", "icmp"])
        sport = rng.choice([1000, 1001, 1002, 33000 + (k % 7)])
        dport = rng.choice([53, 80, 443])
        if proto == "udp":
            pkt = IP(src=host, dst=WAN) / UDP(sport=sport, dport=dport) / Raw(b"u" * 12)
        elif proto == "tcp":
            pkt = IP(src=host, dst=WAN) / TCP(sport=sport, dport=dport, flags="S", seq=rng.randrange(2**32), window=1000)
        else:
            sport = rng.choice([0x100, 0x101])
            pkt = IP(src=host, dst=WAN) / ICMP(type=8, id=sport, seq=k) / Raw(b"ping")
        got = w.from_lan(pkt, wait=0.12)
        show(f"{k} {proto} {host}:{sport} -> {dport}", got)
        if got is not None and got.haslayer(IP):
            ip = got[IP]
            port = ip[UDP].sport if proto == "udp" and got.haslayer(UDP) else ip[TCP].sport if proto == "tcp" and got.haslayer(TCP) else ip[ICMP].id if got.haslayer(ICMP) else 0
            seen[(proto, host, sport, dport)] = (ip.src, port, bytes(ip))
    elif r < 0.65 and seen:
        key = rng.choice(sorted(seen))
        proto, host, sport, dport = key
        addr, port, _ = seen[key]
        if proto == "udp":
            pkt = IP(src=WAN, dst=addr) / UDP(sport=dport, dport=port) / Raw(b"r" * 8)
        elif proto == "tcp":
            pkt = IP(src=WAN, dst=addr) / TCP(sport=dport, dport=port, flags=rng.choice(["SA", "R", "A"]), seq=rng.randrange(2**32), ack=rng.randrange(2**32), window=1000)
        else:
            pkt = IP(src=WAN, dst=addr) / ICMP(type=0, id=port, seq=1) / Raw(b"ping")
        show(f"{k} answer {proto} -> {addr}:{port}", w.from_wan(pkt, wait=0.12))
    elif r < 0.85:
        dst = rng.choice([GW_WAN4, GW_WAN4, "10.77.2.100", "10.77.2.101", "10.77.2.102"])
        dport = rng.choice([8000, 8003, 8009, 7000, 22])
        sport = rng.choice([30000, 30001, 30002])
        if rng.random() < 0.5:
            pkt = IP(src=WAN, dst=dst) / UDP(sport=sport, dport=dport) / Raw(b"w" * 10)
        else:
            pkt = IP(src=WAN, dst=dst) / TCP(sport=sport, dport=dport, flags="S", seq=rng.randrange(2**32), window=1000)
        show(f"{k} wan -> {dst}:{dport}", w.from_wan(pkt, wait=0.12))
    elif seen:
        key = rng.choice(sorted(seen))
        addr, port, quoted = seen[key]
        pkt = IP(src=WAN, dst=addr) / ICMP(type=3, code=rng.choice([3, 1, 13])) / Raw(quoted[:28])
        show(f"{k} icmp error for {key}", w.from_wan(pkt, wait=0.12))
done()
