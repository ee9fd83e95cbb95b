#!/bin/sh
# Records how Linux (with conntrack, so nf_defrag_ipv4/ipv6 active) reassembles and re-fragments
# forwarded fragments. Needs root, iproute2, iptables, tcpdump, python3-scapy. Creates the namespaces
# dfl (lan), dfg (gateway), dfw (wan) and deletes them at the end. Output: OUT_DIR (default
# test/fixtures/defrag) gets lan-in.pcap (what the gateway received), wan-out.pcap and lan-out.pcap
# (what it sent), and sockstat.txt (fragment memory accounting).
# Usage (from the repository root): sudo sh test/defrag/oracle/record.sh [OUT_DIR]
set -eu
OUT=${1:-test/fixtures/defrag}
HERE=$(dirname "$0")
mkdir -p "$OUT"
cleanup() {
  for p in $(cat /tmp/dfrec.pids 2>/dev/null); do kill "$p" 2>/dev/null || true; done
  rm -f /tmp/dfrec.pids
  for n in dfl dfg dfw; do ip netns del $n 2>/dev/null || true; done
}
trap cleanup EXIT
cleanup
for n in dfl dfg dfw; do ip netns add $n; done
ip link add lan0 netns dfg type veth peer name eth0 netns dfl
ip link add wan0 netns dfg type veth peer name eth0 netns dfw
ip -n dfl link set eth0 mtu 9000 up
ip -n dfg link set lan0 mtu 9000 up
ip -n dfg link set wan0 mtu 1500 up
ip -n dfw link set eth0 mtu 1500 up
for n in dfl dfg dfw; do ip -n $n link set lo up; done
ip -n dfl addr add 10.88.1.2/24 dev eth0
ip -n dfl addr add fd88:1::2/64 dev eth0 nodad
ip -n dfg addr add 10.88.1.1/24 dev lan0
ip -n dfg addr add fd88:1::1/64 dev lan0 nodad
ip -n dfg addr add 10.88.2.1/24 dev wan0
ip -n dfg addr add fd88:2::1/64 dev wan0 nodad
ip -n dfw addr add 10.88.2.2/24 dev eth0
ip -n dfw addr add fd88:2::2/64 dev eth0 nodad
ip -n dfl route add default via 10.88.1.1
ip -n dfl -6 route add default via fd88:1::1
ip -n dfw route add default via 10.88.2.1
ip -n dfw -6 route add default via fd88:2::1
ip netns exec dfg sysctl -qw net.ipv4.ip_forward=1 net.ipv6.conf.all.forwarding=1
ip netns exec dfg iptables -t nat -A POSTROUTING -o wan0 -j MASQUERADE
ip netns exec dfg ip6tables -t nat -A POSTROUTING -o wan0 -j MASQUERADE
ip netns exec dfg sysctl -qw net.ipv4.ipfrag_time=3 net.netfilter.nf_conntrack_frag6_timeout=3
ip netns exec dfw iptables -A INPUT -p udp -j DROP
ip netns exec dfw ip6tables -A INPUT -p udp -j DROP
# static neighbours, so no ARP / neighbour discovery interleaves with the scenarios
mac() { ip -n "$1" -j link show "$2" | python3 -c 'import json,sys; print(json.load(sys.stdin)[0]["address"])'; }
LANMAC=$(mac dfl eth0); GWLAN=$(mac dfg lan0); GWWAN=$(mac dfg wan0); WANMAC=$(mac dfw eth0)
ip -n dfl neigh add 10.88.1.1 lladdr "$GWLAN" dev eth0 nud permanent
ip -n dfl neigh add fd88:1::1 lladdr "$GWLAN" dev eth0 nud permanent
ip -n dfg neigh add 10.88.1.2 lladdr "$LANMAC" dev lan0 nud permanent
ip -n dfg neigh add fd88:1::2 lladdr "$LANMAC" dev lan0 nud permanent
ip -n dfg neigh add 10.88.2.2 lladdr "$WANMAC" dev wan0 nud permanent
ip -n dfg neigh add fd88:2::2 lladdr "$WANMAC" dev wan0 nud permanent
ip -n dfw neigh add 10.88.2.1 lladdr "$GWWAN" dev eth0 nud permanent
ip -n dfw neigh add fd88:2::1 lladdr "$GWWAN" dev eth0 nud permanent
sleep 1
GWMAC=$(ip -n dfg -j link show lan0 | python3 -c 'import json,sys; print(json.load(sys.stdin)[0]["address"])')
: > /tmp/dfrec.pids
ip netns exec dfg tcpdump -i lan0 -Q in -U -s 0 -w "$OUT/lan-in.pcap" 'udp or (ip[6:2] & 0x3fff != 0) or (ip6 and not icmp6)' 2>/dev/null & echo $! >> /tmp/dfrec.pids
ip netns exec dfg tcpdump -i wan0 -Q out -U -s 0 -w "$OUT/wan-out.pcap" 'udp or icmp or (ip[6:2] & 0x3fff != 0) or (ip6 and not (icmp6 and ip6[40] >= 133 and ip6[40] <= 143))' 2>/dev/null & echo $! >> /tmp/dfrec.pids
ip netns exec dfg tcpdump -i lan0 -Q out -U -s 0 -w "$OUT/lan-out.pcap" 'icmp or (icmp6 and ip6[40] < 133)' 2>/dev/null & echo $! >> /tmp/dfrec.pids
sleep 1
ip netns exec dfl /usr/bin/python3 "$HERE/send.py" "$GWMAC"
# let the incomplete queues expire (3 s)
sleep 5
for p in $(cat /tmp/dfrec.pids); do kill -INT "$p" 2>/dev/null || true; done
sleep 1
# fragment memory accounting: N incomplete queues of one fragment each, for several sizes
ip netns exec dfg sysctl -qw net.ipv4.ipfrag_time=30
{
  for size in 8 100 500 1000 1400 2000 4000 8000; do
    ip netns exec dfl /usr/bin/python3 - "$GWMAC" "$size" <<'PY'
import sys, time
from scapy.all import IP, Ether, Raw, sendp, conf
conf.verb = 0
mac, size = sys.argv[1], int(sys.argv[2])
for i in range(10):
    sendp(Ether(dst=mac) / IP(src="10.88.1.2", dst="10.88.2.2", id=1000 + size % 5000 + i * 7, flags=1, proto=17) / Raw(bytes(size)), iface="eth0")
PY
    sleep 0.3
    printf 'size=%s %s\n' "$size" "$(ip netns exec dfg grep FRAG: /proc/net/sockstat)"
    # flush the queues: lower the threshold to 0 is not enough (queues stay); wait them out instead
    ip netns exec dfg sysctl -qw net.ipv4.ipfrag_time=1
    sleep 2
    ip netns exec dfg sysctl -qw net.ipv4.ipfrag_time=30
  done
} > "$OUT/sockstat.txt"
cat "$OUT/sockstat.txt"
