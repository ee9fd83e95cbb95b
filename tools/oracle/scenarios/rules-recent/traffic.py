# rules-recent: xt_recent tables driven packet by packet.
import time

from oracle import LAN4, WAN4, done
from scripted import IP, UDP, Raw, TcpFlow, Wire, show

w = Wire()
C = 7100000


def udp(src, dport, ttl=64, dst=WAN4, sport=40000, wait=0.3):
    return w.from_lan(IP(src=src, dst=dst, ttl=ttl) / UDP(sport=sport, dport=dport) / Raw(b"recent"), wait)


# SSH brute force: the third new connection within 2 s is dropped
for i in range(4):
    f = TcpFlow(w, 46000 + i, 22, nat_addr=LAN4)
    show("ssh SYN %d" % (i + 1), f.c("S", C))
time.sleep(2.5)
f = TcpFlow(w, 46010, 22, nat_addr=LAN4)
show("ssh SYN after the window", f.c("S", C))

# --rttl: the TTL before forwarding must equal the one recorded
show("T set ttl 64", udp(LAN4, 5000, ttl=64))
show("T rcheck ttl 64 (dropped)", udp(LAN4, 5001, ttl=64))
show("T rcheck ttl 50 (passes)", udp(LAN4, 5001, ttl=50))

# 100 addresses at most: the 101st evicts the least recently seen
for i in range(101):
    udp("10.77.1.%d" % (100 + i), 5010, sport=41000 + i, wait=0)
time.sleep(0.3)
w.wan.drain()
show("many: evicted 10.77.1.100 (passes)", udp("10.77.1.100", 5011))
show("many: 10.77.1.101 (dropped)", udp("10.77.1.101", 5011))
show("many: 10.77.1.200 (dropped)", udp("10.77.1.200", 5011))

# --rdest with a /24 mask
show("dst set 10.77.2.2", udp(LAN4, 5020))
show("dst rcheck 10.77.2.9 in the same /24 (dropped)", udp(LAN4, 5021, dst="10.77.2.9"))

# --remove forgets the address
show("T remove", udp(LAN4, 5030))
show("T rcheck after remove (passes)", udp(LAN4, 5001, ttl=64))

# --reap with --seconds 1
show("R set 10.77.1.5", udp("10.77.1.5", 5040))
show("R set 10.77.1.6", udp("10.77.1.6", 5040))
show("R rcheck 10.77.1.6 (dropped)", udp("10.77.1.6", 5041))
time.sleep(1.5)
show("R rcheck 10.77.1.6 after 1.5 s (passes; reaps 10.77.1.5)", udp("10.77.1.6", 5041))
show("R ! --rcheck 10.77.1.5 (gone: dropped)", udp("10.77.1.5", 5050))
show("R ! --rcheck 10.77.1.6 (known: passes)", udp("10.77.1.6", 5050))
done()
