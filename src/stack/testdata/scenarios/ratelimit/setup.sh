ip -n "$ORACLE_NS_GW" link set wan0 mtu 1280
ip -n "$ORACLE_NS_GW" route add unreachable 10.77.9.0/24
ip -n "$ORACLE_NS_GW" -6 route add fd77:1::99/128 dev lan0
