"""Traffic helpers for ctnat's kernel-oracle scenarios.

A scenario's traffic.py runs as one root process in the initial network namespace. It creates every
socket inside the namespace it belongs to (lan, wan, gw or, for scripted scenarios, peer) by switching
this thread's network namespace with setns(2) just for the socket() call: a socket stays in the
namespace it was created in. So one single-threaded script drives both ends of every exchange, in a
fixed order, which keeps recordings reproducible.

The recorder (tools/oracle/record.ts) passes the namespace names in the environment:
ORACLE_NS_GW, ORACLE_NS_LAN, ORACLE_NS_WAN (live mode) and ORACLE_NS_PEER (scripted mode).
Only addresses of these namespaces may ever be a destination.
"""

import contextlib
import ctypes
import os
import socket
import struct
import time

CLONE_NEWNET = 0x40000000
_libc = ctypes.CDLL(None, use_errno=True)
_home = os.open("/proc/self/ns/net", os.O_RDONLY)

# Fixed link-layer addresses of the topology (the recorder creates the interfaces with them).
GW_LAN_MAC = "02:00:00:77:01:01"
LAN_MAC = "02:00:00:77:01:02"
GW_WAN_MAC = "02:00:00:77:02:01"
WAN_MAC = "02:00:00:77:02:02"

# Addresses of the standard topology.
GW_LAN4, GW_LAN6 = "10.77.1.1", "fd77:1::1"
GW_WAN4, GW_WAN6 = "10.77.2.1", "fd77:2::1"
LAN4, LAN6 = "10.77.1.2", "fd77:1::2"
WAN4, WAN6 = "10.77.2.2", "fd77:2::2"


def ns_name(role):
    name = os.environ.get("ORACLE_NS_" + role.upper())
    if not name:
        raise RuntimeError(f"namespace '{role}' is not part of this scenario's topology")
    return name


def _setns(fd):
    if _libc.setns(fd, CLONE_NEWNET) != 0:
        err = ctypes.get_errno()
        raise OSError(err, os.strerror(err))


@contextlib.contextmanager
def netns(role):
    """Run the body with this thread in namespace `role` (lan, wan, gw, peer)."""
    fd = os.open("/run/netns/" + ns_name(role), os.O_RDONLY)
    try:
        _setns(fd)
        yield
    finally:
        _setns(_home)
        os.close(fd)


def family_of(addr):
    return socket.AF_INET6 if ":" in addr else socket.AF_INET


def sock(role, family, kind, proto=0):
    with netns(role):
        return socket.socket(family, kind, proto)


def pause(seconds=0.1):
    time.sleep(seconds)


def log(*args):
    print("traffic:", *args, flush=True)


# ---- TCP ------------------------------------------------------------------------------------------


def tcp_listen(role, addr, port, backlog=16):
    s = sock(role, family_of(addr), socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind((addr, port))
    s.listen(backlog)
    return s


def tcp_connect(role, src, sport, dst, dport, timeout=3.0):
    """Connect from (src, sport) to (dst, dport); returns the socket or raises (ConnectionRefusedError...)."""
    s = sock(role, family_of(dst), socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.settimeout(timeout)
    s.bind((src, sport))
    try:
        s.connect((dst, dport))
    except BaseException:
        s.close()
        raise
    return s


def tcp_accept(listener, timeout=3.0):
    listener.settimeout(timeout)
    conn, _ = listener.accept()
    conn.settimeout(timeout)
    return conn


def recv_exact(s, n, timeout=3.0):
    s.settimeout(timeout)
    buf = b""
    while len(buf) < n:
        chunk = s.recv(n - len(buf))
        if not chunk:
            break
        buf += chunk
    return buf


def expect_eof(s, timeout=3.0):
    s.settimeout(timeout)
    return s.recv(1) == b""


def abort(s):
    """Close with SO_LINGER 0: the kernel sends a RST instead of a FIN."""
    s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    s.close()


def tcp_refused(role, src, sport, dst, dport):
    try:
        s = tcp_connect(role, src, sport, dst, dport)
    except ConnectionRefusedError:
        return True
    s.close()
    return False


# ---- UDP ------------------------------------------------------------------------------------------


def udp_bind(role, addr, port):
    s = sock(role, family_of(addr), socket.SOCK_DGRAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind((addr, port))
    return s


def udp_recv(s, timeout=2.0):
    s.settimeout(timeout)
    try:
        return s.recvfrom(65535)
    except TimeoutError:
        return None, None


# ---- ICMP echo with a chosen identifier --------------------------------------------------------------


def inet_checksum(data):
    if len(data) % 2:
        data += b"\0"
    total = sum(struct.unpack("!%dH" % (len(data) // 2), data))
    while total >> 16:
        total = (total & 0xFFFF) + (total >> 16)
    return (~total) & 0xFFFF


def ping(role, src, dst, ident, seq=1, payload=b"ctnat-oracle-ping", timeout=1.0):
    """Send one echo request with identifier `ident` from `src` to `dst` through a raw socket.

    Returns True when the matching echo reply came back within `timeout`.
    """
    v6 = ":" in dst
    if v6:
        s = sock(role, socket.AF_INET6, socket.SOCK_RAW, socket.IPPROTO_ICMPV6)
        head = struct.pack("!BBHHH", 128, 0, 0, ident, seq)  # the kernel fills in the ICMPv6 checksum
        s.bind((src, 0))
        s.sendto(head + payload, (dst, 0))
    else:
        s = sock(role, socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_ICMP)
        head = struct.pack("!BBHHH", 8, 0, 0, ident, seq)
        csum = inet_checksum(head + payload)
        head = struct.pack("!BBHHH", 8, 0, csum, ident, seq)
        s.bind((src, 0))
        s.sendto(head + payload, (dst, 0))
    deadline = time.monotonic() + timeout
    try:
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                return False
            s.settimeout(left)
            try:
                data = s.recv(65535)
            except TimeoutError:
                return False
            if not v6:
                data = data[(data[0] & 0x0F) * 4 :]
            want = 129 if v6 else 0
            if len(data) >= 8 and data[0] == want:
                rid, rseq = struct.unpack("!HH", data[4:8])
                if rid == ident and rseq == seq:
                    return True
    finally:
        s.close()


# ---- scripted packets (scapy) ------------------------------------------------------------------------


class L2Port:
    """A raw link-layer port on one of the gateway's veth peers (scripted mode, namespace `peer`).

    send() takes a scapy packet (an IP/IPv6 packet gets the right Ethernet header added) or bytes.
    recv() returns the next frame the gateway sent to this port that satisfies `match`, or None.
    """

    def __init__(self, ifname, my_mac, gw_mac, role="peer"):
        self.ifname = ifname
        self.my_mac = my_mac
        self.gw_mac = gw_mac
        self.s = sock(role, socket.AF_PACKET, socket.SOCK_RAW, socket.htons(0x0003))
        self.s.bind((ifname, 0))

    def send(self, pkt):
        from scapy.all import Ether

        if not isinstance(pkt, (bytes, bytearray)):
            if not pkt.haslayer(Ether):
                pkt = Ether(src=self.my_mac, dst=self.gw_mac) / pkt
            pkt = bytes(pkt)
        self.s.send(pkt)

    def recv(self, match=None, timeout=1.0):
        from scapy.all import Ether

        deadline = time.monotonic() + timeout
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                return None
            self.s.settimeout(left)
            try:
                data, addr = self.s.recvfrom(65535)
            except TimeoutError:
                return None
            if addr[2] == socket.PACKET_OUTGOING:
                continue
            frame = Ether(data)
            if match is None or match(frame):
                return frame

    def drain(self):
        self.s.setblocking(False)
        try:
            while True:
                self.s.recv(65535)
        except BlockingIOError:
            pass
        finally:
            self.s.setblocking(True)


def lan_port():
    return L2Port("lanp", LAN_MAC, GW_LAN_MAC)


def wan_port():
    return L2Port("wanp", WAN_MAC, GW_WAN_MAC)


def done():
    """Tell the recorder the traffic is over; keep this process (and its open sockets) alive until the
    recorder has stopped the captures and dumped the state. It kills the script afterwards."""
    print("ORACLE-DONE", flush=True)
    time.sleep(3600)
