# ct-tcp-closes: simultaneous close, responder-first close with data, FIN retransmission, IPv6.
from oracle import done
from scripted import TcpFlow, Wire, show

w = Wire()
C, S = 1500000, 2500000


def handshake(f):
    show("  SYN", f.c("S", C, win=64240))
    show("  SYN/ACK", f.s("SA", S, C + 1, win=65160))
    show("  ACK", f.c("A", C + 1, S + 1, win=64240))


def simultaneous_close(f, tag):
    handshake(f)
    show(tag + " lan data", f.c("PA", C + 1, S + 1, data=b"c" * 12, win=64240))
    show(tag + " wan ack", f.s("A", S + 1, C + 13, win=65160))
    show(tag + " lan FIN", f.c("FA", C + 13, S + 1, win=64240))
    show(tag + " wan FIN (crossing, lan FIN not acked)", f.s("FA", S + 1, C + 13, win=65160))
    show(tag + " lan ACK of wan FIN", f.c("A", C + 14, S + 2, win=64240))
    show(tag + " wan ACK of lan FIN", f.s("A", S + 2, C + 14, win=65160))


# 1. simultaneous close over IPv4 with NAT
simultaneous_close(TcpFlow(w, 58001, 8000), "1")

# 2. the responder closes first, with data in its FIN; the originator keeps sending in CLOSE_WAIT
f = TcpFlow(w, 58002, 8000)
handshake(f)
show("2 wan data+FIN", f.s("FPA", S + 1, C + 1, data=b"bye!", win=65160))
show("2 lan ACK", f.c("A", C + 1, S + 6, win=64240))
show("2 lan data in CLOSE_WAIT", f.c("PA", C + 1, S + 6, data=b"w" * 20, win=64240))
show("2 wan ACK", f.s("A", S + 6, C + 21, win=65160))
show("2 lan FIN", f.c("FA", C + 21, S + 6, win=64240))
show("2 wan last ACK", f.s("A", S + 6, C + 22, win=65160))

# 3. a FIN retransmitted before it is acked, then the close completes
f = TcpFlow(w, 58003, 8000)
handshake(f)
show("3 lan FIN", f.c("FA", C + 1, S + 1, win=64240))
show("3 lan FIN again", f.c("FA", C + 1, S + 1, win=64240))
show("3 wan ACK", f.s("A", S + 1, C + 2, win=65160))
show("3 wan FIN", f.s("FA", S + 1, C + 2, win=65160))
show("3 wan FIN again", f.s("FA", S + 1, C + 2, win=65160))
show("3 lan last ACK", f.c("A", C + 2, S + 2, win=64240))

# 4. simultaneous close over IPv6, no NAT
simultaneous_close(TcpFlow(w, 58004, 8000, v6=True), "4")
done()
