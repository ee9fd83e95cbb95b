"""Conntrack scenarios recorded by record.py (`record.py scenarios`).

Each scenario is {name, sysctl?, steps}; a step is (t, side, packet) with side "a" (the client side,
10.81.1.2 / fd81:1::2) or "b" (the server side, 10.81.2.2 / fd81:2::2), or (t, "list").
"""


def scenarios(R):
    from scapy.all import (
        GRE, ICMP, IP, SCTP, TCP, UDP, IPv6, Raw, ICMPv6EchoRequest, ICMPv6EchoReply, ICMPv6DestUnreach,
        ICMPv6ND_NS, SCTPChunkInit, SCTPChunkInitAck, SCTPChunkCookieEcho, SCTPChunkCookieAck, SCTPChunkData,
        SCTPChunkShutdown, SCTPChunkShutdownAck, SCTPChunkShutdownComplete, SCTPChunkAbort,
    )
    A4, B4, A6, B6 = R.A4, R.B4, R.A6, R.B6
    out = []

    def ip(side, fam=4, **kw):
        if fam == 4:
            return IP(src=A4, dst=B4, **kw) if side == "a" else IP(src=B4, dst=A4, **kw)
        return IPv6(src=A6, dst=B6, **kw) if side == "a" else IPv6(src=B6, dst=A6, **kw)

    class Conv:
        """A TCP conversation between A:cport and B:sport with sequence bookkeeping."""

        def __init__(self, cport, sport=80, a=1000, b=50000, fam=4, dt=0.02):
            self.cport, self.sport, self.fam, self.dt = cport, sport, fam, dt
            self.sa, self.sb = a, b
            self.t = 0.0
            self.steps = []

        def pkt(self, side, flags, seq=None, ack=None, win=64240, data=b"", opts=None, chksum=None, adv=True):
            if side == "a":
                s = self.sa if seq is None else seq
                k = self.sb if ack is None else ack
                t = TCP(sport=self.cport, dport=self.sport, flags=flags, seq=s & 0xffffffff,
                        ack=(k if "A" in flags else 0) & 0xffffffff, window=win, options=opts or [])
            else:
                s = self.sb if seq is None else seq
                k = self.sa if ack is None else ack
                t = TCP(sport=self.sport, dport=self.cport, flags=flags, seq=s & 0xffffffff,
                        ack=(k if "A" in flags else 0) & 0xffffffff, window=win, options=opts or [])
            if chksum is not None:
                t.chksum = chksum
            p = ip(side, self.fam) / t
            if data:
                p = p / Raw(data)
            self.steps.append((self.t, side, p))
            self.t += self.dt
            if adv and seq is None:
                n = len(data) + (1 if "S" in flags else 0) + (1 if "F" in flags else 0)
                if side == "a":
                    self.sa += n
                else:
                    self.sb += n

        def wait(self, s):
            self.t += s

        def list(self):
            self.steps.append((self.t, "list"))
            self.t += 0.01

        def handshake(self, opts_a=None, opts_b=None, win_a=64240, win_b=65160):
            self.pkt("a", "S", opts=opts_a, win=win_a)
            self.pkt("b", "SA", opts=opts_b, win=win_b)
            self.pkt("a", "A", win=win_a if not opts_a else 502)

    def add(name, conv_or_steps, sysctl=None):
        steps = conv_or_steps.steps if isinstance(conv_or_steps, Conv) else conv_or_steps
        out.append({"name": name, "steps": steps, "sysctl": sysctl or {}})

    OPTS_A = [("MSS", 1460), ("SAckOK", b""), ("Timestamp", (1000, 0)), ("NOP", None), ("WScale", 7)]
    OPTS_B = [("MSS", 1460), ("SAckOK", b""), ("Timestamp", (2000, 1000)), ("NOP", None), ("WScale", 7)]

    # ---- TCP walk-throughs -----------------------------------------------------------------------
    c = Conv(30001)
    c.handshake(OPTS_A, OPTS_B)
    c.list()
    c.pkt("a", "PA", data=b"x" * 100, win=502)
    c.pkt("b", "A", win=509)
    c.pkt("b", "PA", data=b"y" * 1000, win=509)
    c.pkt("a", "A", win=502)
    c.list()
    c.pkt("a", "FA", win=502)
    c.list()
    c.pkt("b", "A", win=509)
    c.list()
    c.pkt("b", "FA", win=509)
    c.list()
    c.pkt("a", "A", win=502)
    c.list()
    add("tcp: handshake with options, data, close by the client", c)

    c = Conv(30002)
    c.handshake()
    c.pkt("b", "FA")
    c.list()
    c.pkt("a", "A")
    c.pkt("a", "FA")
    c.list()
    c.pkt("b", "A")
    c.list()
    add("tcp: close by the server", c)

    c = Conv(30003)
    c.handshake()
    c.pkt("a", "FA", adv=False)
    c.pkt("b", "FA", adv=False)
    c.sa += 1
    c.sb += 1
    c.pkt("a", "A")
    c.pkt("b", "A")
    c.list()
    add("tcp: simultaneous close", c)

    c = Conv(30004, a=7000, b=9000)
    c.pkt("a", "S")
    c.pkt("b", "S")
    c.list()
    c.pkt("a", "SA", seq=7000, ack=9001)
    c.pkt("b", "SA", seq=9000, ack=7001)
    c.list()
    c.pkt("a", "A")
    c.pkt("b", "A")
    c.list()
    add("tcp: simultaneous open", c)

    c = Conv(30005)
    c.pkt("a", "S")
    c.pkt("b", "RA", seq=0, ack=c.sa)
    c.list()
    add("tcp: refused connection (RST/ACK answers the SYN)", c)

    c = Conv(30006)
    c.pkt("a", "S")
    c.list()
    c.wait(2.0)
    c.pkt("a", "S", seq=1000)
    c.list()
    add("tcp: a retransmitted SYN does not refresh the timeout", c)

    c = Conv(30007)
    c.handshake()
    c.pkt("a", "R")
    c.list()
    add("tcp: RST from the client in ESTABLISHED", c)

    c = Conv(30008)
    c.handshake()
    c.pkt("a", "PA", data=b"z" * 10)
    c.pkt("b", "A")
    c.pkt("b", "R", seq=c.sb + 5000)
    c.list()
    c.pkt("b", "R", seq=c.sb - 70000)
    c.list()
    add("tcp: RST with an inexact sequence keeps ESTABLISHED (challenge ACK); one below the window is invalid", c)

    c = Conv(30009)
    c.handshake()
    c.pkt("b", "R", seq=c.sb - 100)
    c.list()
    add("tcp: RST below the acked sequence is invalid", c, {"nf_conntrack_tcp_ignore_invalid_rst": "0"})
    c = Conv(30010)
    c.handshake()
    c.pkt("b", "R", seq=c.sb - 100)
    c.list()
    add("tcp: ignore_invalid_rst=1 accepts it", c, {"nf_conntrack_tcp_ignore_invalid_rst": "1"})

    c = Conv(30011)
    c.handshake()
    c.pkt("a", "PA", data=b"d" * 50, adv=False)
    for _ in range(4):
        c.pkt("a", "PA", data=b"d" * 50, seq=c.sa)
        c.list()
    add("tcp: retransmissions switch to the RETRANS timeout", c)

    c = Conv(30012)
    c.handshake()
    c.pkt("a", "PA", data=b"u" * 100)
    c.list()
    c.pkt("b", "A")
    c.list()
    add("tcp: unacknowledged data gets the UNACK timeout", c)

    c = Conv(30013)
    c.handshake()
    c.pkt("a", "PA", data=b"w" * 10)
    c.pkt("b", "A", win=0)
    c.pkt("b", "A", win=0)
    c.list()
    add("tcp: zero window (last_win 0) gets the RETRANS timeout", c)

    c = Conv(30014)
    c.handshake()
    c.pkt("a", "PA", data=b"o" * 10, seq=c.sa + 200000)
    c.list()
    c.pkt("a", "A", ack=c.sb + 100000)
    c.list()
    c.pkt("a", "PA", data=b"o" * 10, seq=c.sa - 100000)
    c.list()
    c.pkt("a", "A", ack=c.sb - 200000)
    c.list()
    add("tcp: out of window: seq over (invalid), ack over (invalid), old data (ignored), old ack (ignored)", c)

    c = Conv(30015)
    c.handshake()
    c.pkt("a", "PA", data=b"o" * 10, seq=c.sa + 200000)
    c.list()
    add("tcp: be_liberal=1 accepts out-of-window segments", c, {"nf_conntrack_tcp_be_liberal": "1"})

    c = Conv(30016)
    c.handshake(win_a=1000, win_b=1000)
    c.pkt("a", "PA", data=b"p" * 1000, win=1000)
    c.pkt("a", "PA", data=b"p" * 500, win=1000)
    c.list()
    c.pkt("b", "A", win=1000)
    c.list()
    add("tcp: overshooting the receive window by a little is ignored, then acked", c)

    c = Conv(30017)
    c.handshake(OPTS_A, OPTS_B, win_a=64240, win_b=65160)
    c.pkt("b", "A", win=2000)
    c.pkt("a", "PA", data=b"s" * 1400, win=502)
    c.pkt("a", "PA", data=b"s" * 1400, win=502)
    c.pkt("a", "PA", data=b"s" * 1400, win=502)
    c.list()
    c.pkt("b", "A", ack=c.sa - 2800, win=2000,
          opts=[("NOP", None), ("NOP", None), ("SAck", ((c.sa - 1400) & 0xffffffff, c.sa & 0xffffffff))])
    c.list()
    add("tcp: window scaling (scaled window allows data) and a SACK above the ack", c)

    for flags, label in (("SF", "SYN|FIN"), ("SR", "SYN|RST"), ("F", "FIN alone"), ("", "no flags"),
                         ("FPU", "XMAS (FIN|PSH|URG)"), ("RF", "RST|FIN"), ("SAF", "SYN|ACK|FIN")):
        c = Conv(30100 + len(out))
        c.handshake()
        c.pkt("a", flags, adv=False)
        c.list()
        c.pkt("a", flags, adv=False, seq=5)
        add(f"tcp: invalid flag combination {label}", c)

    c = Conv(30018)
    c.pkt("a", "A", seq=123456, ack=654321)
    c.list()
    c.pkt("b", "A", seq=654321, ack=123456)
    c.list()
    c.pkt("a", "PA", seq=123456, ack=654321, data=b"m" * 10)
    c.list()
    c.pkt("b", "A", seq=654321, ack=123466)
    c.list()
    add("tcp: mid-stream pickup (tcp_loose=1)", c)

    c = Conv(30019)
    c.pkt("a", "A", seq=123456, ack=654321)
    c.list()
    add("tcp: tcp_loose=0 refuses to pick up", c, {"nf_conntrack_tcp_loose": "0"})

    c = Conv(30020)
    c.handshake()
    c.pkt("a", "FA")
    c.pkt("b", "FA")
    c.pkt("a", "A")
    c.list()
    c.pkt("a", "S", seq=c.sa + 100000)
    c.list()
    c.pkt("b", "SA", seq=777777, ack=c.sa + 100001)
    c.list()
    add("tcp: port reuse: a new SYN reopens from TIME_WAIT", c)

    c = Conv(30021)
    c.handshake()
    c.pkt("a", "FA")
    c.pkt("b", "A")
    c.pkt("b", "FA")
    c.list()
    c.pkt("a", "S", seq=c.sa + 5000)
    c.pkt("b", "A", seq=c.sb, ack=c.sa)
    c.list()
    c.pkt("a", "A")
    c.list()
    add("tcp: RFC 5961 challenge ACK in LAST_ACK is not the last ACK", c)

    c = Conv(30022)
    c.handshake()
    c.pkt("a", "S", seq=c.sa + 900000)
    c.list()
    c.pkt("b", "SA", seq=4242, ack=c.sa + 900001)
    c.list()
    c.pkt("a", "A", seq=c.sa + 900001, ack=4243)
    c.list()
    add("tcp: a SYN/ACK answering an ignored SYN resynchronises", c)

    c = Conv(30023)
    c.pkt("a", "S")
    c.pkt("b", "A", seq=88888, ack=12345)
    c.list()
    c.pkt("a", "R", seq=12345)
    c.list()
    add("tcp: challenge ACK in SYN_SENT and the RST answering it", c)

    c = Conv(30024, fam=6)
    c.handshake(OPTS_A, OPTS_B)
    c.pkt("a", "PA", data=b"v6" * 20, win=502)
    c.pkt("b", "A", win=509)
    c.list()
    c.pkt("a", "FA", win=502)
    c.pkt("b", "FA", win=509)
    c.pkt("a", "A", win=502)
    c.list()
    add("tcp ipv6: handshake, data, close", c)

    c = Conv(30025)
    c.pkt("a", "S", chksum=0x1234)
    c.list()
    c.pkt("a", "S")
    c.pkt("b", "SA", chksum=0x4321)
    c.list()
    add("tcp: bad checksums are invalid", c)
    c = Conv(30026)
    c.pkt("a", "S", chksum=0x1234)
    c.list()
    add("tcp: nf_conntrack_checksum=0 skips the check", c, {"nf_conntrack_checksum": "0"})

    c = Conv(30027)
    c.pkt("a", "S")
    c.list()
    c.wait(3.5)
    c.list()
    add("tcp: a short syn_sent timeout expires the entry", c, {"nf_conntrack_tcp_timeout_syn_sent": "3"})

    # ---- UDP --------------------------------------------------------------------------------------
    def udp(side, sport, dport, data=b"q", fam=4, **kw):
        return ip(side, fam) / UDP(sport=sport, dport=dport, **kw) / Raw(data)

    add("udp: unreplied, replied, stream after 2 s", [
        (0.0, "a", udp("a", 40001, 53)), (0.05, "list"),
        (0.1, "b", udp("b", 53, 40001)), (0.15, "list"),
        (0.3, "a", udp("a", 40001, 53)), (0.35, "list"),
        (2.4, "a", udp("a", 40001, 53)), (2.45, "list"),
        (2.6, "b", udp("b", 53, 40001)), (2.65, "list"),
    ])
    add("udp: length and checksum errors; a zero checksum passes", [
        (0.0, "a", ip("a") / UDP(sport=40002, dport=53, len=100) / Raw(b"abc")),
        (0.02, "a", ip("a") / UDP(sport=40003, dport=53, len=4) / Raw(b"abc")),
        (0.04, "a", ip("a") / UDP(sport=40004, dport=53, chksum=0x1111) / Raw(b"abc")),
        (0.06, "a", ip("a") / UDP(sport=40005, dport=53, chksum=0) / Raw(b"abc")),
        (0.08, "a", ip("a", 6) / UDP(sport=40006, dport=53, chksum=0) / Raw(b"abc")),
        (0.1, "list"),
    ])
    add("udp: short timeout set by sysctl", [
        (0.0, "a", udp("a", 40007, 53)), (0.05, "list"), (2.2, "list"),
    ], {"nf_conntrack_udp_timeout": "2"})
    add("udp ipv6: request and answer", [
        (0.0, "a", udp("a", 40008, 53, fam=6)), (0.02, "b", udp("b", 53, 40008, fam=6)), (0.05, "list"),
    ])
    def udplite(side, sport, dport, data):
        # RFC 3828: coverage 0 (whole datagram); the checksum covers the pseudo header as UDP's does
        import struct
        src, dst = (A4, B4) if side == "a" else (B4, A4)
        body = struct.pack("!HHHH", sport, dport, 0, 0) + data
        ph = bytes(map(int, src.split("."))) + bytes(map(int, dst.split("."))) + struct.pack("!BBH", 0, 136, len(body))
        blob = ph + body + (b"\0" if len(body) % 2 else b"")
        ssum = sum(struct.unpack("!%dH" % (len(blob) // 2), blob))
        while ssum > 0xffff:
            ssum = (ssum & 0xffff) + (ssum >> 16)
        c = (~ssum) & 0xffff or 0xffff
        body = body[:6] + struct.pack("!H", c) + body[8:]
        return ip(side, proto=136) / Raw(body)

    add("udplite: request and answer", [
        (0.0, "a", udplite("a", 40009, 53, b"lite")),
        (0.02, "b", udplite("b", 53, 40009, b"lite")), (0.05, "list"),
    ])

    # ---- ICMP -------------------------------------------------------------------------------------
    add("icmp: echo request and reply", [
        (0.0, "a", ip("a") / ICMP(type=8, id=4660, seq=1)), (0.02, "list"),
        (0.04, "b", ip("b") / ICMP(type=0, id=4660, seq=1)), (0.06, "list"),
    ])
    add("icmp: an echo reply alone is invalid; timestamp, info and address mask queries", [
        (0.0, "b", ip("b") / ICMP(type=0, id=99, seq=1)),
        (0.02, "a", ip("a") / ICMP(type=13, id=100)),
        (0.04, "a", ip("a") / ICMP(type=15, id=101)),
        (0.06, "a", ip("a") / ICMP(type=17, id=102)),
        (0.08, "b", ip("b") / ICMP(type=14, id=100)),
        (0.1, "list"),
    ])
    add("icmp: unknown type and router advertisement", [
        (0.0, "a", ip("a") / ICMP(type=42, id=1)),
        (0.02, "a", ip("a") / ICMP(type=9, id=1)),
        (0.04, "list"),
    ])
    u = udp("a", 40010, 5353)
    t = Conv(30028)
    t.handshake()
    add("icmp errors: port unreachable for UDP, TTL exceeded for TCP and echo, wrong outer daddr, no conn", [
        (0.0, "a", u),
        (0.02, "b", ip("b") / ICMP(type=3, code=3) / bytes(u)[:28]),
        (0.04, "a", ip("a") / ICMP(type=8, id=7, seq=1)),
        (0.06, "b", ip("b") / ICMP(type=11, code=0) / bytes(ip("a") / ICMP(type=8, id=7, seq=1))[:28]),
        (0.08, "b", ip("b") / ICMP(type=3, code=1) / bytes(ip("a") / UDP(sport=1, dport=2) / Raw(b"x"))[:28]),
        (0.10, "a", IP(src=A4, dst="10.81.2.77") / ICMP(type=3, code=3) / bytes(udp("b", 5353, 40010))[:28]),
        (0.12, "b", IP(src="10.81.2.9", dst=A4) / ICMP(type=3, code=3) / bytes(u)[:28]),
        (0.14, "list"),
    ] + [(0.2 + s[0], *s[1:]) for s in t.steps] + [
        (0.4, "b", IP(src="10.81.2.9", dst=A4) / ICMP(type=11, code=0) / bytes(ip("a") / TCP(sport=30028, dport=80, flags="A", seq=1001, ack=50001))[:28]),
        (0.42, "list"),
    ])
    add("icmpv6: echo, neighbour solicitation (untracked), destination unreachable", [
        (0.0, "a", ip("a", 6) / ICMPv6EchoRequest(id=300, seq=1)),
        (0.02, "b", ip("b", 6) / ICMPv6EchoReply(id=300, seq=1)),
        (0.04, "a", IPv6(src=A6, dst="ff02::1:ff00:2", hlim=255) / ICMPv6ND_NS(tgt=B6)),
        (0.06, "a", udp("a", 40011, 53, fam=6)),
        (0.08, "b", ip("b", 6) / ICMPv6DestUnreach(code=4) / bytes(udp("a", 40011, 53, fam=6))),
        (0.1, "b", ip("b", 6) / ICMPv6EchoReply(id=301, seq=1)),
        (0.12, "list"),
    ])
    add("icmp: short timeout set by sysctl", [
        (0.0, "a", ip("a") / ICMP(type=8, id=5, seq=1)), (0.05, "list"), (2.2, "list"),
    ], {"nf_conntrack_icmp_timeout": "2"})

    # ---- GRE, generic, SCTP ----------------------------------------------------------------------
    add("gre (version 0) and a generic protocol", [
        (0.0, "a", ip("a") / GRE() / Raw(b"gre")),
        (0.02, "a", ip("a", proto=99) / Raw(b"generic")),
        (0.04, "a", ip("a", 6, nh=99) / Raw(b"generic6")),
        (0.06, "list"),
        (0.08, "b", ip("b") / GRE() / Raw(b"gre")),
        (0.1, "b", ip("b", proto=99) / Raw(b"generic")),
        (0.12, "list"),
    ])
    add("dccp is tracked generically (no ports)", [
        (0.0, "a", ip("a", proto=33) / Raw(bytes([0x9c, 0x41, 0, 80]) + bytes(12))),
        (0.02, "list"),
    ])
    add("sctp: association setup, data, shutdown", [
        (0.0, "a", ip("a") / SCTP(sport=5001, dport=5002, tag=0) / SCTPChunkInit(init_tag=0x11111111, n_in_streams=1, n_out_streams=1, init_tsn=1)),
        (0.02, "list"),
        (0.04, "b", ip("b") / SCTP(sport=5002, dport=5001, tag=0x11111111) / SCTPChunkInitAck(init_tag=0x22222222, n_in_streams=1, n_out_streams=1, init_tsn=1)),
        (0.06, "list"),
        (0.08, "a", ip("a") / SCTP(sport=5001, dport=5002, tag=0x22222222) / SCTPChunkCookieEcho(cookie=b"cookie")),
        (0.1, "list"),
        (0.12, "b", ip("b") / SCTP(sport=5002, dport=5001, tag=0x11111111) / SCTPChunkCookieAck()),
        (0.14, "list"),
        (0.16, "a", ip("a") / SCTP(sport=5001, dport=5002, tag=0x22222222) / SCTPChunkData(tsn=1, data=b"hello")),
        (0.18, "a", ip("a") / SCTP(sport=5001, dport=5002, tag=0x12345678) / SCTPChunkData(tsn=2, data=b"bad tag")),
        (0.2, "list"),
        (0.22, "a", ip("a") / SCTP(sport=5001, dport=5002, tag=0x22222222) / SCTPChunkShutdown(cumul_tsn_ack=1)),
        (0.24, "list"),
        (0.26, "b", ip("b") / SCTP(sport=5002, dport=5001, tag=0x11111111) / SCTPChunkShutdownAck()),
        (0.28, "list"),
        (0.3, "a", ip("a") / SCTP(sport=5001, dport=5002, tag=0x22222222) / SCTPChunkShutdownComplete()),
        (0.32, "list"),
    ])
    add("sctp: abort out of the blue and a bad checksum", [
        (0.0, "a", ip("a") / SCTP(sport=5003, dport=5002, tag=5) / SCTPChunkAbort()),
        (0.02, "a", ip("a") / SCTP(sport=5004, dport=5002, tag=0, chksum=0x1234) / SCTPChunkInit(init_tag=3)),
        (0.04, "list"),
    ])

    return more_scenarios(R, out)


def more_scenarios(R, out):
    from scapy.all import IP, IPv6, TCP, UDP, ICMP, Raw, IPv6ExtHdrHopByHop, IPv6ExtHdrDestOpt
    import struct
    A4, B4, A6, B6 = R.A4, R.B4, R.A6, R.B6

    def udplite17(side, sport, dport, data):
        # UDP-Lite with its checksum computed over a pseudo header carrying protocol 17 (what Linux's
        # conntrack verifies)
        src, dst = (A4, B4) if side == "a" else (B4, A4)
        body = struct.pack("!HHHH", sport, dport, 0, 0) + data
        ph = bytes(map(int, src.split("."))) + bytes(map(int, dst.split("."))) + struct.pack("!BBH", 0, 17, len(body))
        blob = ph + body + (b"\0" if len(body) % 2 else b"")
        ssum = sum(struct.unpack("!%dH" % (len(blob) // 2), blob))
        while ssum > 0xffff:
            ssum = (ssum & 0xffff) + (ssum >> 16)
        c = (~ssum) & 0xffff or 0xffff
        body = body[:6] + struct.pack("!H", c) + body[8:]
        return (IP(src=src, dst=dst, proto=136) / Raw(body))

    out.append({"name": "udplite: a checksum over a protocol-17 pseudo header passes conntrack", "sysctl": {}, "steps": [
        (0.0, "a", udplite17("a", 40020, 53, b"lite")),
        (0.02, "b", udplite17("b", 53, 40020, b"lite")),
        (0.04, "a", udplite17("a", 40020, 53, b"lite")),
        (0.06, "list"),
    ]})

    def t4(side, sp, dp, flags, seq, ack, data=b"", win=64240, opts=None):
        ip = IP(src=A4, dst=B4) if side == "a" else IP(src=B4, dst=A4)
        p = ip / TCP(sport=sp, dport=dp, flags=flags, seq=seq, ack=ack if "A" in flags else 0, window=win, options=opts or [])
        return p / Raw(data) if data else p

    out.append({"name": "acct=1: packets and bytes per direction, the refusing RST counted", "sysctl": {"nf_conntrack_acct": "1"}, "steps": [
        (0.0, "a", t4("a", 30200, 80, "S", 100, 0)),
        (0.02, "b", t4("b", 80, 30200, "SA", 900, 101)),
        (0.04, "a", t4("a", 30200, 80, "A", 101, 901)),
        (0.06, "a", t4("a", 30200, 80, "PA", 101, 901, b"x" * 300)),
        (0.08, "b", t4("b", 80, 30200, "A", 901, 401)),
        (0.1, "a", t4("a", 30201, 81, "S", 100, 0)),
        (0.12, "b", t4("b", 81, 30201, "RA", 0, 101)),
        (0.14, "a", IP(src=A4, dst=B4) / UDP(sport=40030, dport=53) / Raw(b"q" * 10)),
        (0.16, "list"),
    ]})

    out.append({"name": "tcp: window scale above 14 is capped", "sysctl": {}, "steps": [
        (0.0, "a", t4("a", 30202, 80, "S", 100, 0, win=65535, opts=[("WScale", 15)])),
        (0.02, "b", t4("b", 80, 30202, "SA", 900, 101, win=65535, opts=[("WScale", 15)])),
        (0.04, "a", t4("a", 30202, 80, "A", 101, 901, win=65535)),
        (0.06, "b", t4("b", 80, 30202, "A", 901, 101, win=65535)),
        (0.08, "a", t4("a", 30202, 80, "PA", 101 + 65535 * 16384 - 1000, 901, b"big", win=65535)),
        (0.1, "list"),
        (0.12, "a", t4("a", 30202, 80, "PA", 101 + 65535 * 16384 + 100000, 901, b"big", win=65535)),
        (0.14, "list"),
    ]})

    out.append({"name": "tcp ipv6 with hop-by-hop and destination options headers", "sysctl": {}, "steps": [
        (0.0, "a", IPv6(src=A6, dst=B6) / IPv6ExtHdrHopByHop() / IPv6ExtHdrDestOpt() / TCP(sport=30203, dport=80, flags="S", seq=5)),
        (0.02, "b", IPv6(src=B6, dst=A6) / IPv6ExtHdrDestOpt() / TCP(sport=80, dport=30203, flags="SA", seq=9, ack=6)),
        (0.04, "a", IPv6(src=A6, dst=B6) / TCP(sport=30203, dport=80, flags="A", seq=6, ack=10)),
        (0.06, "list"),
    ]})

    out.append({"name": "icmp: an error quoting an echo reply (no answer type) and an error quoting an error", "sysctl": {}, "steps": [
        (0.0, "a", IP(src=A4, dst=B4) / ICMP(type=8, id=3)),
        (0.02, "b", IP(src=B4, dst=A4) / ICMP(type=3, code=1) / bytes(IP(src=A4, dst=B4) / ICMP(type=0, id=3))[:28]),
        (0.04, "b", IP(src=B4, dst=A4) / ICMP(type=3, code=1) / bytes(IP(src=A4, dst=B4) / ICMP(type=3, code=3))[:28]),
        (0.06, "b", IP(src=B4, dst=A4) / ICMP(type=11, code=0) / bytes(IP(src=A4, dst=B4) / ICMP(type=8, id=3))[:28]),
        (0.08, "list"),
    ]})
    return out
