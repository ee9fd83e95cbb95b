# ct-random-fragments: seeded random fragment trains, IPv4 (masqueraded) and IPv6.
import random

from oracle import GW_WAN4, LAN4, LAN6, WAN4, WAN6, done
from scapy.all import IPv6ExtHdrFragment
from scripted import IP, UDP, IPv6, Raw, Wire, show

rng = random.Random(31337)
w = Wire()


def cuts_for(total):
    """random fragment boundaries over `total` bytes of IP payload (multiples of 8 but the last)"""
    pos, out = 0, []
    while pos < total:
        ln = min(total - pos, 8 * rng.randrange(8, 180))
        out.append((pos, ln, pos + ln < total))
        pos += ln
    return out


def v4_train(ipid, sport, payload):
    whole = bytes(IP(bytes(IP(src=LAN4, dst=WAN4) / UDP(sport=sport, dport=9000) / Raw(payload))).payload)
    return [
        IP(src=LAN4, dst=WAN4, id=ipid, ttl=64, flags="MF" if more else 0, frag=off // 8, proto=17) / Raw(whole[off : off + ln])
        for off, ln, more in cuts_for(len(whole))
    ], whole


def v6_train(ident, sport, payload):
    whole = bytes(IPv6(bytes(IPv6(src=LAN6, dst=WAN6, hlim=64) / UDP(sport=sport, dport=9000) / Raw(payload))).payload)
    return [
        IPv6(src=LAN6, dst=WAN6, hlim=64, nh=44) / IPv6ExtHdrFragment(nh=17, offset=off // 8, m=1 if more else 0, id=ident) / Raw(whole[off : off + ln])
        for off, ln, more in cuts_for(len(whole))
    ], whole


for k in range(70):
    v6 = rng.random() < 0.4
    sport = 40000 + k
    payload = bytes(rng.randrange(256) for _ in range(rng.randrange(100, 2800)))
    frags, whole = (v6_train if v6 else v4_train)(0x3000 + k, sport, payload)
    r = rng.random()
    if r < 0.2:
        rng.shuffle(frags)
    elif r < 0.35 and len(frags) > 1:
        frags.append(frags[rng.randrange(len(frags))])  # a duplicate
    elif r < 0.45 and len(frags) > 1:
        del frags[rng.randrange(len(frags))]  # one never comes
    elif r < 0.55 and len(frags) > 1:
        # an overlap: a fragment that starts 8 bytes before its place
        i = rng.randrange(1, len(frags))
        f = frags[i]
        if v6:
            off = f[IPv6ExtHdrFragment].offset * 8 - 8
            data = whole[off : off + len(f[Raw].load) + 8]
            frags[i] = IPv6(src=LAN6, dst=WAN6, hlim=64, nh=44) / IPv6ExtHdrFragment(nh=17, offset=off // 8, m=f[IPv6ExtHdrFragment].m, id=0x3000 + k) / Raw(data)
        else:
            off = f[IP].frag * 8 - 8
            data = whole[off : off + len(f[Raw].load) + 8]
            frags[i] = IP(src=LAN4, dst=WAN4, id=0x3000 + k, ttl=64, flags=f[IP].flags, frag=off // 8, proto=17) / Raw(data)
    for j, f in enumerate(frags):
        show(f"{k} {'v6' if v6 else 'v4'} frag {j + 1}/{len(frags)}", w.from_lan(f, wait=0.05))
    extra = w.expect_wan(0.2)
    while extra is not None:
        show(f"{k} (forwarded)", extra)
        extra = w.expect_wan(0.1)
    if not v6 and rng.random() < 0.5:
        ans = IP(src=WAN4, dst=GW_WAN4, ttl=64) / UDP(sport=9000, dport=sport) / Raw(b"ok")
        show(f"{k} answer", w.from_wan(ans, wait=0.2))
done()
