ip -n "$ORACLE_NS_LAN" addr add 10.77.1.3/24 dev eth0
ip -n "$ORACLE_NS_LAN" addr add fd77:1::3/64 dev eth0 nodad
