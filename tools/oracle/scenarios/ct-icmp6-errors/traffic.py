# ct-icmp6-errors: ICMPv6 errors RELATED to tracked IPv6 flows, NATed and not.
from oracle import GW_WAN6, WAN6, done
from scripted import UDP, IPv6, Raw, TcpFlow, Wire, show
from scapy.all import ICMPv6DestUnreach, ICMPv6EchoRequest, ICMPv6PacketTooBig, ICMPv6ParamProblem, ICMPv6TimeExceeded

w = Wire()
NAT, PLAIN = "fd77:1::2", "fd77:1::3"


def quote(frame, limit=1232):
    return bytes(frame[IPv6])[:limit]


def err(dst, icmp, quoted):
    return w.from_wan(IPv6(src=WAN6, dst=dst, hlim=64) / icmp / quoted)


# 1. UDP from the NATed host, port unreachable from wan
out = w.from_lan(IPv6(src=NAT, dst=WAN6, hlim=64) / UDP(sport=60001, dport=9999) / Raw(b"v6 udp probe"))
show("1 udp", out)
show("1 port unreachable", err(GW_WAN6, ICMPv6DestUnreach(code=4), quote(out)))

# 2. TCP SYN from the plain host, administratively prohibited
f = TcpFlow(w, 60002, 8000, v6=True, src=PLAIN)
syn = f.c("S", 424242, win=64240)
show("2 syn", syn)
show("2 admin prohibited", err(PLAIN, ICMPv6DestUnreach(code=1), quote(syn)))

# 3. echo request from the NATed host, time exceeded
out = w.from_lan(IPv6(src=NAT, dst=WAN6, hlim=64) / ICMPv6EchoRequest(id=0x6363, seq=1, data=b"v6 ping"))
show("3 echo", out)
show("3 time exceeded", err(GW_WAN6, ICMPv6TimeExceeded(code=0), quote(out)))

# 4. TCP from the NATed host: handshake, a big data segment, packet too big (MTU 1280) from wan
f = TcpFlow(w, 60004, 8000, v6=True, src=NAT)
show("4 SYN", f.c("S", 100, win=64240))
show("4 SYN/ACK", f.s("SA", 900, 101, win=65160))
show("4 ACK", f.c("A", 101, 901, win=64240))
big = f.c("PA", 101, 901, data=b"B" * 1300, win=64240)
show("4 data", big)
show("4 packet too big", err(GW_WAN6, ICMPv6PacketTooBig(mtu=1280), quote(big)))

# 5. UDP from the plain host, parameter problem (pointer at the next header field)
out = w.from_lan(IPv6(src=PLAIN, dst=WAN6, hlim=64) / UDP(sport=60005, dport=9998) / Raw(b"param"))
show("5 udp", out)
show("5 parameter problem", err(PLAIN, ICMPv6ParamProblem(code=1, ptr=6), quote(out)))

# 6. errors about flows nobody started (to the NAT address, and to the plain host)
bogus = IPv6(src=GW_WAN6, dst=WAN6, hlim=63) / UDP(sport=61000, dport=9999) / Raw(b"never sent")
show("6 unrelated error to the NAT address", err(GW_WAN6, ICMPv6DestUnreach(code=4), bytes(bogus)))
bogus = IPv6(src=PLAIN, dst=WAN6, hlim=63) / UDP(sport=61001, dport=9999) / Raw(b"never sent")
show("6 unrelated error to the plain host", err(PLAIN, ICMPv6DestUnreach(code=4), bytes(bogus)))
done()
