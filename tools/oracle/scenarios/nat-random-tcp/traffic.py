# nat-random-tcp: seeded random TCP through MASQUERADE, DNAT and REDIRECT with REJECT tcp-reset.
import random

from oracle import GW_WAN4, LAN4, WAN4, done
from scripted import IP, TCP, TcpFlow, TcpSide, Wire, show

rng = random.Random(2323)
w = Wire()
FLAGS = ["A", "A", "PA", "PA", "FA", "R", "RA", "S", "SA", ""]


out_flows = []
for i in range(5):
    f = TcpFlow(w, 51000 + i, rng.choice([80, 443, 8443]))
    c, s = TcpSide(rng.randrange(1, 2**32)), TcpSide(rng.randrange(1, 2**32))
    show(f"o{i} SYN", f.c("S", c.nxt, 0, options=[("MSS", 1460), ("WScale", 7)]))
    c.nxt = (c.nxt + 1) % 2**32
    show(f"o{i} SYN/ACK", f.s("SA", s.nxt, c.nxt, options=[("MSS", 1460), ("WScale", 7)]))
    s.nxt = (s.nxt + 1) % 2**32
    show(f"o{i} ACK", f.c("A", c.nxt, s.nxt, win=502))
    out_flows.append((f, c, s))

for k in range(160):
    r = rng.random()
    if r < 0.55:
        f, c, s = rng.choice(out_flows)
        from_client = rng.random() < 0.5
        me, peer = (c, s) if from_client else (s, c)
        flags = rng.choice(FLAGS)
        q = rng.random()
        seq = me.nxt if q < 0.7 else (me.nxt - rng.randrange(1, 3000)) % 2**32 if q < 0.85 else (me.nxt + rng.randrange(1, 300000)) % 2**32
        ack = (peer.nxt if rng.random() < 0.8 else (peer.nxt + rng.randrange(-5000, 80000)) % 2**32) if "A" in flags else 0
        data = b"" if flags in ("S", "SA", "R", "RA") else b"d" * rng.choice([0, 10, 500])
        got = (f.c if from_client else f.s)(flags, seq, ack, data=data, win=rng.choice([0, 502, 65535]), wait=0.12)
        show(f"{k} {'c' if from_client else 's'} {flags or '-'} +{len(data)}", got)
        me.advance(seq, flags, data, got)
    elif r < 0.8:
        # inbound: the port forward, the redirect, closed ports
        dport = rng.choice([8080, 8080, 2222, 22, 25])
        pkt = IP(src=WAN4, dst=GW_WAN4) / TCP(sport=rng.randrange(30000, 30010), dport=dport, flags=rng.choice(["S", "S", "A", "R", "SA", "FA"]), seq=rng.randrange(2**32), ack=rng.randrange(2**32), window=1000)
        got = w.from_wan(pkt, wait=0.12)
        show(f"{k} wan -> :{dport}", got)
        back = w.expect_wan(0.05)
        if back is not None:
            show(f"{k} (reply)", back)
    else:
        # stray segments from the lan host's port 80 to the wan host (ports apart from the inbound
        # connections' 30000-30009: a clash would make Linux move the inbound source port to a random
        # one, which the comparison can rename only while the kernel's table still holds the entry)
        pkt = IP(src=LAN4, dst=WAN4) / TCP(sport=80, dport=rng.randrange(31000, 31010), flags=rng.choice(["SA", "A", "R", "RA", "PA"]), seq=rng.randrange(2**32), ack=rng.randrange(2**32), window=1000)
        show(f"{k} lan:80 -> wan", w.from_lan(pkt, wait=0.12))
done()
