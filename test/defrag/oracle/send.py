#!/usr/bin/python3
"""Fragment scenarios for the defrag oracle: run inside the lan namespace.

Every scenario sends hand-made fragments of one UDP datagram (or one ICMP echo) to the wan host
through the gateway, using its own IP id / fragment id and UDP port so the captures can be split
afterwards. Usage: send.py GW_MAC [scenario ...]
"""
import struct
import sys
import time

from scapy.all import IP, UDP, IPv6, Ether, Raw, sendp, IPv6ExtHdrFragment, IPv6ExtHdrDestOpt, conf

conf.verb = 0
GW_MAC = sys.argv[1]
SRC4, DST4 = "10.88.1.2", "10.88.2.2"
SRC6, DST6 = "fd88:1::2", "fd88:2::2"
IFACE = "eth0"


def udp_payload(n, seed):
    return bytes((seed + i * 7) & 0xFF for i in range(n))


def v4_datagram(port, n, seed=1):
    """bytes of the whole UDP datagram (header + data) with a correct checksum."""
    p = IP(src=SRC4, dst=DST4) / UDP(sport=port, dport=port) / Raw(udp_payload(n, seed))
    p = IP(bytes(p))
    return bytes(p[UDP])


def v6_datagram(port, n, seed=1):
    p = IPv6(src=SRC6, dst=DST6) / UDP(sport=port, dport=port) / Raw(udp_payload(n, seed))
    p = IPv6(bytes(p))
    return bytes(p[UDP])


def send4(ident, data, pieces, ttl=64, tos=0, df=False, options=b"", proto=17, ttls=None, toss=None, dfs=None):
    """pieces: list of (offset, length, mf) in bytes of `data` (the IP payload)."""
    for k, (off, ln, mf) in enumerate(pieces):
        flags = (2 if (dfs[k] if dfs else df) else 0) | (1 if mf else 0)
        ip = IP(src=SRC4, dst=DST4, id=ident, flags=flags, frag=off // 8, proto=proto,
                ttl=(ttls[k] if ttls else ttl), tos=(toss[k] if toss else tos),
                options=(options if off == 0 else b""))
        sendp(Ether(dst=GW_MAC) / ip / Raw(data[off:off + ln]), iface=IFACE)
        time.sleep(0.02)


def send6(ident, data, pieces, hlim=64, ext_before=None, tc=0, nh=17):
    for off, ln, mf in pieces:
        base = IPv6(src=SRC6, dst=DST6, hlim=hlim, tc=tc)
        if ext_before is not None:
            base = base / ext_before
        pkt = base / IPv6ExtHdrFragment(nh=nh, offset=off // 8, m=1 if mf else 0, id=ident) / Raw(data[off:off + ln])
        sendp(Ether(dst=GW_MAC) / pkt, iface=IFACE)
        time.sleep(0.02)


def even(n, size):
    """split n bytes into pieces of `size` (the last one shorter)."""
    out = []
    off = 0
    while off < n:
        ln = min(size, n - off)
        out.append((off, ln, off + ln < n))
        off += ln
    return out


S = {}

# --- IPv4 ---
S["v4-even"] = lambda: send4(101, v4_datagram(7101, 2992), even(3000, 1000))
S["v4-uneven"] = lambda: send4(102, v4_datagram(7102, 2992), [(0, 400, True), (400, 1400, True), (1800, 1200, False)])
S["v4-big-slowpath"] = lambda: send4(103, v4_datagram(7103, 3992), even(4000, 2000))
S["v4-df-fits"] = lambda: send4(104, v4_datagram(7104, 2992), even(3000, 1000), df=True)
S["v4-df-too-big"] = lambda: send4(105, v4_datagram(7105, 3992), even(4000, 2000), df=True)
S["v4-df-mixed"] = lambda: send4(106, v4_datagram(7106, 2992), even(3000, 1000), dfs=[True, False, True])
S["v4-reorder-dup"] = lambda: send4(107, v4_datagram(7107, 2992), [(1000, 1000, True), (0, 1000, True), (1000, 1000, True), (2000, 1000, False)])
S["v4-overlap-tail"] = lambda: send4(108, v4_datagram(7108, 2992), [(0, 1000, True), (992, 1008, True), (1000, 1000, True), (2000, 1000, False)])
S["v4-overlap-middle"] = lambda: send4(109, v4_datagram(7109, 2992), [(0, 1000, True), (2000, 1000, False), (504, 1000, True), (1000, 1000, True)])
S["v4-dup-inside-run"] = lambda: send4(110, v4_datagram(7110, 2992), [(0, 1000, True), (1000, 1000, True), (504, 800, True), (2000, 1000, False)])
S["v4-tiny-first"] = lambda: send4(111, v4_datagram(7111, 2992), [(0, 8, True), (8, 1992, True), (2000, 1000, False)])
S["v4-odd-mf"] = lambda: send4(112, v4_datagram(7112, 2992), [(0, 1001, True), (1000, 2000, False)])
S["v4-ttl-tos"] = lambda: send4(113, v4_datagram(7113, 2992), even(3000, 1000), ttls=[64, 5, 200], toss=[0x01, 0x02, 0x01])
S["v4-ecn-ce"] = lambda: send4(114, v4_datagram(7114, 2992), even(3000, 1000), toss=[0x02, 0x03, 0x02])
S["v4-ecn-bad"] = lambda: send4(115, v4_datagram(7115, 2992), even(3000, 1000), toss=[0x00, 0x03, 0x00])
S["v4-last-first"] = lambda: send4(116, v4_datagram(7116, 2992), [(2000, 1000, False), (1000, 1000, True), (0, 1000, True)])
S["v4-options"] = lambda: send4(117, v4_datagram(7117, 2992), even(3000, 1000), options=b"\x94\x04\x00\x00\x01\x01\x01\x00")
S["v4-second-last"] = lambda: send4(118, v4_datagram(7118, 2992), [(0, 1000, True), (2000, 1000, False), (1000, 1000, True), (1000, 2000, False)])
S["v4-first-only"] = lambda: send4(119, v4_datagram(7119, 2992), [(0, 1000, True)])
S["v4-zero-len"] = lambda: send4(120, v4_datagram(7120, 2992), [(0, 1000, True), (1000, 0, True), (1000, 1000, True), (2000, 1000, False)])

# --- IPv6 ---
S["v6-even"] = lambda: send6(0x60001, v6_datagram(7601, 2992), even(3000, 1000))
S["v6-uneven"] = lambda: send6(0x60002, v6_datagram(7602, 2992), [(0, 400, True), (400, 1400, True), (1800, 1200, False)])
S["v6-big"] = lambda: send6(0x60003, v6_datagram(7603, 3992), even(4000, 2000))
S["v6-reorder-dup"] = lambda: send6(0x60004, v6_datagram(7604, 2992), [(1000, 1000, True), (0, 1000, True), (1000, 1000, True), (2000, 1000, False)])
S["v6-overlap"] = lambda: send6(0x60005, v6_datagram(7605, 2992), [(0, 1000, True), (992, 1008, True), (1000, 1000, True), (2000, 1000, False)])
S["v6-odd-mf"] = lambda: send6(0x60006, v6_datagram(7606, 2992), [(0, 1001, True), (1000, 2000, False)])
S["v6-short-first"] = lambda: send6(0x60007, v6_datagram(7607, 2992), [(0, 4, True), (0, 1000, True), (1000, 2000, False)])
S["v6-destopt"] = lambda: send6(0x60008, v6_datagram(7608, 2992), even(3000, 1000), ext_before=IPv6ExtHdrDestOpt())
S["v6-atomic"] = lambda: send6(0x60009, v6_datagram(7609, 92), [(0, 100, False)])
S["v6-first-only"] = lambda: send6(0x6000A, v6_datagram(7610, 2992), [(0, 1000, True)])
S["v6-ecn-ce"] = lambda: [send6(0x6000B, v6_datagram(7611, 2992), [p], tc=t) for p, t in zip(even(3000, 1000), [2, 3, 2])]
S["v6-second-last"] = lambda: send6(0x6000C, v6_datagram(7612, 2992), [(0, 1000, True), (2000, 1000, False), (1000, 1000, True), (1000, 2000, False)])

if __name__ == "__main__":
    names = sys.argv[2:] or list(S)
    for n in names:
        S[n]()
        time.sleep(0.3)
