#!/usr/bin/python3
"""Record unit-level conntrack facts from the running Linux kernel.

Usage (root; needs python3-scapy, iproute2, conntrack):

    /usr/bin/python3 src/conntrack/testdata/record.py tcp-matrix > src/conntrack/testdata/kernel-tcp-matrix.json
    /usr/bin/python3 src/conntrack/testdata/record.py scenarios  > src/conntrack/testdata/kernel-scenarios.json

Topology (created and removed by this script):

    ctk-i  [pa] ----veth---- [a0]  ctk-g  [b0] ----veth---- [pb]  ctk-i
           10.81.1.2 / fd81:1::2 (no address configured: frames are injected)
                              10.81.1.1      10.81.2.1
                                             10.81.2.2 / fd81:2::2 (likewise injected)

The gateway ctk-g forwards with conntrack active (an INVALID-accepting FORWARD rule loads it). Static
neighbours point at the injector's interfaces, which have no addresses, so no endpoint stack ever
answers: every packet the gateway sees is one this script wrote. For each scenario the script flushes
the table, sets the scenario's sysctls, records `conntrack -E`, sends the packets at their offsets,
lists the table (`conntrack -L`) when asked, and records the statistics deltas (`conntrack -S`).

Output: JSON, a list of {name, sysctl, packets: [{t, side, hex}], lists: [{t, lines}],
events: [{t, line}], stats: {counter: delta}}; times in seconds from the scenario's first packet;
`hex` is the IP packet.
"""
import json
import os
import re
import subprocess
import sys
import time

os.environ.setdefault("SCAPY_USE_LIBPCAP", "no")
from scapy.all import (  # noqa: E402
    GRE, ICMP, IP, SCTP, TCP, UDP, Ether, ICMPv6EchoRequest, ICMPv6EchoReply, ICMPv6DestUnreach,
    ICMPv6ND_NS, IPv6, Raw, SCTPChunkInit, SCTPChunkInitAck, SCTPChunkCookieEcho, SCTPChunkCookieAck,
    SCTPChunkData, SCTPChunkShutdown, SCTPChunkShutdownAck, SCTPChunkShutdownComplete, SCTPChunkAbort,
    conf,
)

conf.verb = 0
G = "ctk-g"
I = "ctk-i"
A4, B4 = "10.81.1.2", "10.81.2.2"
A6, B6 = "fd81:1::2", "fd81:2::2"

DEFAULTS = {
    "nf_conntrack_tcp_loose": "1",
    "nf_conntrack_tcp_be_liberal": "0",
    "nf_conntrack_tcp_ignore_invalid_rst": "0",
    "nf_conntrack_tcp_max_retrans": "3",
    "nf_conntrack_checksum": "1",
    "nf_conntrack_udp_timeout": "30",
    "nf_conntrack_udp_timeout_stream": "120",
    "nf_conntrack_tcp_timeout_close": "10",
    "nf_conntrack_tcp_timeout_time_wait": "120",
    "nf_conntrack_tcp_timeout_syn_sent": "120",
    "nf_conntrack_tcp_timeout_unacknowledged": "300",
    "nf_conntrack_tcp_timeout_max_retrans": "300",
    "nf_conntrack_icmp_timeout": "30",
    "nf_conntrack_generic_timeout": "600",
    "nf_conntrack_max": "262144",
    "nf_conntrack_acct": "0",
    "nf_conntrack_gre_timeout": "30",
    "nf_conntrack_gre_timeout_stream": "180",
    "nf_conntrack_icmpv6_timeout": "30",
}


def sh(*args, check=True):
    return subprocess.run(args, check=check, capture_output=True, text=True).stdout


def g(*args, check=True):
    return sh("ip", "netns", "exec", G, *args, check=check)


def mac(ns, dev):
    out = sh("ip", "-n", ns, "-j", "link", "show", dev)
    return json.loads(out)[0]["address"]


def setup():
    teardown()
    sh("ip", "netns", "add", G)
    sh("ip", "netns", "add", I)
    sh("ip", "netns", "exec", I, "sysctl", "-qw", "net.ipv6.conf.all.disable_ipv6=1")
    sh("ip", "netns", "exec", I, "sysctl", "-qw", "net.ipv6.conf.default.disable_ipv6=1")
    sh("ip", "link", "add", "a0", "netns", G, "type", "veth", "peer", "name", "pa", "netns", I)
    sh("ip", "link", "add", "b0", "netns", G, "type", "veth", "peer", "name", "pb", "netns", I)
    for d in ("pa", "pb"):
        sh("ip", "-n", I, "link", "set", d, "up")
    g("sysctl", "-qw", "net.ipv4.ip_forward=1")
    g("sysctl", "-qw", "net.ipv6.conf.all.forwarding=1")
    for dev, v4, v6 in (("a0", "10.81.1.1/24", "fd81:1::1/64"), ("b0", "10.81.2.1/24", "fd81:2::1/64")):
        g("ip", "addr", "add", v4, "dev", dev)
        g("ip", "addr", "add", v6, "dev", dev, "nodad")
        g("ip", "link", "set", dev, "up")
    pa, pb = mac(I, "pa"), mac(I, "pb")
    g("ip", "neigh", "add", A4, "lladdr", pa, "dev", "a0", "nud", "permanent")
    g("ip", "neigh", "add", B4, "lladdr", pb, "dev", "b0", "nud", "permanent")
    g("ip", "-6", "neigh", "add", A6, "lladdr", pa, "dev", "a0", "nud", "permanent")
    g("ip", "-6", "neigh", "add", B6, "lladdr", pb, "dev", "b0", "nud", "permanent")
    # conntrack hooks are registered in a namespace only when something uses them
    g("iptables", "-A", "FORWARD", "-m", "conntrack", "--ctstate", "INVALID", "-j", "ACCEPT")
    g("ip6tables", "-A", "FORWARD", "-m", "conntrack", "--ctstate", "INVALID", "-j", "ACCEPT")
    return mac(G, "a0"), mac(G, "b0")


def teardown():
    for n in (G, I):
        subprocess.run(["ip", "netns", "del", n], capture_output=True)


def stats():
    tot = {}
    for line in g("conntrack", "-S").splitlines():
        for k, v in re.findall(r"(\w+)=(\d+)", line):
            if k != "cpu":
                tot[k] = tot.get(k, 0) + int(v)
    return tot


def set_sysctls(values):
    for k, v in values.items():
        g("sysctl", "-qw", f"net.netfilter.{k}={v}", check=False)
        got = g("sysctl", "-n", f"net.netfilter.{k}").strip()
        if got != v and k != "nf_conntrack_max":
            raise RuntimeError(f"sysctl {k}={v} did not apply (reads {got})")


class Injector:
    """Sends IP packets into the gateway from the A side (pa) or the B side (pb), in ctk-i."""

    def __init__(self, gw_a_mac, gw_b_mac):
        self.gw = {"a": gw_a_mac, "b": gw_b_mac}
        self.proc = subprocess.Popen(
            ["ip", "netns", "exec", I, "/usr/bin/python3", "-c", INJECT_LOOP],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)

    def send(self, side, ipbytes):
        self.proc.stdin.write(f"{side} {self.gw[side]} {ipbytes.hex()}\n")
        self.proc.stdin.flush()
        self.proc.stdout.readline()

    def close(self):
        self.proc.stdin.close()
        self.proc.wait()


INJECT_LOOP = r"""
import sys, socket
socks = {}
for side, dev in (("a", "pa"), ("b", "pb")):
    s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
    s.bind((dev, 0))
    socks[side] = s
src = {}
import json, subprocess
for side, dev in (("a", "pa"), ("b", "pb")):
    src[side] = bytes.fromhex(json.loads(subprocess.run(["ip", "-j", "link", "show", dev], capture_output=True, text=True).stdout)[0]["address"].replace(":", ""))
for line in sys.stdin:
    side, dst, hx = line.split()
    ip = bytes.fromhex(hx)
    etype = b"\x08\x00" if ip[0] >> 4 == 4 else b"\x86\xdd"
    socks[side].send(bytes.fromhex(dst.replace(":", "")) + src[side] + etype + ip)
    sys.stdout.write("ok\n"); sys.stdout.flush()
"""


def run_scenario(inj, sc):
    g("conntrack", "-F", check=False)
    set_sysctls(DEFAULTS)
    set_sysctls(sc.get("sysctl", {}))
    time.sleep(0.05)
    ev = subprocess.Popen(["ip", "netns", "exec", G, "conntrack", "-E", "-o", "timestamp"],
                          stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    time.sleep(0.3)
    before = stats()
    steps = sorted(sc["steps"], key=lambda s: s[0])
    t0 = time.time()
    packets, lists = [], []
    for step in steps:
        at = step[0]
        delay = t0 + at - time.time()
        if delay > 0:
            time.sleep(delay)
        if step[1] == "list":
            t = time.time() - t0
            lines = [l for l in g("conntrack", "-L", "-f", "ipv4", check=False).splitlines() if l]
            lines += [l for l in g("conntrack", "-L", "-f", "ipv6", check=False).splitlines() if l]
            lists.append({"t": round(t, 6), "lines": lines})
        else:
            side, pkt = step[1], step[2]
            raw = bytes(pkt)
            t = time.time() - t0
            inj.send(side, raw)
            packets.append({"t": round(t, 6), "side": side, "hex": raw.hex()})
    time.sleep(0.2)
    after = stats()
    time.sleep(0.3)
    ev.terminate()
    out, _ = ev.communicate()
    events = []
    for line in out.splitlines():
        m = re.match(r"\[(\d+\.\d+)\]\s+(.*)$", line)
        if m:
            events.append({"t": round(float(m.group(1)) - t0, 6), "line": m.group(2)})
    return {
        "name": sc["name"],
        "sysctl": sc.get("sysctl", {}),
        "packets": packets,
        "lists": lists,
        "events": events,
        "stats": {k: after[k] - before.get(k, 0) for k in after if after[k] != before.get(k, 0)},
    }


# ---- the TCP state x flag class x direction matrix -------------------------------------------------

STATES = ["NONE", "SYN_SENT", "SYN_RECV", "ESTABLISHED", "FIN_WAIT", "CLOSE_WAIT", "LAST_ACK",
          "TIME_WAIT", "CLOSE", "SYN_SENT2"]
CLASSES = {"syn": "S", "synack": "SA", "fin": "FA", "ack": "A", "rst": "R", "none": "P"}


def tcp(side, sport, dport, flags, seq, ack, win=64240, payload=b"", opts=None, family=4):
    if family == 4:
        ip = IP(src=A4, dst=B4) if side == "a" else IP(src=B4, dst=A4)
    else:
        ip = IPv6(src=A6, dst=B6) if side == "a" else IPv6(src=B6, dst=A6)
    t = TCP(sport=sport, dport=dport, flags=flags, seq=seq & 0xffffffff, ack=ack & 0xffffffff, window=win,
            options=opts or [])
    return ip / t / Raw(payload) if payload else ip / t


def matrix_case(idx, state, direction, cls):
    """Steps that bring a fresh connection to `state`, then the probe."""
    cport, sport = 20000 + idx, 80
    a, b = 1000000 + idx * 1000, 5000000 + idx * 1000
    steps = []
    t = 0.0

    def A(flags, seq, ack):
        nonlocal t
        steps.append((t, "a", tcp("a", cport, sport, flags, seq, ack)))
        t += 0.02

    def B(flags, seq, ack):
        nonlocal t
        steps.append((t, "b", tcp("b", sport, cport, flags, seq, ack)))
        t += 0.02

    sa, sb = a, b  # next sequence numbers of each side (a, b: ISNs)
    if state != "NONE":
        A("S", a, 0)
        sa = a + 1
        if state == "SYN_SENT2":
            B("S", b, 0)
            sb = b + 1
        elif state != "SYN_SENT":
            B("SA", b, sa)
            sb = b + 1
            if state not in ("SYN_RECV",):
                A("A", sa, sb)
                if state == "CLOSE":
                    A("R", sa, 0)
                elif state in ("FIN_WAIT", "CLOSE_WAIT", "LAST_ACK", "TIME_WAIT"):
                    A("FA", sa, sb)
                    sa += 1
                    if state != "FIN_WAIT":
                        B("A", sb, sa)
                        if state in ("LAST_ACK", "TIME_WAIT"):
                            B("FA", sb, sa)
                            sb += 1
                            if state == "TIME_WAIT":
                                A("A", sa, sb)
    steps.append((t, "list"))
    t += 0.05
    flags = CLASSES[cls]
    if direction == "orig":
        seq, ack = (a if cls == "syn" and state == "NONE" else sa), (sb if state not in ("NONE", "SYN_SENT") else 0)
        if "A" not in flags:
            ack = 0
        A(flags, seq, ack)
    else:
        seq, ack = sb, sa
        if "A" not in flags:
            ack = 0
        B(flags, seq, ack)
    steps.append((t + 0.05, "list"))
    return {"name": f"{state} {direction} {cls}", "steps": steps}


def tcp_matrix():
    cases = []
    idx = 0
    for state in STATES:
        for direction in ("orig", "reply"):
            if state == "NONE" and direction == "reply":
                continue
            for cls in CLASSES:
                cases.append(matrix_case(idx, state, direction, cls))
                idx += 1
    return cases


SCENARIO_SETS = {"tcp-matrix": tcp_matrix}


def main():
    which = sys.argv[1] if len(sys.argv) > 1 else "tcp-matrix"
    if which == "scenarios":
        from scenarios import scenarios  # noqa: E402  (scenarios.py next to this file)
        cases = scenarios(sys.modules[__name__])
    else:
        cases = SCENARIO_SETS[which]()
    gw_a, gw_b = setup()
    inj = Injector(gw_a, gw_b)
    results = []
    try:
        for sc in cases:
            results.append(run_scenario(inj, sc))
            print(f"{sc['name']}: {len(results[-1]['lists'][-1]['lines']) if results[-1]['lists'] else '-'} entries, "
                  f"stats {results[-1]['stats']}", file=sys.stderr)
    finally:
        inj.close()
        teardown()
    json.dump({"kernel": os.uname().release, "recorded": time.strftime("%Y-%m-%d"), "scenarios": results},
              sys.stdout, indent=1)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
