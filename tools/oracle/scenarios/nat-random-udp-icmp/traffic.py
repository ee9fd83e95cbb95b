# nat-random-udp-icmp: seeded random UDP and ICMP through MASQUERADE, with clashes and ICMP errors.
import random

from oracle import GW_WAN4, WAN4, done
from scripted import ICMP, IP, UDP, Raw, Wire, show

rng = random.Random(99173)
w = Wire()
HOSTS = [f"10.77.1.{10 + i}" for i in range(8)]
SPORTS = [5000, 5001, 5002]
SERVICES = [53, 123]
IDS = [0x100, 0x101, 0x8001]

udp_map = {}  # (host, sport, dport) -> (mapped port, the forwarded datagram's IP bytes)
icmp_map = {}  # (host, id) -> mapped id
seqs = {}

for k in range(220):
    r = rng.random()
    if r < 0.45:
        host, sport, dport = rng.choice(HOSTS), rng.choice(SPORTS), rng.choice(SERVICES)
        pkt = IP(src=host, dst=WAN4, ttl=64) / UDP(sport=sport, dport=dport) / Raw(b"u" * rng.choice([1, 20, 100]))
        got = w.from_lan(pkt, wait=0.15)
        show(f"{k} udp {host}:{sport} -> {dport}", got)
        if got is not None and got.haslayer(UDP):
            udp_map[(host, sport, dport)] = (got[UDP].sport, bytes(got[IP]))
    elif r < 0.65 and udp_map:
        key = rng.choice(sorted(udp_map))
        port, _ = udp_map[key]
        if rng.random() < 0.15:
            port = rng.choice([port + 1, 5003, 40000])  # nobody there
        pkt = IP(src=WAN4, dst=GW_WAN4, ttl=64) / UDP(sport=key[2], dport=port) / Raw(b"r" * rng.choice([4, 50]))
        show(f"{k} udp answer {key[2]} -> {port}", w.from_wan(pkt, wait=0.15))
    elif r < 0.82:
        host, ident = rng.choice(HOSTS), rng.choice(IDS)
        seq = seqs.get((host, ident), 0) + 1
        seqs[(host, ident)] = seq
        pkt = IP(src=host, dst=WAN4, ttl=64) / ICMP(type=8, id=ident, seq=seq) / Raw(b"ping")
        got = w.from_lan(pkt, wait=0.15)
        show(f"{k} echo {host} id {ident:#x} seq {seq}", got)
        if got is not None and got.haslayer(ICMP):
            icmp_map[(host, ident)] = (got[ICMP].id, seq)
    elif r < 0.92 and icmp_map:
        key = rng.choice(sorted(icmp_map))
        mapped, seq = icmp_map[key]
        pkt = IP(src=WAN4, dst=GW_WAN4, ttl=64) / ICMP(type=0, id=mapped, seq=seq) / Raw(b"ping")
        show(f"{k} echo reply id {mapped:#x}", w.from_wan(pkt, wait=0.15))
    elif udp_map:
        key = rng.choice(sorted(udp_map))
        _, quoted = udp_map[key]
        kind = rng.choice([(3, 3), (3, 3), (11, 0), (3, 1)])
        pkt = IP(src=WAN4, dst=GW_WAN4, ttl=64) / ICMP(type=kind[0], code=kind[1]) / Raw(quoted[:28 + rng.choice([0, 8, 20])])
        show(f"{k} icmp error {kind} for {key}", w.from_wan(pkt, wait=0.15))
done()
