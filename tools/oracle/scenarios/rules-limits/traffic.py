# rules-limits: hashlimit token buckets and connlimit counts, packet by packet.
import time

from oracle import WAN4, done
from scripted import IP, UDP, Raw, TcpFlow, Wire, show

w = Wire()


def udp(src, dport, data=b"hashlimit", wait=0.15):
    return w.from_lan(IP(src=src, dst=WAN4) / UDP(sport=40000, dport=dport) / Raw(data), wait)


def at(t0, dt):
    # sleep until t0 + dt (the packets' spacing matters, not the script's own delays)
    d = t0 + dt - time.monotonic()
    if d > 0:
        time.sleep(d)


# 5/sec, burst 3, per source: 3 pass at once, then one per 0.2 s
t0 = time.monotonic()
for i, dt in enumerate((0.0, 0.02, 0.04, 0.06, 0.16, 0.4, 0.5, 0.9, 0.95)):
    at(t0, dt)
    show("udp5 from .2 #%d" % i, udp("10.77.1.2", 5000, wait=0))
    if i == 3:
        show("udp5 from .3 (its own bucket)", udp("10.77.1.3", 5000, wait=0))
time.sleep(0.3)
w.wan.drain()

# bytes mode: 1 kb/s per destination port (one 1 KiB bucket; each packet costs (len >> 4) + 1 chunks)
t0 = time.monotonic()
for i, dt in enumerate((0.0, 0.02, 0.04, 0.06, 0.5, 1.2)):
    at(t0, dt)
    show("bytes #%d" % i, udp("10.77.1.2", 5001, data=b"x" * 300, wait=0))
time.sleep(0.3)
w.wan.drain()

# connlimit: at most 2 connections per /24 to port 8080
C, S = 3100000, 4100000
flows = []
for i, src in enumerate(("10.77.1.2", "10.77.1.3", "10.77.1.4")):
    f = TcpFlow(w, 45000 + i, 8080, src=src, nat_addr=src)
    show("SYN from %s" % src, f.c("S", C))
    show("SYN/ACK", f.s("SA", S, C + 1))
    show("ACK", f.c("A", C + 1, S + 1))
    flows.append(f)
# the wan host resets the first connection: it no longer counts
show("RST from wan", flows[0].s("RA", S + 1, C + 1))
f = TcpFlow(w, 45010, 8080, src="10.77.1.5", nat_addr="10.77.1.5")
show("SYN after a reset", f.c("S", C))
show("SYN/ACK", f.s("SA", S, C + 1))
show("ACK", f.c("A", C + 1, S + 1))
# closing one: FIN both ways, the entry goes to TIME_WAIT and stops counting
g = flows[1]
show("FIN", g.c("FA", C + 1, S + 1))
show("FIN/ACK", g.s("FA", S + 1, C + 2))
show("ACK", g.c("A", C + 2, S + 2))
f = TcpFlow(w, 45011, 8080, src="10.77.1.6", nat_addr="10.77.1.6")
show("SYN after a close", f.c("S", C))
f = TcpFlow(w, 45012, 8080, src="10.77.1.7", nat_addr="10.77.1.7")
show("SYN over the limit", f.c("S", C))
done()
