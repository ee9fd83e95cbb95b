# ct-tcp-retrans-reuse: retransmissions, then reuse of the ports from TIME_WAIT.
import time

from oracle import done
from scripted import TcpFlow, Wire, show

w = Wire()
C, S = 4000000, 8000000
f = TcpFlow(w, 54001, 8000)
show("SYN", f.c("S", C, win=64240))
time.sleep(1.5)
show("SYN again", f.c("S", C, win=64240))
show("SYN/ACK", f.s("SA", S, C + 1, win=65160))
show("SYN/ACK again", f.s("SA", S, C + 1, win=65160))
show("ACK", f.c("A", C + 1, S + 1, win=64240))
for i in range(5):
    show("data (retransmission %d)" % i, f.c("PA", C + 1, S + 1, data=b"r" * 30, win=64240))
    time.sleep(0.2)
show("ack", f.s("A", S + 1, C + 31, win=65160))
show("lan FIN", f.c("FA", C + 31, S + 1, win=64240))
show("wan FIN", f.s("FA", S + 1, C + 32, win=65160))
show("lan ACK", f.c("A", C + 32, S + 2, win=64240))
time.sleep(0.5)
C2, S2 = C + 100000, S + 100000
show("new SYN, same ports", f.c("S", C2, win=64240))
show("SYN/ACK", f.s("SA", S2, C2 + 1, win=65160))
show("ACK", f.c("A", C2 + 1, S2 + 1, win=64240))
f2 = TcpFlow(w, 54002, 8000)
show("second SYN, never answered", f2.c("S", C, win=64240))
time.sleep(1.0)
show("second SYN retransmitted", f2.c("S", C, win=64240))
done()
