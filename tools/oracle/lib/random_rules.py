"""
Random iptables rulesets and random traffic for the rules-random scenarios: ruleset(seed) is the text of
an iptables-save style ruleset, traffic(seed) sends the packets (in a scenario's traffic.py, run by the
recorder). The same seeds give the same ruleset and the same traffic.
"""

import random


def ruleset(seed):
    """A random ruleset (mangle, nat, filter with user chains) as iptables-restore reads it."""
    rng = random.Random(seed)
    out = []
    LAN, WAN = "10.77.1.0/24", "10.77.2.0/24"
    HOSTS = ["10.77.1.2", "10.77.1.10", "10.77.1.11", "10.77.2.2", "10.77.2.1", "10.77.1.1"]
    PORTS = [53, 80, 443, 8080, 5000, 5001]
    USER = ["C1", "C2", "C3", "C4"]


    def addr():
        r = rng.random()
        if r < 0.4:
            return rng.choice(HOSTS) + "/32"
        if r < 0.7:
            return rng.choice([LAN, WAN, "10.77.0.0/16", "10.77.1.8/29"])
        return rng.choice(HOSTS) + "/" + str(rng.choice([24, 28, 30, 31]))


    def match():
        kind = rng.choice(
            ["src", "dst", "proto", "tcp", "udp", "icmp", "iface", "ctstate", "mark", "connmark", "multiport", "length", "ttl", "iprange", "addrtype", "pkttype", "state", "ctdir", "ctstatus", "nth"]
        )
        neg = "! " if rng.random() < 0.2 else ""
        if kind == "src":
            return f"{neg}-s {addr()}"
        if kind == "dst":
            return f"{neg}-d {addr()}"
        if kind == "proto":
            return f"{neg}-p {rng.choice(['tcp', 'udp', 'icmp'])}"
        if kind == "tcp":
            opt = rng.choice(["dport", "sport", "flags", "syn"])
            if opt == "dport":
                p = rng.choice(PORTS)
                return f"-p tcp -m tcp {neg}--dport {p if rng.random() < 0.6 else str(p) + ':' + str(p + rng.randrange(1, 3000))}"
            if opt == "sport":
                return f"-p tcp -m tcp {neg}--sport {rng.choice(['1024:65535', '40000:50000', '53'])}"
            if opt == "flags":
                return f"-p tcp -m tcp {neg}--tcp-flags {rng.choice(['SYN,RST,ACK,FIN SYN', 'SYN,ACK SYN,ACK', 'RST RST', 'FIN,SYN,RST,PSH,ACK,URG NONE', 'ACK ACK'])}"
            return f"-p tcp -m tcp {neg}--syn"
        if kind == "udp":
            return f"-p udp -m udp {neg}--dport {rng.choice(PORTS)}"
        if kind == "icmp":
            return f"-p icmp -m icmp {neg}--icmp-type {rng.choice(['echo-request', 'echo-reply', 'destination-unreachable', '3/3', 'time-exceeded', 'any'])}"
        if kind == "iface":
            return f"{neg}-{rng.choice(['i', 'o'])} {rng.choice(['lan0', 'wan0', 'lan+', 'eth+'])}"
        if kind == "ctstate":
            states = rng.sample(["NEW", "ESTABLISHED", "RELATED", "INVALID", "UNTRACKED", "SNAT", "DNAT"], rng.randrange(1, 3))
            return f"-m conntrack {neg}--ctstate {','.join(states)}"
        if kind == "state":
            return f"-m state {neg}--state {','.join(rng.sample(['NEW', 'ESTABLISHED', 'RELATED', 'INVALID'], rng.randrange(1, 3)))}"
        if kind == "ctdir":
            return f"-m conntrack --ctdir {rng.choice(['ORIGINAL', 'REPLY'])}"
        if kind == "ctstatus":
            return f"-m conntrack {neg}--ctstatus {rng.choice(['SEEN_REPLY', 'ASSURED', 'CONFIRMED', 'NONE'])}"
        if kind == "mark":
            return f"-m mark {neg}--mark {rng.choice(['0x1', '0x2', '0x1/0x1', '0x0/0xff', '0x10/0x10'])}"
        if kind == "connmark":
            return f"-m connmark {neg}--mark {rng.choice(['0x1', '0x2/0x2', '0x0'])}"
        if kind == "multiport":
            ps = ",".join(str(p) for p in rng.sample(PORTS, 3))
            return f"-p {rng.choice(['tcp', 'udp'])} -m multiport {neg}--{rng.choice(['dports', 'sports', 'ports'])} {ps}"
        if kind == "length":
            lo = rng.choice([0, 40, 60, 100, 200])
            return f"-m length {neg}--length {lo}:{lo + rng.choice([20, 100, 1000])}"
        if kind == "ttl":
            return f"-m ttl --ttl-{rng.choice(['eq', 'lt', 'gt'])} {rng.choice([1, 2, 63, 64])}"
        if kind == "iprange":
            return f"-m iprange {neg}--{rng.choice(['src', 'dst'])}-range 10.77.1.5-10.77.2.1"
        if kind == "addrtype":
            return f"-m addrtype {neg}--{rng.choice(['src', 'dst'])}-type {rng.choice(['LOCAL', 'UNICAST', 'BROADCAST'])}"
        if kind == "pkttype":
            return f"-m pkttype {neg}--pkt-type {rng.choice(['unicast', 'broadcast'])}"
        return f"-m statistic --mode nth --every {rng.choice([2, 3, 5])} --packet {rng.choice([0, 1])}"


    def target(chain, allowed_jumps):
        r = rng.random()
        if r < 0.2:
            return "-j ACCEPT"
        if r < 0.35:
            return "-j DROP"
        if r < 0.45:
            return "-j RETURN" if chain in USER else "-j ACCEPT"
        if r < 0.6 and allowed_jumps:
            return f"-{rng.choice(['j', 'j', 'g'])} {rng.choice(allowed_jumps)}"
        if r < 0.7:
            return f"-j MARK --{rng.choice(['set-xmark 0x1/0xffffffff', 'or-mark 0x10', 'xor-mark 0x2', 'and-mark 0xfffffffe'])}"
        if r < 0.78:
            return f"-j CONNMARK --{rng.choice(['save-mark', 'restore-mark', 'set-mark 0x2', 'set-xmark 0x1/0x1'])}"
        if r < 0.9:
            return "-j REJECT --reject-with " + rng.choice(
                ["icmp-port-unreachable", "icmp-net-unreachable", "icmp-host-unreachable", "icmp-proto-unreachable", "icmp-net-prohibited", "icmp-host-prohibited", "icmp-admin-prohibited", "tcp-reset"]
            )
        return ""  # no target: counts only


    def rule(chain, allowed_jumps):
        parts = [match() for _ in range(rng.choice([1, 1, 2, 2, 3]))]
        t = target(chain, allowed_jumps)
        if "tcp-reset" in t and not any("-p tcp" in p and not p.startswith("! ") for p in parts):
            parts.insert(0, "-p tcp")
        # one protocol per rule: a later part that names a protocol is left out
        seen, flags, out = False, set(), []
        for p in parts:
            if "-p " in p:
                if seen:
                    continue
                seen = True
            flag = p.replace("! ", "").split(" ")[0]
            if flag in ("-s", "-d", "-i", "-o"):
                if flag in flags:
                    continue
                flags.add(flag)
            out.append(p)
        return f"-A {chain} " + " ".join(out) + (" " + t if t else "")


    out.append("*mangle")
    for c in ["PREROUTING", "INPUT", "FORWARD", "OUTPUT", "POSTROUTING"]:
        out.append(f":{c} ACCEPT [0:0]")
    for _ in range(4):
        r = rule("PREROUTING", [])
        if "REJECT" in r or "-j DROP" in r or "-o " in r:
            continue
        out.append(r)
    out.append("COMMIT")
    out.append("*nat")
    for c in ["PREROUTING", "INPUT", "OUTPUT", "POSTROUTING"]:
        out.append(f":{c} ACCEPT [0:0]")
    out.append("-A PREROUTING -d 10.77.2.1/32 -i wan0 -p tcp -m tcp --dport 8080 -j DNAT --to-destination 10.77.1.2:80")
    out.append("-A PREROUTING -d 10.77.2.1/32 -i wan0 -p udp -m udp --dport 5000 -j DNAT --to-destination 10.77.1.10")
    out.append("-A POSTROUTING -o wan0 -j MASQUERADE")
    out.append("COMMIT")
    out.append("*filter")
    out.append(":INPUT ACCEPT [0:0]")
    out.append(":FORWARD ACCEPT [0:0]")
    out.append(":OUTPUT ACCEPT [0:0]")
    for c in USER:
        out.append(f":{c} - [0:0]")
    for _ in range(12):
        out.append(rule("FORWARD", USER[:2]))
    for _ in range(5):
        out.append(rule("INPUT", []))
    for i, c in enumerate(USER):
        for _ in range(rng.randrange(3, 7)):
            out.append(rule(c, USER[i + 1 :]))
    out.append("COMMIT")
    return "\n".join(out) + "\n"


def traffic(seed):
    """Random TCP, UDP and ICMP from both sides through the gateway, then done()."""
    from oracle import GW_WAN4, done
    from scripted import ICMP, IP, TCP, UDP, Raw, TcpFlow, Wire, show

    rng = random.Random(seed)
    w = Wire()
    LAN_HOSTS = ["10.77.1.2", "10.77.1.10", "10.77.1.11"]
    WAN_HOST = "10.77.2.2"
    PORTS = [53, 80, 443, 8080, 5000, 5001, 22]
    TTLS = [64, 64, 64, 63, 2, 1]

    flows = []
    for k in range(260):
        r = rng.random()
        ttl = rng.choice(TTLS)
        if r < 0.15:
            # a TCP connection opened from the lan (handshake, data both ways) through MASQUERADE
            src = rng.choice(LAN_HOSTS)
            f = TcpFlow(w, rng.randrange(40000, 60000), rng.choice(PORTS), src=src)
            c0, s0 = rng.randrange(1, 2**32), rng.randrange(1, 2**32)
            show(f"{k} SYN {src}", f.c("S", c0, 0, ttl=ttl, options=[("MSS", 1460)], wait=0.15))
            show(f"{k} SYN/ACK", f.s("SA", s0, c0 + 1, options=[("MSS", 1460)], wait=0.15))
            show(f"{k} ACK", f.c("A", c0 + 1, s0 + 1, wait=0.15))
            flows.append([f, c0 + 1, s0 + 1])
        elif r < 0.3 and flows:
            fl = rng.choice(flows)
            f, cs, ss = fl
            if rng.random() < 0.5:
                n = rng.choice([1, 50, 300])
                flags = rng.choice(["PA", "PA", "A", "FA", "R"])
                show(f"{k} c {flags}", f.c(flags, cs, ss, data=b"c" * n if flags == "PA" else b"", ttl=ttl, wait=0.15))
                if flags == "PA":
                    fl[1] = (cs + n) % 2**32
            else:
                n = rng.choice([1, 100, 1000])
                flags = rng.choice(["PA", "PA", "A", "FA", "RA"])
                show(f"{k} s {flags}", f.s(flags, ss, cs, data=b"s" * n if flags == "PA" else b"", ttl=ttl, wait=0.15))
                if flags == "PA":
                    fl[2] = (ss + n) % 2**32
        elif r < 0.5:
            src = rng.choice(LAN_HOSTS)
            dst = rng.choice([WAN_HOST, WAN_HOST, "10.77.1.1", "10.77.2.1", rng.choice(LAN_HOSTS)])
            pkt = IP(src=src, dst=dst, ttl=ttl) / UDP(sport=rng.choice([5000, 5001, 40000 + k]), dport=rng.choice(PORTS)) / Raw(b"u" * rng.choice([1, 30, 200, 600]))
            show(f"{k} udp {src} -> {dst}", w.from_lan(pkt, wait=0.12))
        elif r < 0.62:
            dst = rng.choice([GW_WAN4, GW_WAN4, "10.77.1.2", "10.77.1.10"])
            dport = rng.choice([8080, 5000, 5001, 80, 22])
            if rng.random() < 0.5:
                pkt = IP(src=WAN_HOST, dst=dst, ttl=ttl) / TCP(sport=rng.randrange(30000, 40000), dport=dport, flags=rng.choice(["S", "S", "A", "R", "SA"]), seq=rng.randrange(2**32), window=1000)
            else:
                pkt = IP(src=WAN_HOST, dst=dst, ttl=ttl) / UDP(sport=rng.randrange(30000, 40000), dport=dport) / Raw(b"w" * rng.choice([5, 100]))
            show(f"{k} wan -> {dst}:{dport}", w.from_wan(pkt, wait=0.12))
        elif r < 0.8:
            if rng.random() < 0.6:
                src = rng.choice(LAN_HOSTS)
                pkt = IP(src=src, dst=rng.choice([WAN_HOST, "10.77.1.1", "10.77.2.1"]), ttl=ttl) / ICMP(type=8, id=rng.choice([1, 2, 3]), seq=k) / Raw(b"p" * rng.choice([8, 56, 300]))
                show(f"{k} echo from {src}", w.from_lan(pkt, wait=0.12))
            else:
                pkt = IP(src=WAN_HOST, dst=rng.choice([GW_WAN4, "10.77.1.2"]), ttl=ttl) / ICMP(type=8, id=7, seq=k) / Raw(b"q" * 32)
                show(f"{k} echo from wan", w.from_wan(pkt, wait=0.12))
        else:
            # an ICMP error from the wan quoting something the gateway might have sent
            inner = IP(src=GW_WAN4, dst=WAN_HOST, ttl=1) / UDP(sport=rng.choice([5000, 5001, 40000]), dport=rng.choice(PORTS))
            kind = rng.choice([(3, 3), (3, 1), (11, 0), (3, 13)])
            pkt = IP(src=WAN_HOST, dst=GW_WAN4, ttl=ttl) / ICMP(type=kind[0], code=kind[1]) / Raw(bytes(inner)[:28])
            show(f"{k} icmp error {kind}", w.from_wan(pkt, wait=0.12))
    done()
