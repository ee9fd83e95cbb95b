#!/bin/sh
# Regenerates test/fixtures/wire/link-corpus.json from the shared tcpdump capture corpus with tshark:
# for each frame, the first IPv4/IPv6 source and destination and the first TCP/UDP ports tshark
# decodes. Run from the repository root: sh test/wire/make-link-fixture.sh
set -eu
CAP=../shared/captures/tcpdump-tests
OUT=test/fixtures/wire/link-corpus.json
FILES="LINKTYPE_IPV4.pcap LINKTYPE_IPV6.pcap LINKTYPE_RAW_ipv4.pcap LINKTYPE_RAW_ipv6.pcap babel.pcap
babel_rtt.pcap dns-badcookie.pcap icmpv6-RFC2894-RR.pcap ikev2four.pcap quic_handshake.pcap forces1.pcap
mptcp-v1.pcap tcp-handshake-nano.pcap ipv6_mobility_1.pcap 802.1ad_QinQ.pcap LLDP_and_CDP.pcap
RADIUS-RFC4675.pcap resp_2_inline.pcap"
{
  printf '{\n'
  first=1
  for f in $FILES; do
    [ $first = 1 ] || printf ',\n'
    first=0
    printf '  "%s": [' "$f"
    tshark -r "$CAP/$f" -T fields -E separator='|' -e frame.number -e ip.src -e ip.dst -e ipv6.src -e ipv6.dst \
      -e tcp.srcport -e tcp.dstport -e udp.srcport -e udp.dstport 2>/dev/null |
      awk -F'|' 'BEGIN{n=0} {for(i=2;i<=9;i++){split($i,a,",");$i=a[1]}; if(n++)printf ","; printf "[%s,\"%s\",\"%s\",\"%s\",\"%s\",\"%s\",\"%s\",\"%s\",\"%s\"]",$1,$2,$3,$4,$5,$6,$7,$8,$9}'
    printf ']'
  done
  printf '\n}\n'
} > "$OUT"
