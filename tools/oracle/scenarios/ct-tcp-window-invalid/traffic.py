# ct-tcp-window-invalid: conntrack's window checks and flag checks.
from oracle import LAN4, done
from scripted import TcpFlow, Wire, show

w = Wire()
f = TcpFlow(w, 51001, 8000, nat_addr=LAN4)
C, S = 1000000, 7000000
opts = [("MSS", 1460), ("SAckOK", b""), ("WScale", 7)]
show("SYN", f.c("S", C, win=64240, options=opts))
show("SYN/ACK", f.s("SA", S, C + 1, win=65160, options=opts))
show("ACK", f.c("A", C + 1, S + 1, win=502))
show("data 100", f.c("PA", C + 1, S + 1, data=b"d" * 100, win=502))
show("ack", f.s("A", S + 1, C + 101, win=509))
show("data beyond the window", f.c("PA", C + 101 + 300000, S + 1, data=b"x" * 10, win=502))
show("ack over upper bound", f.s("A", S + 1, C + 101 + 500000, win=509))
show("SYN|FIN", f.c("SF", C + 101, S + 1, win=502))
show("no flags", f.c("", C + 101, S + 1, win=502))
show("FIN without ACK", f.c("F", C + 101, 0, win=502))
show("FIN|PSH|URG", f.c("FPU", C + 101, 0, win=502))
show("RST out of window", f.c("R", C + 101 + 400000, 0, win=0))
show("retransmitted data", f.c("PA", C + 1, S + 1, data=b"d" * 100, win=502))
show("wan data", f.s("PA", S + 1, C + 101, data=b"w" * 20, win=509))
show("ack", f.c("A", C + 101, S + 21, win=502))
show("exact RST", f.s("R", S + 21, 0, win=0))
done()
