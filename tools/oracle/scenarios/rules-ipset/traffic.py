# rules-ipset: set matches and the SET target.
import time

from oracle import WAN4, done
from scripted import IP, TCP, UDP, Raw, Wire, show

w = Wire()


def udp(src, dport, dst=WAN4):
    return w.from_lan(IP(src=src, dst=dst) / UDP(sport=40000, dport=dport) / Raw(b"ipset"))


def tcp(src, dport):
    return w.from_lan(IP(src=src, dst=WAN4) / TCP(sport=40001, dport=dport, flags="S", seq=1000))


show("allow: 10.77.1.5 (accepted)", udp("10.77.1.5", 6000))
show("allow: 10.77.1.200 in the nomatch /25 (dropped)", udp("10.77.1.200", 6000))
show("return-nomatch: 10.77.1.200 (dropped)", udp("10.77.1.200", 6001))
show("return-nomatch: 10.77.1.5 (passes)", udp("10.77.1.5", 6001))
show("list:set dst,dst udp 53 (accepted)", udp("10.77.1.5", 53))
show("tcp 22 in bitmap:port (accepted)", tcp("10.77.1.5", 22))
show("tcp 80 (not in the bitmap; passes the policy)", tcp("10.77.1.5", 80))
show("tcp 81 (dropped)", tcp("10.77.1.5", 81))
show("netmask 24: 10.77.1.70 (dropped)", udp("10.77.1.70", 6005))
for i in range(3):
    show("SET --add-set seen #%d" % i, udp("10.77.1.5", 6002))
show("seen --packets-gt 2 (first test: counters 1 + 1)", udp("10.77.1.5", 6003))
show("seen --packets-gt 2 (3: dropped)", udp("10.77.1.5", 6003))
show("SET --del-set seen", udp("10.77.1.5", 6004))
show("seen after del (passes)", udp("10.77.1.5", 6003))
show("SET --add-set seen again", udp("10.77.1.5", 6002))
show("seen (2: passes)", udp("10.77.1.5", 6003))
time.sleep(2.5)
show("seen after its 2 s timeout (passes)", udp("10.77.1.5", 6003))
done()
