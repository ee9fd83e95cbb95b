# ct-tcp-loose-pickup: no handshake seen.
from oracle import done
from scripted import TcpFlow, Wire, show

w = Wire()
f = TcpFlow(w, 52001, 8000)
C, S = 3000000, 9000000
show("lan data (pickup)", f.c("PA", C, S, data=b"mid-stream", win=502))
show("wan ack", f.s("A", S, C + 10, win=509))
show("wan data", f.s("PA", S, C + 10, data=b"reply", win=509))
show("lan ack", f.c("A", C + 10, S + 5, win=502))
g = TcpFlow(w, 52002, 8000)
show("second flow: lan ack only (pickup)", g.c("A", C + 50, S + 50, win=502))
show("wan ack", g.s("A", S + 50, C + 50, win=509))
show("lan FIN", g.c("FA", C + 50, S + 50, win=502))
show("wan FIN", g.s("FA", S + 50, C + 51, win=509))
show("lan ACK", g.c("A", C + 51, S + 51, win=502))
done()
