# ct-fragments: IPv4 and IPv6 fragments through conntrack (and NAT for IPv4).
from oracle import LAN4, LAN6, WAN4, WAN6, done
from scripted import IP, UDP, IPv6, Raw, Wire, show
from scapy.all import IPv6ExtHdrFragment

w = Wire()


def v4_frags(ipid, sport, payload, cuts):
    """Fragments of one UDP datagram: cuts are (offset in bytes of the IP payload, length, more)."""
    # build the whole datagram once, so that the UDP checksum covers it with the right pseudo-header
    whole = bytes(IP(bytes(IP(src=LAN4, dst=WAN4) / UDP(sport=sport, dport=9000) / Raw(payload))).payload)
    out = []
    for off, ln, more in cuts:
        out.append(IP(src=LAN4, dst=WAN4, id=ipid, ttl=64, flags="MF" if more else 0, frag=off // 8, proto=17) / Raw(whole[off : off + ln]))
    return out


data = bytes(range(256)) * 8  # 2048 bytes: a UDP datagram of 2056
f1, f2 = v4_frags(0x1001, 56001, data, [(0, 1480, True), (1480, 576, False)])
show("v4 second fragment first", w.from_lan(f2, wait=0.1))
show("v4 first fragment", w.from_lan(f1, wait=0.3))
show("v4 (more forwarded)", w.expect_wan(0.3))

# the same, but the fragments carry 8 bytes less than the UDP length says: conntrack finds the
# reassembled datagram malformed (INVALID), so it is forwarded without NAT
f1, f2 = v4_frags(0x1004, 56004, data, [(0, 1480, True), (1480, 568, False)])
show("v4 short datagram, fragment 1", w.from_lan(f1, wait=0.1))
show("v4 short datagram, fragment 2", w.from_lan(f2, wait=0.3))
show("v4 (more forwarded)", w.expect_wan(0.3))

o1, o2 = v4_frags(0x1002, 56002, data[:1200], [(0, 800, True), (400, 808, False)])
show("v4 overlap 1", w.from_lan(o1, wait=0.1))
show("v4 overlap 2", w.from_lan(o2, wait=0.3))

(lone,) = v4_frags(0x1003, 56003, data[:1000], [(0, 504, True)])
show("v4 lone first fragment", w.from_lan(lone, wait=0.3))


def v6_frags(ident, sport, payload, cuts):
    udp = bytes(IPv6(bytes(IPv6(src=LAN6, dst=WAN6, hlim=64) / UDP(sport=sport, dport=9000) / Raw(payload))).payload)
    out = []
    for off, ln, more in cuts:
        out.append(
            IPv6(src=LAN6, dst=WAN6, hlim=64, nh=44)
            / IPv6ExtHdrFragment(nh=17, offset=off // 8, m=1 if more else 0, id=ident)
            / Raw(udp[off : off + ln])
        )
    return out


a, b = v6_frags(0x6001, 56011, data[:1500], [(0, 1232, True), (1232, 276, False)])
show("v6 fragment 1", w.from_lan(a, wait=0.1))
show("v6 fragment 2", w.from_lan(b, wait=0.3))
show("v6 (more forwarded)", w.expect_wan(0.3))

a, b = v6_frags(0x6002, 56012, data[:1200], [(0, 800, True), (400, 808, False)])
show("v6 overlap 1", w.from_lan(a, wait=0.1))
show("v6 overlap 2", w.from_lan(b, wait=0.3))
done()
