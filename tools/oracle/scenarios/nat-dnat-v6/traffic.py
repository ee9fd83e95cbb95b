# nat-dnat-v6: port forwards, a DNAT address range and NETMAP, IPv6.
from oracle import *

H2, H3 = "fd77:1::2", "fd77:1::3"

# 1. UDP port forward
dns = udp_bind("lan", H2, 53)
u = udp_bind("wan", WAN6, 40553)
u.sendto(b"v6 forwarded query", (GW_WAN6, 5353))
data, peer = udp_recv(dns)
assert data == b"v6 forwarded query", data
dns.sendto(b"v6 forwarded answer", peer[:2])
assert udp_recv(u)[0] == b"v6 forwarded answer"
pause(0.2)

# 2. TCP port forward to an address range: which lan address each connection reaches is the kernel's
web = {H2: tcp_listen("lan", H2, 443), H3: tcp_listen("lan", H3, 443)}
for i, src in enumerate((WAN6, "fd77:2::3", "fd77:2::4", "fd77:2::5", "fd77:2::6")):
    c = tcp_connect("wan", src, 40600 + i, GW_WAN6, 8443)
    got = None
    for host, lst in web.items():
        lst.settimeout(0.3)
        try:
            s, _ = lst.accept()
            got = host
            break
        except TimeoutError:
            continue
    assert got, "no lan server accepted"
    log("connection", i, "from", src, "went to", got)
    c.sendall(b"hello %d" % i)
    assert recv_exact(s, 7)
    s.sendall(b"from " + got.encode())
    assert recv_exact(c, 5 + len(got))
    c.close()
    assert expect_eof(s)
    s.close()
    pause(0.2)

# 3. NETMAP out: fd77:1::3 appears as fd77:3::3
srv = tcp_listen("wan", WAN6, 8000)
c = tcp_connect("lan", H3, 41601, WAN6, 8000)
s = tcp_accept(srv)
c.sendall(b"netmapped v6")
assert recv_exact(s, 12) == b"netmapped v6"
s.sendall(b"ok")
assert recv_exact(c, 2) == b"ok"
c.close()
assert expect_eof(s)
s.close()
pause(0.2)

# 4. NETMAP in: fd77:3::2 reaches fd77:1::2
u2 = udp_bind("wan", WAN6, 41653)
u2.sendto(b"to the mapped v6 address", ("fd77:3::2", 53))
data, peer = udp_recv(dns)
assert data == b"to the mapped v6 address", data
dns.sendto(b"from the mapped v6 address", peer[:2])
assert udp_recv(u2)[0] == b"from the mapped v6 address"
pause(0.2)
assert ping("wan", WAN6, "fd77:3::2", 0x3636)
pause(0.2)
done()
