# ct-tcp-random-timeouts: seeded random TCP with short conntrack timeouts and random pauses.
import random
import time

from oracle import done
from scripted import TcpFlow, TcpSide, Wire, show

rng = random.Random(424242)
w = Wire()

FLAGS = ["A"] * 5 + ["PA"] * 6 + ["FA", "FA", "R", "RA", "S", "SA"]


flows = []
for i in range(6):
    f = TcpFlow(w, 54000 + i, 7000 + (i % 2))
    c = TcpSide(rng.randrange(1, 2**32))
    s = TcpSide(rng.randrange(1, 2**32))
    o = [("MSS", 1460), ("SAckOK", b""), ("WScale", 7)]
    show(f"{i} SYN", f.c("S", c.nxt, 0, win=64240, options=o))
    c.nxt = (c.nxt + 1) % 2**32
    if rng.random() < 0.85:
        show(f"{i} SYN/ACK", f.s("SA", s.nxt, c.nxt, win=65160, options=o))
        s.nxt = (s.nxt + 1) % 2**32
        if rng.random() < 0.85:
            show(f"{i} ACK", f.c("A", c.nxt, s.nxt, win=502))
    flows.append((f, c, s))

for k in range(180):
    if rng.random() < 0.12:
        pause = rng.choice([0.5, 1.0, 1.5, 2.2, 3.1, 4.0])
        show(f"pause {pause}", None)
        time.sleep(pause)
    f, c, s = rng.choice(flows)
    from_client = rng.random() < 0.55
    me, peer = (c, s) if from_client else (s, c)
    flags = rng.choice(FLAGS)
    r = rng.random()
    if flags == "S" and from_client and rng.random() < 0.5:
        # a new connection on the same ports (reopening, or a SYN to a dead entry)
        me.nxt = rng.randrange(1, 2**32)
        seq = me.nxt
    elif r < 0.7:
        seq = me.nxt
    elif r < 0.9:
        seq = (me.nxt - rng.randrange(1, 2000)) % 2**32
    else:
        seq = (me.nxt + rng.randrange(1, 200000)) % 2**32
    ack = (peer.nxt if rng.random() < 0.8 else (peer.nxt - rng.randrange(1, 3000)) % 2**32) if "A" in flags else 0
    data = b"" if flags in ("S", "SA", "R", "RA") else b"t" * rng.choice([0, 0, 20, 300])
    opt = [("MSS", 1460), ("SAckOK", b""), ("WScale", 7)] if "S" in flags else []
    send = f.c if from_client else f.s
    got = send(flags, seq, ack, data=data, win=rng.choice([0, 502, 1024, 65535]), options=opt, wait=0.12)
    show(f"{k} {'c' if from_client else 's'} {flags} +{len(data)}", got)
    me.advance(seq, flags, data, got)
done()
