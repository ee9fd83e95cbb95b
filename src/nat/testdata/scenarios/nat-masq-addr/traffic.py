# nat-masq-addr: one UDP datagram per destination; MASQUERADE picks the source address for each.
from oracle import LAN4, LAN6, done
from scripted import IP, UDP, IPv6, Raw, Wire

w = Wire()
n = 0
for d in ("10.77.2.2", "10.77.2.9", "10.77.5.9", "10.77.8.8", "10.77.7.7"):
    n += 1
    w.from_lan(IP(src=LAN4, dst=d, ttl=64, id=n) / UDP(sport=41000 + n, dport=7000) / Raw(b"m"), wait=0)
for d in ("fd77:2::2", "fd77:2::9", "2001:db8:2::2", "2001:db8:9::9", "fd77:9::9", "2001:db8:77::1", "fdff::1"):
    n += 1
    w.from_lan(IPv6(src=LAN6, dst=d, hlim=64) / UDP(sport=41000 + n, dport=7000) / Raw(b"m"), wait=0)
done()
