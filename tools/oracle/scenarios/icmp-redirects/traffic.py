# icmp-redirects: the gateway's ICMP redirects, their backoff, and nat OUTPUT dropping them.
import time

from oracle import done
from scripted import IP, UDP, Raw, Wire, show

w = Wire()
# one flow, packets 100 ms apart: a redirect for each while the backoff (20 ms << n) allows
for i in range(12):
    show(f"a{i}", w.from_lan(IP(src="10.77.1.10", dst="10.77.1.11", ttl=64) / UDP(sport=5000, dport=6000) / Raw(b"x" * 10), wait=0.05))
    time.sleep(0.05)
# a host sending to itself through the gateway
for i in range(3):
    show(f"b{i}", w.from_lan(IP(src="10.77.1.2", dst="10.77.1.2", ttl=64) / UDP(sport=5001, dport=6001) / Raw(b"y" * 10), wait=0.3))
    time.sleep(0.3)
# NATed hairpin: 10.77.1.2 -> 10.77.2.1:7000, DNAT to 10.77.1.11, MASQUERADE back into lan0
for i in range(3):
    show(f"h{i}", w.from_lan(IP(src="10.77.1.2", dst="10.77.2.1", ttl=64) / UDP(sport=5002, dport=7000) / Raw(b"h" * 10), wait=0.3))
    time.sleep(0.3)
# the gateway's own closed UDP ports, from the host that got redirects: port unreachables
for i in range(8):
    show(f"u{i}", w.from_lan(IP(src="10.77.1.10", dst="10.77.1.1", ttl=64) / UDP(sport=5003, dport=9999) / Raw(b"u" * 10), wait=0.1))
    time.sleep(0.1)
done()
