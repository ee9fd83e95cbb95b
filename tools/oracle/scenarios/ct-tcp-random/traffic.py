# ct-tcp-random: seeded random TCP segments on eight masqueraded connections (differential test).
import random

from oracle import done
from scripted import TcpFlow, TcpSide, Wire, show, syn_options

rng = random.Random(20261125)
w = Wire()

FLAGS = ["A", "A", "A", "PA", "PA", "PA", "FA", "R", "RA", "S", "SA", "F", "", "SF", "FPU"]


flows = []
for i in range(8):
    f = TcpFlow(w, 52000 + i, 8000 + (i % 3))
    cw = rng.choice([None, 0, 2, 7, 14])
    sw = rng.choice([None, 0, 7, 9]) if cw is not None else None
    sack = rng.random() < 0.5
    ts = rng.random() < 0.5
    c = TcpSide(rng.randrange(1, 2**32), cw)
    s = TcpSide(rng.randrange(1, 2**32), sw)
    show(f"{i} SYN", f.c("S", c.nxt, 0, win=64240, options=syn_options(cw, sack, ts, 1000 + i)))
    c.nxt = (c.nxt + 1) % 2**32
    show(f"{i} SYN/ACK", f.s("SA", s.nxt, c.nxt, win=65160, options=syn_options(sw, sack, ts, 5000 + i)))
    s.nxt = (s.nxt + 1) % 2**32
    if rng.random() < 0.8:
        show(f"{i} ACK", f.c("A", c.nxt, s.nxt, win=502))
    flows.append((f, c, s))


def seq_for(me, peer_win):
    r = rng.random()
    if r < 0.6:
        return me.nxt  # in order
    if r < 0.75:
        return (me.nxt - rng.randrange(1, 3000)) % 2**32  # retransmission / old data
    if r < 0.85:
        return (me.nxt + rng.randrange(1, 2000)) % 2**32  # a gap, still likely in window
    if r < 0.95:
        return (me.nxt + peer_win + rng.randrange(-50, 50)) % 2**32  # near the right edge
    return rng.randrange(0, 2**32)  # anywhere


def ack_for(peer):
    r = rng.random()
    if r < 0.7:
        return peer.nxt
    if r < 0.85:
        return (peer.nxt - rng.randrange(1, 5000)) % 2**32
    if r < 0.95:
        return (peer.nxt + rng.randrange(1, 100000)) % 2**32  # acknowledges data never sent
    return rng.randrange(0, 2**32)


for k in range(320):
    f, c, s = rng.choice(flows)
    from_client = rng.random() < 0.55
    me, peer = (c, s) if from_client else (s, c)
    flags = rng.choice(FLAGS)
    win = rng.choice([0, 1, 64, 502, 509, 8192, 65535])
    peer_scale = peer.wscale or 0
    seq = seq_for(me, win << peer_scale)
    ack = ack_for(peer) if "A" in flags else (0 if rng.random() < 0.7 else rng.randrange(0, 2**32))
    data = b"" if flags in ("S", "SA", "R", "RA") and rng.random() < 0.8 else b"z" * rng.choice([0, 0, 1, 10, 100, 536])
    send = f.c if from_client else f.s
    got = send(flags, seq, ack, data=data, win=win, wait=0.15)
    show(f"{k} {'c' if from_client else 's'} {flags or '-'} +{len(data)}", got)
    me.advance(seq, flags, data, got)
done()
