ip -n "$ORACLE_NS_LAN" addr add fd77:1::3/64 dev eth0 nodad
for a in 3 4 5 6; do ip -n "$ORACLE_NS_WAN" addr add fd77:2::$a/64 dev eth0 nodad; done
