# ct-tcp-rst-states: RST in every TCP state (those ct-tcp-rst does not cover).
from oracle import done
from scripted import TcpFlow, Wire, show

w = Wire()
C, S = 3000000, 7000000
OPTS = [("MSS", 1460), ("WScale", 7), ("SAckOK", b"")]


def handshake(f):
    show("  SYN", f.c("S", C, win=64240))
    show("  SYN/ACK", f.s("SA", S, C + 1, win=65160))
    show("  ACK", f.c("A", C + 1, S + 1, win=64240))


# 1. SYN_SENT: the originator gives up with a RST before any answer (no reply seen: entry deleted)
f = TcpFlow(w, 57001, 8000)
show("1 SYN", f.c("S", C, win=64240))
show("1 RST from lan in SYN_SENT", f.c("R", C + 1, 0, win=0))

# 2. SYN_SENT: RST|ACK acking the wrong sequence (INVALID, dropped), then the right one (refused)
f = TcpFlow(w, 57002, 8000)
show("2 SYN", f.c("S", C, win=64240))
show("2 RST|ACK acking a wrong sequence", f.s("RA", 0, C + 100, win=0))
show("2 RST|ACK acking the SYN", f.s("RA", 0, C + 1, win=0))

# 3. SYN_RECV: the responder resets after its SYN/ACK
f = TcpFlow(w, 57003, 8000)
show("3 SYN", f.c("S", C, win=64240))
show("3 SYN/ACK", f.s("SA", S, C + 1, win=65160))
show("3 RST|ACK from wan in SYN_RECV", f.s("RA", S + 1, C + 1, win=0))

# 4. ESTABLISHED: the responder resets after data
f = TcpFlow(w, 57004, 8000)
handshake(f)
show("4 data", f.c("PA", C + 1, S + 1, data=b"e" * 40, win=64240))
show("4 RST|ACK from wan in ESTABLISHED", f.s("RA", S + 1, C + 41, win=0))

# 5. CLOSE_WAIT: wan sends FIN, lan acks it, then lan resets
f = TcpFlow(w, 57005, 8000)
handshake(f)
show("5 wan FIN", f.s("FA", S + 1, C + 1, win=65160))
show("5 lan ACK of the FIN", f.c("A", C + 1, S + 2, win=64240))
show("5 RST from lan in CLOSE_WAIT", f.c("R", C + 1, 0, win=0))

# 6. LAST_ACK: lan FIN, wan ACK, wan FIN, then lan resets instead of the last ACK
f = TcpFlow(w, 57006, 8000)
handshake(f)
show("6 lan FIN", f.c("FA", C + 1, S + 1, win=64240))
show("6 wan ACK", f.s("A", S + 1, C + 2, win=65160))
show("6 wan FIN", f.s("FA", S + 1, C + 2, win=65160))
show("6 RST from lan in LAST_ACK", f.c("R", C + 2, 0, win=0))

# 7. TIME_WAIT: an orderly close, then a RST from wan
f = TcpFlow(w, 57007, 8000)
handshake(f)
show("7 lan FIN", f.c("FA", C + 1, S + 1, win=64240))
show("7 wan FIN|ACK", f.s("FA", S + 1, C + 2, win=65160))
show("7 lan last ACK", f.c("A", C + 2, S + 2, win=64240))
show("7 RST from wan in TIME_WAIT", f.s("R", S + 2, 0, win=0))

# 8. CLOSE: lan resets an established connection, wan resets too (RST in CLOSE), then lan opens
#    again with the same ports and a higher sequence (reopened from CLOSE)
f = TcpFlow(w, 57008, 8000)
handshake(f)
show("8 RST from lan in ESTABLISHED", f.c("R", C + 1, 0, win=0))
show("8 RST from wan in CLOSE", f.s("R", S + 1, 0, win=0))
C2, S2 = C + 500000, S + 500000
show("8 new SYN, same ports", f.c("S", C2, win=64240))
show("8 SYN/ACK", f.s("SA", S2, C2 + 1, win=65160))
show("8 ACK", f.c("A", C2 + 1, S2 + 1, win=64240))

# 9. SYN_SENT2: both sides send a SYN, then lan resets
f = TcpFlow(w, 57009, 8000)
show("9 lan SYN", f.c("S", C, win=64240, options=OPTS))
show("9 wan SYN", f.s("S", S, win=65160, options=OPTS))
show("9 RST from lan in SYN_SENT2", f.c("R", C + 1, 0, win=0))

# 10. no connection at all: a RST and a RST|ACK from lan (INVALID: conntrack creates nothing)
f = TcpFlow(w, 57010, 8000)
show("10 lone RST", f.c("R", C, 0, win=0))
show("10 lone RST|ACK", f.c("RA", C, S, win=0))
done()
