# ct-tcp-simultaneous-open: both ends send a SYN before either has seen the other's.
from oracle import done
from scripted import TcpFlow, Wire, show

w = Wire()
f = TcpFlow(w, 50001, 8000)
C, S = 100000, 500000
show("lan SYN", f.c("S", C, win=64240, options=[("MSS", 1460), ("WScale", 7), ("SAckOK", b"")]))
show("wan SYN", f.s("S", S, win=65160, options=[("MSS", 1460), ("WScale", 7), ("SAckOK", b"")]))
show("lan SYN/ACK", f.c("SA", C, S + 1, win=502))
show("wan SYN/ACK", f.s("SA", S, C + 1, win=509))
show("lan ACK", f.c("A", C + 1, S + 1, win=502))
show("wan ACK", f.s("A", S + 1, C + 1, win=509))
show("lan data", f.c("PA", C + 1, S + 1, data=b"simultaneous", win=502))
show("wan ack+data", f.s("PA", S + 1, C + 13, data=b"open!", win=509))
show("lan ack", f.c("A", C + 13, S + 6, win=502))
done()
