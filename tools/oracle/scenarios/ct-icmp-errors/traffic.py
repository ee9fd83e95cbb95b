# ct-icmp-errors: errors RELATED to tracked flows, and one that is not.
from oracle import GW_WAN4, LAN4, WAN4, done
from scripted import ICMP, IP, TCP, UDP, Raw, TcpFlow, Wire, show

w = Wire()

# UDP flow, then a port unreachable quoting the NATed datagram
out = w.from_lan(IP(src=LAN4, dst=WAN4, ttl=64, id=4001) / UDP(sport=55001, dport=9999) / Raw(b"udp probe"))
show("udp", out)
q = out[IP]
show("port unreachable", w.from_wan(IP(src=WAN4, dst=GW_WAN4, ttl=64, id=4002) / ICMP(type=3, code=3) / bytes(q)))

# TCP SYN, then host unreachable from a router-like source (the wan host) quoting the first 8 bytes
f = TcpFlow(w, 55002, 8000)
syn = f.c("S", 123456, win=64240)
show("syn", syn)
quoted = bytes(syn[IP])[:28]
show("host unreachable", w.from_wan(IP(src=WAN4, dst=GW_WAN4, ttl=64, id=4003) / ICMP(type=3, code=1) / quoted))

# echo request, then time exceeded quoting it
out = w.from_lan(IP(src=LAN4, dst=WAN4, ttl=64, id=4004) / ICMP(type=8, id=0x4242, seq=1) / Raw(b"ping"))
show("echo", out)
show("time exceeded", w.from_wan(IP(src=WAN4, dst=GW_WAN4, ttl=64, id=4005) / ICMP(type=11, code=0) / bytes(out[IP])))

# an error about a flow nobody started
bogus = IP(src=GW_WAN4, dst=WAN4, ttl=63, id=4006) / UDP(sport=61000, dport=9999) / Raw(b"never sent")
show("unrelated error", w.from_wan(IP(src=WAN4, dst=GW_WAN4, ttl=64, id=4007) / ICMP(type=3, code=3) / bytes(bogus)))
done()
