# nat-icmp-xlat: ICMP errors about NATed flows, as the kernel translates them.
from oracle import GW_WAN4, GW_WAN6, LAN4, LAN6, WAN4, WAN6, done
from scapy.all import ICMPv6DestUnreach, ICMPv6EchoRequest, ICMPv6PacketTooBig, ICMPv6TimeExceeded
from scripted import ICMP, IP, TCP, UDP, IPv6, Raw, Wire, show

w = Wire()
LAN4B, LAN6B = "10.77.1.3", "fd77:1::3"

# 1. UDP, then a port unreachable quoting the whole NATed datagram
out = w.from_lan(IP(src=LAN4, dst=WAN4, ttl=64, id=5001) / UDP(sport=55001, dport=9999) / Raw(b"udp probe one"))
show("udp", out)
show("port unreachable", w.from_wan(IP(src=WAN4, dst=GW_WAN4, ttl=64, id=5002) / ICMP(type=3, code=3) / bytes(out[IP])))

# 2. UDP without checksum, then a port unreachable quoting it
u = IP(src=LAN4, dst=WAN4, ttl=64, id=5003) / UDP(sport=55003, dport=9999, chksum=0) / Raw(b"no checksum")
out = w.from_lan(u)
show("udp0", out)
show("port unreachable 0", w.from_wan(IP(src=WAN4, dst=GW_WAN4, ttl=64, id=5004) / ICMP(type=3, code=3) / bytes(out[IP])))

# 3. TCP SYN, host unreachable quoting the whole SYN, then quoting only 8 bytes of TCP
syn = w.from_lan(IP(src=LAN4, dst=WAN4, ttl=64, id=5005) / TCP(sport=55005, dport=8000, flags="S", seq=1000, window=64240))
show("syn", syn)
show("host unreachable", w.from_wan(IP(src=WAN4, dst=GW_WAN4, ttl=64, id=5006) / ICMP(type=3, code=1) / bytes(syn[IP])))
show("host unreachable 28", w.from_wan(IP(src=WAN4, dst=GW_WAN4, ttl=64, id=5007) / ICMP(type=3, code=1) / bytes(syn[IP])[:28]))

# 4. echo requests with the same id from two hosts: NAT changes the second's id; time exceeded for it
a = w.from_lan(IP(src=LAN4, dst=WAN4, ttl=64, id=5008) / ICMP(type=8, id=0x4242, seq=1) / Raw(b"ping a"))
b = w.from_lan(IP(src=LAN4B, dst=WAN4, ttl=64, id=5009) / ICMP(type=8, id=0x4242, seq=1) / Raw(b"ping b"))
show("echo a", a)
show("echo b", b)
show("time exceeded b", w.from_wan(IP(src=WAN4, dst=GW_WAN4, ttl=64, id=5010) / ICMP(type=11, code=0) / bytes(b[IP])))

# 5. DNAT: wan -> gw:8080 -> lan:80; the lan host answers with a port unreachable (translated at POSTROUTING)
d = w.from_wan(IP(src=WAN4, dst=GW_WAN4, ttl=64, id=5011) / TCP(sport=40000, dport=8080, flags="S", seq=77, window=1000))
show("dnat syn", d)
show("lan error", w.from_lan(IP(src=LAN4, dst=WAN4, ttl=64, id=5012) / ICMP(type=3, code=3) / bytes(d[IP])))

# 6. an ICMP redirect about the NATed UDP flow of case 1: NAT drops it
show("redirect", w.from_wan(IP(src=WAN4, dst=GW_WAN4, ttl=64, id=5013) / ICMP(type=5, code=1, gw="10.77.2.9") / bytes(out[IP])[:28]))

# IPv6 (MASQUERADE to fd77:2::1)
out6 = w.from_lan(IPv6(src=LAN6, dst=WAN6, hlim=64) / UDP(sport=55011, dport=9999) / Raw(b"udp six"))
show("udp6", out6)
show("port unreachable6", w.from_wan(IPv6(src=WAN6, dst=GW_WAN6, hlim=64) / ICMPv6DestUnreach(code=4) / bytes(out6[IPv6])))

syn6 = w.from_lan(IPv6(src=LAN6, dst=WAN6, hlim=64) / TCP(sport=55013, dport=8000, flags="S", seq=2000, window=64240) / Raw(b"x" * 40))
show("syn6", syn6)
show("too big6", w.from_wan(IPv6(src=WAN6, dst=GW_WAN6, hlim=64) / ICMPv6PacketTooBig(mtu=1280) / bytes(syn6[IPv6])))

a6 = w.from_lan(IPv6(src=LAN6, dst=WAN6, hlim=64) / ICMPv6EchoRequest(id=0x4343, seq=1, data=b"ping a6"))
b6 = w.from_lan(IPv6(src=LAN6B, dst=WAN6, hlim=64) / ICMPv6EchoRequest(id=0x4343, seq=1, data=b"ping b6"))
show("echo a6", a6)
show("echo b6", b6)
show("time exceeded b6", w.from_wan(IPv6(src=WAN6, dst=GW_WAN6, hlim=64) / ICMPv6TimeExceeded(code=0) / bytes(b6[IPv6])))
done()
