# ratelimit-global: one TTL-expired packet per source, bursts at known spacing.
import time

from scapy.all import IP, UDP, IPv6, Raw

from oracle import lan_port, log

lan = lan_port()
PAYLOAD = b"ctnat global rate probe"


def v4(n):
    return IP(src="10.77.1.%d" % n, dst="10.77.2.2", ttl=1, id=n) / UDP(sport=46000 + n, dport=33434) / Raw(PAYLOAD)


def v6(n):
    return IPv6(src="fd77:1::%x" % n, dst="fd77:2::2", hlim=1) / UDP(sport=47000 + n, dport=33434) / Raw(PAYLOAD)


log("G1 v4 x30 @2ms")
for n in range(10, 40):
    lan.send(v4(n))
    time.sleep(0.002)
time.sleep(0.5)
log("G2 v4 x40 @10ms")
for n in range(40, 80):
    lan.send(v4(n))
    time.sleep(0.01)
time.sleep(0.5)
log("G3 v6 and v4 alternating x40 @5ms")
for i in range(40):
    lan.send(v6(0x10 + i) if i % 2 == 0 else v6(0x38 + i))
    time.sleep(0.005)
time.sleep(0.3)
