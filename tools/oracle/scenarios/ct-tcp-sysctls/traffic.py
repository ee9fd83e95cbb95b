# ct-tcp-sysctls: tcp_loose=0, max_retrans and short TCP timeouts.
import time

from oracle import done
from scripted import TcpFlow, Wire, show

w = Wire()
C, S = 5000000, 6000000


def handshake(f):
    show("  SYN", f.c("S", C, win=64240))
    show("  SYN/ACK", f.s("SA", S, C + 1, win=65160))
    show("  ACK", f.c("A", C + 1, S + 1, win=64240))


# 1. tcp_loose=0: data of a connection whose handshake the gateway never saw is INVALID
f1 = TcpFlow(w, 59001, 8000)
show("1 mid-stream data", f1.c("PA", C + 1, S + 1, data=b"no pickup", win=502))

# 2. a SYN nobody answers (SYN_SENT, 3 s)
f2 = TcpFlow(w, 59002, 8000)
show("2 SYN", f2.c("S", C, win=64240))

# 3. an established connection that goes idle (ESTABLISHED, 8 s)
f3 = TcpFlow(w, 59003, 8000)
handshake(f3)
show("3 data", f3.c("PA", C + 1, S + 1, data=b"x" * 10, win=64240))
show("3 ack", f3.s("A", S + 1, C + 11, win=65160))

time.sleep(8.5)  # both entries expire

# 3 again: the entry is gone and tcp_loose=0 does not pick the connection up
show("3 data after expiry", f3.c("PA", C + 11, S + 1, data=b"y" * 10, win=64240))
show("3 wan data after expiry", f3.s("PA", S + 1, C + 11, data=b"z" * 10, win=65160))

# 4. retransmitted data: max_retrans=2 switches to the RETRANS timeout (5 s)
f4 = TcpFlow(w, 59004, 8000)
handshake(f4)
for i in range(3):
    show("4 data, copy %d" % i, f4.c("PA", C + 1, S + 1, data=b"r" * 20, win=64240))

# 5. data never acknowledged: UNACK (6 s) caps ESTABLISHED (8 s)
f5 = TcpFlow(w, 59005, 8000)
handshake(f5)
show("5 data, never acked", f5.c("PA", C + 1, S + 1, data=b"u" * 20, win=64240))

# 6. FIN_WAIT (7 s)
f6 = TcpFlow(w, 59006, 8000)
handshake(f6)
show("6 lan FIN", f6.c("FA", C + 1, S + 1, win=64240))

# 2 again: the retransmitted SYN starts a new entry (3 s)
show("2 SYN retransmitted after expiry", f2.c("S", C, win=64240))
done()
