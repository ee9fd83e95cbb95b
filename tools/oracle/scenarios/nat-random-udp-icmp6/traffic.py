# nat-random-udp-icmp6: seeded random UDP and ICMPv6 through IPv6 MASQUERADE, with clashes and errors.
import random

from oracle import done
from scapy.all import ICMPv6DestUnreach, ICMPv6EchoReply, ICMPv6EchoRequest, ICMPv6PacketTooBig, ICMPv6TimeExceeded
from scripted import UDP, IPv6, Raw, Wire, show

rng = random.Random(60173)
w = Wire()
HOSTS = [f"fd77:1::{10 + i}" for i in range(8)]
WAN6, GW_WAN6 = "fd77:2::2", "fd77:2::1"
SPORTS = [5000, 5001, 5002]
SERVICES = [53, 123]
IDS = [0x100, 0x101, 0x8001]

udp_map = {}
icmp_map = {}
seqs = {}

for k in range(200):
    r = rng.random()
    if r < 0.45:
        host, sport, dport = rng.choice(HOSTS), rng.choice(SPORTS), rng.choice(SERVICES)
        pkt = IPv6(src=host, dst=WAN6, hlim=64) / UDP(sport=sport, dport=dport) / Raw(b"u" * rng.choice([1, 20, 100]))
        got = w.from_lan(pkt, wait=0.15)
        show(f"{k} udp {host}:{sport} -> {dport}", got)
        if got is not None and got.haslayer(UDP):
            udp_map[(host, sport, dport)] = (got[UDP].sport, bytes(got[IPv6]))
    elif r < 0.65 and udp_map:
        key = rng.choice(sorted(udp_map))
        port, _ = udp_map[key]
        if rng.random() < 0.15:
            port = rng.choice([port + 1, 5003, 40000])
        pkt = IPv6(src=WAN6, dst=GW_WAN6, hlim=64) / UDP(sport=key[2], dport=port) / Raw(b"r" * rng.choice([4, 50]))
        show(f"{k} udp answer {key[2]} -> {port}", w.from_wan(pkt, wait=0.15))
    elif r < 0.82:
        host, ident = rng.choice(HOSTS), rng.choice(IDS)
        seq = seqs.get((host, ident), 0) + 1
        seqs[(host, ident)] = seq
        pkt = IPv6(src=host, dst=WAN6, hlim=64) / ICMPv6EchoRequest(id=ident, seq=seq, data=b"ping")
        got = w.from_lan(pkt, wait=0.15)
        show(f"{k} echo {host} id {ident:#x} seq {seq}", got)
        if got is not None and got.haslayer(ICMPv6EchoRequest):
            icmp_map[(host, ident)] = (got[ICMPv6EchoRequest].id, seq)
    elif r < 0.92 and icmp_map:
        key = rng.choice(sorted(icmp_map))
        mapped, seq = icmp_map[key]
        pkt = IPv6(src=WAN6, dst=GW_WAN6, hlim=64) / ICMPv6EchoReply(id=mapped, seq=seq, data=b"ping")
        show(f"{k} echo reply id {mapped:#x}", w.from_wan(pkt, wait=0.15))
    elif udp_map:
        key = rng.choice(sorted(udp_map))
        _, quoted = udp_map[key]
        err = rng.choice([ICMPv6DestUnreach(code=4), ICMPv6DestUnreach(code=4), ICMPv6TimeExceeded(code=0), ICMPv6PacketTooBig(mtu=1280)])
        pkt = IPv6(src=WAN6, dst=GW_WAN6, hlim=64) / err / Raw(quoted[: 48 + rng.choice([0, 8, 20])])
        show(f"{k} icmp6 error for {key}", w.from_wan(pkt, wait=0.15))
done()
