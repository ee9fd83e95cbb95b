# home-router: a few lan hosts behind a NAT router with one port forward.
from oracle import *

H2, H3, H4 = "10.77.1.2", "10.77.1.3", "10.77.1.4"
H2_6, H3_6 = "fd77:1::2", "fd77:1::3"

web = tcp_listen("wan", WAN4, 80)
tls = tcp_listen("wan", WAN4, 443)
ssh = tcp_listen("wan", WAN4, 22)
web6 = tcp_listen("wan", WAN6, 80)
dns = udp_bind("wan", WAN4, 53)
lanweb = tcp_listen("lan", H2, 80)  # the port-forward target


def http(role, src, sport, dst, dport, listener, req, resp, client_closes=True):
    c = tcp_connect(role, src, sport, dst, dport)
    s = tcp_accept(listener)
    c.sendall(req)
    assert recv_exact(s, len(req)) == req
    s.sendall(resp)
    assert recv_exact(c, len(resp)) == resp
    pause(0.1)
    first, second = (c, s) if client_closes else (s, c)
    first.close()
    assert expect_eof(second)
    pause(0.05)
    second.close()
    pause(0.2)


def dns_query(src, sport, qid, name):
    u = udp_bind("lan", src, sport)
    q = qid.to_bytes(2, "big") + b"\x01\x00\x00\x01\x00\x00\x00\x00\x00\x00" + name
    u.sendto(q, (WAN4, 53))
    data, peer = udp_recv(dns)
    dns.sendto(data[:2] + b"\x81\x80" + data[4:] + b"\xc0\x0c\x00\x01\x00\x01\x00\x00\x0e\x10\x00\x04\x0a\x4d\x02\x02", peer)
    assert udp_recv(u)[0] is not None
    u.close()
    pause(0.1)


dns_query(H2, 33001, 0xA001, b"\x07example\x03com\x00\x00\x01\x00\x01")
http("lan", H2, 33002, WAN4, 80, web, b"GET / HTTP/1.1\r\nHost: example.com\r\n\r\n", b"HTTP/1.1 200 OK\r\n\r\n" + b"<p>hello</p>" * 40)
dns_query(H3, 33101, 0xB001, b"\x03www\x07example\x03org\x00\x00\x01\x00\x01")
http("lan", H3, 33102, WAN4, 443, tls, b"\x16\x03\x01" + b"h" * 200, b"\x16\x03\x03" + b"s" * 700, client_closes=False)
dns_query(H4, 33201, 0xC001, b"\x04mail\x07example\x03net\x00\x00\x01\x00\x01")

# pings: v4 to wan, v4 to the router itself, v6 to wan
assert ping("lan", H2, WAN4, 0x0101, seq=1)
pause(0.1)
assert ping("lan", H4, GW_LAN4, 0x0202, seq=1)
pause(0.1)
assert ping("lan", H2_6, WAN6, 0x0303, seq=1)
pause(0.1)

# IPv6 web request, forwarded without NAT
http("lan", H3_6, 33301, WAN6, 80, web6, b"GET /v6 HTTP/1.1\r\n\r\n", b"HTTP/1.1 204 No Content\r\n\r\n")

# refused connection (nothing listens on wan:81)
assert tcp_refused("lan", H4, 33202, WAN4, 81)
pause(0.2)

# port forward: wan -> router:8080 -> lan web server 10.77.1.2:80
http("wan", WAN4, 50000, GW_WAN4, 8080, lanweb, b"GET /cam HTTP/1.1\r\n\r\n", b"HTTP/1.1 200 OK\r\n\r\nsnapshot")

# a ping from wan to the router: dropped by INPUT's policy
assert not ping("wan", WAN4, GW_WAN4, 0x0404, timeout=0.3)
pause(0.1)

# an ssh-like session left open
c = tcp_connect("lan", H3, 33103, WAN4, 22)
s = tcp_accept(ssh)
s.sendall(b"SSH-2.0-OpenSSH_9.2\r\n")
assert recv_exact(c, 21)
c.sendall(b"SSH-2.0-client\r\n")
assert recv_exact(s, 16)
pause(0.2)
done()
