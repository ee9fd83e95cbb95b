# ct-tcp-rst: RST in several states.
from oracle import done
from scripted import TcpFlow, Wire, show

w = Wire()
C, S = 2000000, 6000000

f = TcpFlow(w, 53001, 8000)
show("1 SYN", f.c("S", C, win=64240))
show("1 RST/ACK from wan (refused)", f.s("RA", 0, C + 1, win=0))

f = TcpFlow(w, 53002, 8000)
show("2 SYN", f.c("S", C, win=64240))
show("2 SYN/ACK", f.s("SA", S, C + 1, win=65160))
show("2 RST from lan in SYN_RECV", f.c("R", C + 1, 0, win=0))

f = TcpFlow(w, 53003, 8000)
show("3 SYN", f.c("S", C, win=64240))
show("3 SYN/ACK", f.s("SA", S, C + 1, win=65160))
show("3 ACK", f.c("A", C + 1, S + 1, win=64240))
show("3 FIN from lan", f.c("FA", C + 1, S + 1, win=64240))
show("3 RST from wan", f.s("R", S + 1, 0, win=0))

f = TcpFlow(w, 53004, 8000)
show("4 SYN", f.c("S", C, win=64240))
show("4 SYN/ACK", f.s("SA", S, C + 1, win=65160))
show("4 ACK", f.c("A", C + 1, S + 1, win=64240))
show("4 data", f.c("PA", C + 1, S + 1, data=b"q" * 50, win=64240))
show("4 ack", f.s("A", S + 1, C + 51, win=65160))
show("4 RST in window, not exact", f.c("R", C + 61, 0, win=0))
show("4 challenge ACK from wan", f.s("A", S + 1, C + 51, win=65160))
show("4 exact RST", f.c("R", C + 51, 0, win=0))

f = TcpFlow(w, 53005, 8000)
show("5 SYN", f.c("S", C, win=64240))
show("5 SYN/ACK", f.s("SA", S, C + 1, win=65160))
show("5 ACK", f.c("A", C + 1, S + 1, win=64240))
show("5 RST far out of window", f.s("R", S + 5000000, 0, win=0))
show("5 data still flows", f.c("PA", C + 1, S + 1, data=b"alive", win=64240))
done()
