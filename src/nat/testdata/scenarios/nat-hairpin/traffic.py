# nat-hairpin: lan client -> gateway public address -> lan server, and back.
from oracle import GW_WAN4, GW_WAN6, LAN4, LAN6, done, lan_port
from scripted import IP, TCP, UDP, IPv6, Raw, show
import time

lan = lan_port()
SRV4, SRV6 = "10.77.1.3", "fd77:1::3"


def hop(pkt):
    lan.send(pkt)
    # the gateway's own IPv6 redirect (no sysctl turns those off) is not the forwarded packet
    def forwarded(f):
        if f.haslayer(IP):
            return f[IP].proto in (6, 17)
        return f.haslayer(IPv6) and f[IPv6].nh in (6, 17)

    got = lan.recv(match=forwarded, timeout=0.3)
    time.sleep(0.05)
    return got


# TCP: client -> 10.77.2.1:8080 comes back out of lan0 as 10.77.1.1:p -> 10.77.1.3:80
syn = hop(IP(src=LAN4, dst=GW_WAN4, ttl=64, id=7001) / TCP(sport=43000, dport=8080, flags="S", seq=100, window=1000))
show("syn", syn)
p = syn[TCP].sport
show("synack", hop(IP(src=SRV4, dst=syn[IP].src, ttl=64, id=7002) / TCP(sport=80, dport=p, flags="SA", seq=900, ack=101, window=2000)))
show("ack", hop(IP(src=LAN4, dst=GW_WAN4, ttl=64, id=7003) / TCP(sport=43000, dport=8080, flags="A", seq=101, ack=901, window=1000) / Raw(b"GET /")))

# UDP
q = hop(IP(src=LAN4, dst=GW_WAN4, ttl=64, id=7004) / UDP(sport=43001, dport=5353) / Raw(b"query"))
show("udp", q)
show("udp reply", hop(IP(src=SRV4, dst=q[IP].src, ttl=64, id=7005) / UDP(sport=53, dport=q[UDP].sport) / Raw(b"answer")))

# IPv6 TCP
syn6 = hop(IPv6(src=LAN6, dst=GW_WAN6, hlim=64) / TCP(sport=43002, dport=8080, flags="S", seq=300, window=1000))
show("syn6", syn6)
show("synack6", hop(IPv6(src=SRV6, dst=syn6[IPv6].src, hlim=64) / TCP(sport=80, dport=syn6[TCP].sport, flags="SA", seq=700, ack=301, window=2000)))
done()
