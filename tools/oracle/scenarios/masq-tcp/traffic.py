# masq-tcp: IPv4 TCP from lan to wan through MASQUERADE.
from oracle import *

srv = tcp_listen("wan", WAN4, 8000)

# 1. data both ways, the client (lan) closes first -> TIME_WAIT
c = tcp_connect("lan", LAN4, 40001, WAN4, 8000)
s = tcp_accept(srv)
c.sendall(b"A" * 100)
assert recv_exact(s, 100) == b"A" * 100
s.sendall(b"a" * 300)
assert recv_exact(c, 300) == b"a" * 300
pause(0.2)
c.close()
assert expect_eof(s)
pause(0.1)
s.close()
pause(0.3)

# 2. the server (wan) closes first
c = tcp_connect("lan", LAN4, 40002, WAN4, 8000)
s = tcp_accept(srv)
c.sendall(b"B" * 1000)
assert recv_exact(s, 1000) == b"B" * 1000
s.sendall(b"b" * 50)
assert recv_exact(c, 50) == b"b" * 50
pause(0.2)
s.close()
assert expect_eof(c)
pause(0.1)
c.close()
pause(0.3)

# 3. the client aborts with a RST after some data -> CLOSE
c = tcp_connect("lan", LAN4, 40003, WAN4, 8000)
s = tcp_accept(srv)
c.sendall(b"C" * 10)
assert recv_exact(s, 10) == b"C" * 10
pause(0.1)
abort(c)
pause(0.3)
s.close()

# 4. a half-closed connection: the client sends FIN, the server keeps its side open -> CLOSE_WAIT
c4 = tcp_connect("lan", LAN4, 40004, WAN4, 8000)
s4 = tcp_accept(srv)
c4.sendall(b"D" * 20)
assert recv_exact(s4, 20) == b"D" * 20
import socket as _socket
c4.shutdown(_socket.SHUT_WR)
assert expect_eof(s4)
pause(0.3)

# 5. a connection left open -> ESTABLISHED
c5 = tcp_connect("lan", LAN4, 40005, WAN4, 8000)
s5 = tcp_accept(srv)
c5.sendall(b"E" * 5)
assert recv_exact(s5, 5) == b"E" * 5
s5.sendall(b"e" * 5)
assert recv_exact(c5, 5) == b"e" * 5
pause(0.3)
done()
