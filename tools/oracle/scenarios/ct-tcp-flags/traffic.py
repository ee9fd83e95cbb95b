# ct-tcp-flags: which flag combinations conntrack accepts, as first packets and mid-connection.
from oracle import done
from scripted import TcpFlow, Wire, show

w = Wire()
C, S = 8100000, 9100000

# first packets of a connection (state NONE)
for sport, flags, label, data in (
    (59101, "SA", "SYN|ACK", b""),
    (59102, "FA", "FIN|ACK", b""),
    (59103, "A", "bare ACK (pickup)", b""),
    (59104, "SU", "SYN|URG", b""),
    (59105, "SEC", "SYN|ECE|CWR", b""),
    (59106, "S", "SYN with data", b"fast open data"),
):
    f = TcpFlow(w, sport, 8000)
    show("first packet " + label, f.c(flags, C, S if "A" in flags else 0, data=data, win=64240))

# inside an established connection
f = TcpFlow(w, 59110, 8000)
show("SYN", f.c("S", C, win=64240))
show("SYN/ACK", f.s("SA", S, C + 1, win=65160))
show("ACK", f.c("A", C + 1, S + 1, win=64240))
for flags, label in (("SR", "SYN|RST"), ("RF", "RST|FIN"), ("SAF", "SYN|ACK|FIN"), ("P", "PSH alone"), ("U", "URG alone")):
    show("established " + label, f.c(flags, C + 1, S + 1 if "A" in flags else 0, win=64240))
show("established ACK|URG data", f.c("AU", C + 1, S + 1, data=b"urgent", win=64240))
show("wan ack", f.s("A", S + 1, C + 7, win=65160))
show("established SYN from lan (ignored)", f.c("S", C + 7, win=64240))
show("established SYN/ACK from wan (ignored)", f.s("SA", S, C + 1, win=65160))
show("established data", f.c("PA", C + 7, S + 1, data=b"still fine", win=64240))
show("wan ack", f.s("A", S + 1, C + 17, win=65160))
done()
