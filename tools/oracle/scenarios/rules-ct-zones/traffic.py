# rules-ct-zones: the same tuples in several conntrack zones, through MASQUERADE.
from oracle import GW_WAN4, LAN4, WAN4, done, log
from scripted import ICMP, IP, TCP, UDP, Raw, TcpFlow, Wire, show

w = Wire()


def lan_udp(ttl, sport=4000, dport=53, data=b"zone?"):
    return w.from_lan(IP(src=LAN4, dst=WAN4, ttl=ttl) / UDP(sport=sport, dport=dport) / Raw(data))


def wan_udp(dport, sport=53, data=b"answer"):
    return w.from_wan(IP(src=WAN4, dst=GW_WAN4) / UDP(sport=sport, dport=dport) / Raw(data))


ports = []
for ttl in (64, 50, 40):
    got = lan_udp(ttl)
    show("udp ttl %d" % ttl, got)
    ports.append(got[UDP].sport if got is not None else 4000)
log("masquerade ports", ports)
for p in ports:
    show("reply to %d" % p, wan_udp(p))

# an ICMP port unreachable about the zone-orig 1 flow (found in the reply direction's default zone)
quote = IP(src=GW_WAN4, dst=WAN4, ttl=63) / UDP(sport=ports[1], dport=53) / Raw(b"zone?")
err = IP(src=WAN4, dst=GW_WAN4) / ICMP(type=3, code=3) / bytes(quote)
show("icmp port unreachable for zone-orig 1", w.from_wan(err))

# TCP: the default zone and zone 3 (both directions) may share the NAT port
f0 = TcpFlow(w, 4100, 80)
show("tcp SYN ttl 64", f0.c("S", 8100000))
f3 = TcpFlow(w, 4100, 80)
show("tcp SYN ttl 50 (zone 3)", f3.c("S", 8100000, ttl=50))
show("SYN/ACK (default zone)", f0.s("SA", 9100000, 8100001))
show("ACK ttl 64", f0.c("A", 8100001, 9100001))

# a zone from the mark: 0x10005 -> zone 5
got = lan_udp(64, sport=4200, dport=6000)
show("udp to 6000 (zone 5 from the mark)", got)
show("its reply (default zone: a new connection to the gateway)", wan_udp(got[UDP].sport if got is not None else 4200, sport=6000))
done()
