# ct-checksums-options: zero and wrong checksums, IPv4 options, ICMP timestamp, through NAT.
from oracle import GW_WAN4, LAN4, LAN6, WAN4, WAN6, done
from scripted import ICMP, IP, TCP, UDP, IPv6, Raw, Wire, show
from scapy.all import IPOption_RR, IPOption_Timestamp

w = Wire()


def lan(pkt):
    return w.from_lan(pkt)


def wan(pkt):
    return w.from_wan(pkt)


# 1. UDP with checksum 0 (no checksum) both ways
show("udp zero checksum", lan(IP(src=LAN4, dst=WAN4, ttl=64) / UDP(sport=48101, dport=5001, chksum=0) / Raw(b"no checksum")))
show("udp zero checksum answer", wan(IP(src=WAN4, dst=GW_WAN4, ttl=64) / UDP(sport=5001, dport=48101, chksum=0) / Raw(b"none here either")))

# 2. wrong checksums: INVALID, dropped
show("udp wrong checksum", lan(IP(src=LAN4, dst=WAN4, ttl=64) / UDP(sport=48102, dport=5001, chksum=0x1234) / Raw(b"bad")))
show("tcp SYN wrong checksum", lan(IP(src=LAN4, dst=WAN4, ttl=64) / TCP(sport=48103, dport=8000, flags="S", seq=1, chksum=0x1234)))
show("icmp echo wrong checksum", lan(IP(src=LAN4, dst=WAN4, ttl=64) / ICMP(type=8, id=0x4811, seq=1, chksum=0x1234) / Raw(b"bad")))

# 3. IPv6 UDP with checksum 0 (not allowed in IPv6)
show("v6 udp zero checksum", lan(IPv6(src=LAN6, dst=WAN6, hlim=64) / UDP(sport=48104, dport=5001, chksum=0) / Raw(b"v6 none")))

# 4. IPv4 options: record route (room for 3 addresses), and a timestamp option whose length (20)
#    overruns the 12 option bytes the header has (malformed: parameter problem from the gateway).
#    A well-formed timestamp option is left out: the gateway would write its clock into it.
show("udp with record route", lan(IP(src=LAN4, dst=WAN4, ttl=64, options=[IPOption_RR(routers=["0.0.0.0"] * 3)]) / UDP(sport=48105, dport=5001) / Raw(b"record route")))
show("udp with timestamp option", lan(IP(src=LAN4, dst=WAN4, ttl=64, options=[IPOption_Timestamp(flg=1, length=20, pointer=5)]) / UDP(sport=48106, dport=5001) / Raw(b"timestamp")))

# 5. ICMP timestamp request and reply
show("icmp timestamp request", lan(IP(src=LAN4, dst=WAN4, ttl=64) / ICMP(type=13, id=0x4812, seq=1, ts_ori=1000, ts_rx=0, ts_tx=0)))
show("icmp timestamp reply", wan(IP(src=WAN4, dst=GW_WAN4, ttl=64) / ICMP(type=14, id=0x4812, seq=1, ts_ori=1000, ts_rx=2000, ts_tx=2001)))
done()
