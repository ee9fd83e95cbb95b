# Generates rules.v4 for the rules-random scenario (seeded; run: python3 gen_rules.py > rules.v4; seed 5150 + 2 * 1000).
import random

rng = random.Random(5150 + 2 * 1000)
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


print("*mangle")
for c in ["PREROUTING", "INPUT", "FORWARD", "OUTPUT", "POSTROUTING"]:
    print(f":{c} ACCEPT [0:0]")
for _ in range(4):
    r = rule("PREROUTING", [])
    if "REJECT" in r or "-j DROP" in r or "-o " in r:
        continue
    print(r)
print("COMMIT")
print("*nat")
for c in ["PREROUTING", "INPUT", "OUTPUT", "POSTROUTING"]:
    print(f":{c} ACCEPT [0:0]")
print("-A PREROUTING -d 10.77.2.1/32 -i wan0 -p tcp -m tcp --dport 8080 -j DNAT --to-destination 10.77.1.2:80")
print("-A PREROUTING -d 10.77.2.1/32 -i wan0 -p udp -m udp --dport 5000 -j DNAT --to-destination 10.77.1.10")
print("-A POSTROUTING -o wan0 -j MASQUERADE")
print("COMMIT")
print("*filter")
print(":INPUT ACCEPT [0:0]")
print(":FORWARD ACCEPT [0:0]")
print(":OUTPUT ACCEPT [0:0]")
for c in USER:
    print(f":{c} - [0:0]")
for _ in range(12):
    print(rule("FORWARD", USER[:2]))
for _ in range(5):
    print(rule("INPUT", []))
for i, c in enumerate(USER):
    for _ in range(rng.randrange(3, 7)):
        print(rule(c, USER[i + 1 :]))
print("COMMIT")
