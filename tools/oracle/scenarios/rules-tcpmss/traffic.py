# rules-tcpmss: the MSS option of SYNs (and of other segments the rules reach) as TCPMSS rewrites it.
from oracle import done
from scripted import TcpFlow, Wire, show

w = Wire()
C, S = 5100000, 6100000
MSS = [("MSS", 1460), ("NOP", None), ("WScale", 7)]

# clamp to the path MTU: out wan0 (1400) and back towards lan0 (1500) -> 1360 both ways
f = TcpFlow(w, 47001, 8001)
show("SYN mss 1460 (clamped)", f.c("S", C, options=MSS))
show("SYN/ACK mss 1460 (clamped)", f.s("SA", S, C + 1, options=MSS))
show("ACK", f.c("A", C + 1, S + 1))
show("data", f.c("PA", C + 1, S + 1, data=b"tcpmss"))
show("ack", f.s("A", S + 1, C + 7))

# a route with an mtu metric of 1300 -> 1260
f = TcpFlow(w, 47002, 8001, dst="10.77.2.3")
show("SYN via the mtu 1300 route", f.c("S", C, options=MSS))

# --set-mss 1200 on every segment to port 8002 (no --syn in the rule)
f = TcpFlow(w, 47003, 8002)
show("SYN mss 1460 -> 1200", f.c("S", C, options=MSS))
show("SYN/ACK (not matched)", f.s("SA", S, C + 1, options=MSS))
show("ACK without options: an MSS option (536) is inserted", f.c("A", C + 1, S + 1))
show("data: left alone", f.c("PA", C + 1, S + 1, data=b"payload"))
show("ack", f.s("A", S + 1, C + 8))
show("SYN retransmission with mss 1100: never raised", f.c("S", C, options=[("MSS", 1100)]))

# --set-mss 1400 on SYNs to port 8003
f = TcpFlow(w, 47004, 8003)
show("SYN without options: MSS 536 inserted", f.c("S", C))
f = TcpFlow(w, 47005, 8003)
show("SYN mss 500: kept", f.c("S", C, options=[("MSS", 500)]))
f = TcpFlow(w, 47006, 8003)
show("SYN with data and no MSS: left alone", f.c("S", C, data=b"fastopen"))
f = TcpFlow(w, 47007, 8003)
full = [("NOP", None)] * 40
show("SYN with 40 bytes of options: no room", f.c("S", C, options=full))

# IPv6: clamp to 1400 - 60 = 1340; a SYN without options gets 1220 at most
f = TcpFlow(w, 47008, 8001, v6=True)
show("v6 SYN mss 1440 (clamped)", f.c("S", C, options=[("MSS", 1440)]))
show("v6 SYN/ACK mss 1440 (clamped)", f.s("SA", S, C + 1, options=[("MSS", 1440)]))
f = TcpFlow(w, 47009, 8003, v6=True)
show("v6 SYN without options: 1220 inserted", f.c("S", C))
done()
