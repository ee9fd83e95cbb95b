# mtu-random: seeded random packet sizes, DF bits and fragment trains over a 1280-byte egress MTU.
import random

from oracle import LAN4, LAN6, WAN4, WAN6, done
from scapy.all import ICMPv6EchoRequest, IPv6ExtHdrFragment
from scripted import ICMP, IP, TCP, UDP, IPv6, Raw, Wire, show

rng = random.Random(1280)
w = Wire()


def drain(k):
    extra = w.expect_wan(0.1)
    while extra is not None:
        show(f"{k} (more)", extra)
        extra = w.expect_wan(0.05)


for k in range(90):
    r = rng.random()
    size = rng.randrange(100, 1450)
    if r < 0.45:
        df = "DF" if rng.random() < 0.5 else 0
        kind = rng.choice(["udp", "tcp", "icmp"])
        if kind == "udp":
            pkt = IP(src=LAN4, dst=WAN4, flags=df, id=k) / UDP(sport=45000 + k % 5, dport=9000) / Raw(b"u" * size)
        elif kind == "tcp":
            pkt = IP(src=LAN4, dst=WAN4, flags=df, id=k) / TCP(sport=46000 + k, dport=80, flags="S", seq=k) / Raw(b"t" * size)
        else:
            pkt = IP(src=LAN4, dst=WAN4, flags=df, id=k) / ICMP(type=8, id=0x500 + k % 3, seq=k) / Raw(b"i" * size)
        show(f"{k} v4 {kind} {size} {df}", w.from_lan(pkt, wait=0.1))
        drain(k)
    elif r < 0.7:
        if rng.random() < 0.5:
            pkt = IPv6(src=LAN6, dst=WAN6) / UDP(sport=47000 + k % 5, dport=9000) / Raw(b"v" * size)
        else:
            pkt = IPv6(src=LAN6, dst=WAN6) / ICMPv6EchoRequest(id=0x600 + k % 3, seq=k, data=b"e" * size)
        show(f"{k} v6 {size}", w.from_lan(pkt, wait=0.1))
        drain(k)
    else:
        v6 = rng.random() < 0.4
        total = rng.randrange(1500, 4000)
        piece = 8 * rng.randrange(60, 180)
        payload = b"f" * total
        if v6:
            whole = bytes(IPv6(bytes(IPv6(src=LAN6, dst=WAN6) / UDP(sport=48000 + k, dport=9000) / Raw(payload))).payload)
            frags, off = [], 0
            while off < len(whole):
                ln = min(piece, len(whole) - off)
                frags.append(IPv6(src=LAN6, dst=WAN6, nh=44) / IPv6ExtHdrFragment(nh=17, offset=off // 8, m=1 if off + ln < len(whole) else 0, id=0x7000 + k) / Raw(whole[off : off + ln]))
                off += ln
        else:
            df = "DF" if rng.random() < 0.3 else 0
            whole = bytes(IP(bytes(IP(src=LAN4, dst=WAN4) / UDP(sport=49000 + k, dport=9000) / Raw(payload))).payload)
            frags, off = [], 0
            while off < len(whole):
                ln = min(piece, len(whole) - off)
                more = off + ln < len(whole)
                fl = ("MF" if more else 0)
                if df and rng.random() < 0.5:
                    fl = "DF+MF" if more else "DF"
                frags.append(IP(src=LAN4, dst=WAN4, id=0x7000 + k, flags=fl, frag=off // 8, proto=17) / Raw(whole[off : off + ln]))
                off += ln
        for j, f in enumerate(frags):
            show(f"{k} {'v6' if v6 else 'v4'} frag {j + 1}/{len(frags)} piece {piece}", w.from_lan(f, wait=0.03))
        drain(k)
done()
