# ct-tcp-random-long: seeded random TCP on long-lived connections, IPv4 (masqueraded) and IPv6.
import random

from oracle import done
from scripted import TcpFlow, TcpSide, Wire, show, syn_options

rng = random.Random(77031)
w = Wire()

FLAGS = ["A"] * 6 + ["PA"] * 8 + ["FA", "RA", "S", "SA", "", "U", "PU"]


flows = []
for i in range(10):
    v6 = i >= 6
    f = TcpFlow(w, 53000 + i, 9000 + (i % 4), v6=v6)
    cw = rng.choice([None, 0, 5, 7, 14])
    sw = rng.choice([None, 0, 7, 10]) if cw is not None else None
    sack = rng.random() < 0.7
    ts = rng.random() < 0.5
    c = TcpSide(rng.randrange(1, 2**32), cw)
    s = TcpSide(rng.randrange(1, 2**32), sw)
    show(f"{i} SYN", f.c("S", c.nxt, 0, win=64240, options=syn_options(cw, sack, ts, 1000 + i)))
    c.nxt = (c.nxt + 1) % 2**32
    show(f"{i} SYN/ACK", f.s("SA", s.nxt, c.nxt, win=65160, options=syn_options(sw, sack, ts, 5000 + i)))
    s.nxt = (s.nxt + 1) % 2**32
    show(f"{i} ACK", f.c("A", c.nxt, s.nxt, win=502))
    flows.append((f, c, s, sack))


def seq_for(me, edge):
    r = rng.random()
    if r < 0.7:
        return me.nxt
    if r < 0.82:
        return (me.nxt - rng.randrange(1, 4000)) % 2**32
    if r < 0.9:
        return (me.nxt + rng.randrange(1, 3000)) % 2**32
    if r < 0.97:
        return (me.nxt + edge + rng.randrange(-20, 20)) % 2**32
    return rng.randrange(0, 2**32)


def ack_for(peer):
    r = rng.random()
    if r < 0.8:
        return peer.nxt
    if r < 0.9:
        return (peer.nxt - rng.randrange(1, 6000)) % 2**32
    if r < 0.97:
        return (peer.nxt + rng.randrange(1, 70000)) % 2**32
    return rng.randrange(0, 2**32)


for k in range(400):
    f, c, s, sack = rng.choice(flows)
    from_client = rng.random() < 0.5
    me, peer = (c, s) if from_client else (s, c)
    flags = rng.choice(FLAGS)
    if k > 340 and rng.random() < 0.3:
        flags = rng.choice(["FA", "R", "RA"])
    win = rng.choice([0, 502, 509, 1024, 8192, 29200, 65535])
    seq = seq_for(me, win << (peer.wscale or 0))
    ack = ack_for(peer) if "A" in flags else 0
    options = []
    if sack and "A" in flags and rng.random() < 0.2:
        left = (peer.nxt - rng.randrange(0, 3000)) % 2**32
        options = [("NOP", None), ("NOP", None), ("SAck", (left, (left + rng.randrange(1, 2000)) % 2**32))]
    data = b"" if flags in ("S", "SA", "R", "RA") else b"q" * rng.choice([0, 1, 64, 200, 1000, 1400])
    send = f.c if from_client else f.s
    got = send(flags, seq, ack, data=data, win=win, options=options, wait=0.15)
    show(f"{k} {'c' if from_client else 's'}{' v6' if f.v6 else ''} {flags or '-'} +{len(data)}", got)
    me.advance(seq, flags, data, got)
done()
