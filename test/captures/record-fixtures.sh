#!/bin/sh
# Records the tool-made capture fixtures in test/fixtures/captures (needs root, tcpdump, dumpcap,
# editcap, mergecap and /usr/bin/python3). Traffic is generated between network namespaces created
# here and deleted afterwards; nothing leaves the machine. Then run craft-fixtures.ts and
# regen-expected.sh. The committed fixtures are what the tests use; this script documents them.
set -eu
out="$(cd "$(dirname "$0")/../fixtures/captures" && pwd)"
tmp="$(mktemp -d)"
trap 'ip netns del ctnatcap 2>/dev/null || true; ip netns del ctnA 2>/dev/null || true; ip netns del ctnB 2>/dev/null || true; rm -rf "$tmp"' EXIT

# 1. tcpdump on loopback in a namespace: microseconds, nanoseconds, snaplen 64, and "any" (SLL2)
ip netns add ctnatcap
ip -n ctnatcap link set lo up
ip netns exec ctnatcap tcpdump -i lo -c 12 -w "$tmp/lo-usec.pcap" 2>/dev/null &
ip netns exec ctnatcap tcpdump -i lo -c 12 --time-stamp-precision=nano -w "$tmp/lo-nsec.pcap" 2>/dev/null &
ip netns exec ctnatcap tcpdump -i lo -c 12 -s 64 -w "$tmp/lo-snap64.pcap" 2>/dev/null &
ip netns exec ctnatcap tcpdump -i any -c 12 -w "$tmp/any-sll.pcap" 2>/dev/null &
sleep 1.5
ip netns exec ctnatcap /usr/bin/python3 - <<'PY'
import socket, time
u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
u.sendto(b"hello ctnat udp", ("127.0.0.1", 5353)); time.sleep(0.01)
u6 = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
u6.sendto(b"x" * 300, ("::1", 9999)); time.sleep(0.01)
srv = socket.socket(); srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
srv.bind(("127.0.0.1", 8080)); srv.listen(1)
c = socket.create_connection(("127.0.0.1", 8080)); s, _ = srv.accept()
c.sendall(b"GET / HTTP/1.0\r\n\r\n" + b"a" * 1200); time.sleep(0.01)
s.sendall(b"HTTP/1.0 200 OK\r\n\r\nbody"); time.sleep(0.01)
c.close(); s.close(); time.sleep(0.05)
PY
sleep 1
wait
ip netns del ctnatcap

# 2. dumpcap on two interfaces (a veth and lo) of one namespace: pcapng with if_name per interface
ip netns add ctnA
ip netns add ctnB
ip link add vA netns ctnA type veth peer name vB netns ctnB
ip -n ctnA addr add 10.99.0.1/24 dev vA
ip -n ctnB addr add 10.99.0.2/24 dev vB
ip -n ctnA link set vA up
ip -n ctnB link set vB up
ip -n ctnA link set lo up
ip netns exec ctnA dumpcap -q -i vA -i lo -a duration:3 -w "$tmp/dumpcap-multi.pcapng" 2>/dev/null &
sleep 1.5
ip netns exec ctnA /usr/bin/python3 -c '
import socket, time
u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
for i in range(3):
    u.sendto(b"to-peer %d" % i, ("10.99.0.2", 7000)); time.sleep(0.01)
    u.sendto(b"to-lo %d" % i, ("127.0.0.1", 7001)); time.sleep(0.01)
'
wait

# 3. editcap / mergecap conversions
cd "$tmp"
editcap -F pcapng lo-usec.pcap lo-usec.pcapng
editcap -F pcapng lo-nsec.pcap lo-nsec.pcapng
editcap -F nsecpcap lo-usec.pcap lo-usec-to-nsec.pcap
editcap -F pcap lo-nsec.pcapng lo-nsec-to-usec.pcap
editcap -a "1:first packet" -a "3:ünïcode comment ✓" -a "3:second comment" lo-nsec.pcapng lo-comments.pcapng
mergecap -F pcapng -w merged.pcapng lo-nsec.pcap any-sll.pcap

cp lo-usec.pcap "$out/tcpdump-lo-usec.pcap"
cp lo-nsec.pcap "$out/tcpdump-lo-nsec.pcap"
cp lo-snap64.pcap "$out/tcpdump-lo-snap64.pcap"
cp any-sll.pcap "$out/tcpdump-any-sll2.pcap"
cp lo-usec.pcapng "$out/editcap-usec.pcapng"
cp lo-nsec.pcapng "$out/editcap-nsec.pcapng"
cp lo-usec-to-nsec.pcap "$out/editcap-nsecpcap.pcap"
cp lo-nsec-to-usec.pcap "$out/editcap-usecpcap.pcap"
cp lo-comments.pcapng "$out/editcap-comments.pcapng"
cp merged.pcapng "$out/mergecap-two-linktypes.pcapng"
cp dumpcap-multi.pcapng "$out/dumpcap-two-interfaces.pcapng"
chmod 644 "$out"/*
