# reject-types: one probe per REJECT rule, v4 and v6.
from oracle import *


def probe_tcp(src, dst, sport, dport):
    try:
        tcp_connect("lan", src, sport, dst, dport, timeout=0.4).close()
    except (TimeoutError, OSError) as e:
        log("tcp", dst, dport, type(e).__name__)
    pause(0.35)


def probe_udp(src, dst, sport, dport):
    u = udp_bind("lan", src, sport)
    u.sendto(b"probe %d" % dport, (dst, dport))
    pause(0.35)
    u.close()


for fam_src, fam_dst, gw in ((LAN4, WAN4, GW_LAN4), (LAN6, WAN6, GW_LAN6)):
    probe_tcp(fam_src, fam_dst, 46001, 1001)
    probe_tcp(fam_src, fam_dst, 46002, 1002)
    for p in range(1003, 1010 if ":" not in fam_dst else 1009):
        probe_udp(fam_src, fam_dst, 46000 + p - 1000, p)
    ping("lan", fam_src, fam_dst, 0x0909, timeout=0.3)
    pause(0.35)
    probe_tcp(fam_src, gw, 46022, 22)
done()
