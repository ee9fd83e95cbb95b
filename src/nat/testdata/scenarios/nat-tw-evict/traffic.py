# nat-tw-evict: NAT evicts TIME_WAIT entries in its last port-search attempts.
from oracle import done
from scripted import TcpFlow, Wire, show

w = Wire()


def closed(sport, isn):
    f = TcpFlow(w, sport, 8000)
    show("syn", f.c("S", isn))
    show("synack", f.s("SA", 7000, isn + 1))
    show("ack", f.c("A", isn + 1, 7001))
    show("fin", f.c("FA", isn + 1, 7001))
    show("ack", f.s("A", 7001, isn + 2))
    show("fin", f.s("FA", 7001, isn + 2))
    show("ack", f.c("A", isn + 2, 7002))
    return f


closed(1001, 1000)
closed(1002, 1000)
c = TcpFlow(w, 1003, 8000)
show("syn newer", c.c("S", 500000))
d = TcpFlow(w, 1004, 8000)
show("syn older", d.c("S", 10))
e = TcpFlow(w, 1005, 8000)
show("syn newer 2", e.c("S", 900000))
done()
