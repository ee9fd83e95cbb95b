"""Helpers for scripted scenarios: TCP/UDP/ICMP exchanges written packet by packet with scapy.

Frames leave the peer namespace's lanp / wanp ports towards the gateway; what the gateway forwards is
read back on the other port, so a script learns what NAT chose (the port the wan side must answer).
"""

import time

from scapy.all import ICMP, IP, TCP, UDP, IPv6, Raw  # noqa: F401  (re-exported for scripts)

from oracle import GW_WAN4, GW_WAN6, LAN4, LAN6, WAN4, WAN6, lan_port, log, wan_port

STEP = 0.05  # seconds between scripted packets, so the kernel sees (and stamps) them in order


class Wire:
    """Both peer ports: send from one side, return what the gateway forwarded to the other."""

    def __init__(self):
        self.lan = lan_port()
        self.wan = wan_port()

    def _send(self, out, into, pkt, wait):
        out.send(pkt)
        got = into.recv(timeout=wait) if wait else None
        time.sleep(STEP)
        return got

    def from_lan(self, pkt, wait=0.3):
        return self._send(self.lan, self.wan, pkt, wait)

    def from_wan(self, pkt, wait=0.3):
        return self._send(self.wan, self.lan, pkt, wait)

    def expect_lan(self, timeout=0.3):
        return self.lan.recv(timeout=timeout)

    def expect_wan(self, timeout=0.3):
        return self.wan.recv(timeout=timeout)


class TcpFlow:
    """One TCP connection lan (src:sport) -> wan (dst:dport), through a gateway that may NAT it.

    c(...) sends a segment from the lan host, s(...) one from the wan host (addressed to what the
    gateway presented: the NAT address and port learned from the first forwarded segment, or
    `nat_addr` / the original port). Both return the frame the gateway forwarded, or None.
    """

    def __init__(self, wire, sport, dport, v6=False, src=None, dst=None, nat_addr=None):
        self.w = wire
        self.v6 = v6
        self.src = src or (LAN6 if v6 else LAN4)
        self.dst = dst or (WAN6 if v6 else WAN4)
        self.sport = sport
        self.dport = dport
        self.nat_addr = nat_addr if nat_addr is not None else (self.src if v6 else GW_WAN4)
        self.nat_port = sport

    def _ip(self, src, dst, ttl):
        return IPv6(src=src, dst=dst, hlim=ttl) if self.v6 else IP(src=src, dst=dst, ttl=ttl)

    def c(self, flags, seq, ack=0, data=b"", win=64240, options=None, ttl=64, wait=0.3):
        seg = TCP(sport=self.sport, dport=self.dport, flags=flags, seq=seq, ack=ack, window=win, options=options or [])
        pkt = self._ip(self.src, self.dst, ttl) / seg / (Raw(data) if data else b"")
        got = self.w.from_lan(pkt, wait)
        if got is not None and got.haslayer(TCP) and got[TCP].dport == self.dport:
            self.nat_port = got[TCP].sport
            self.nat_addr = got[IPv6].src if self.v6 else got[IP].src
        return got

    def s(self, flags, seq, ack=0, data=b"", win=65160, options=None, ttl=64, wait=0.3):
        seg = TCP(sport=self.dport, dport=self.nat_port, flags=flags, seq=seq, ack=ack, window=win, options=options or [])
        pkt = self._ip(self.dst, self.nat_addr, ttl) / seg / (Raw(data) if data else b"")
        return self.w.from_wan(pkt, wait)


class TcpSide:
    """One end of a scripted TCP connection: the next sequence number it sends, and its window scale."""

    def __init__(self, isn, wscale=None):
        self.nxt = isn
        self.wscale = wscale

    def advance(self, seq, flags, data, forwarded):
        """After a segment of this side: move on when it was the next in order and got through."""
        if forwarded is not None and seq == self.nxt:
            self.nxt = (self.nxt + len(data) + (1 if ("S" in flags or "F" in flags) else 0)) % 2**32


def syn_options(wscale, sack, ts, tsval):
    """TCP options of a SYN: MSS 1460, then SACK permitted, timestamps and window scale when asked."""
    o = [("MSS", 1460)]
    if sack:
        o.append(("SAckOK", b""))
    if ts:
        o.append(("Timestamp", (tsval, 0)))
    if wscale is not None:
        o.append(("WScale", wscale))
    return o


def show(label, frame):
    log(label, "->", frame.summary() if frame is not None else "(nothing)")
