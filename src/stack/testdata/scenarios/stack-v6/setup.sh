ip -n "$ORACLE_NS_GW" link set wan0 mtu 1280
ip -n "$ORACLE_NS_GW" -6 route add unreachable fd77:9::/64
ip -n "$ORACLE_NS_GW" -6 route add prohibit fd77:8::/64
ip -n "$ORACLE_NS_GW" -6 route add blackhole fd77:7::/64
ip -n "$ORACLE_NS_GW" -6 route add fd77:1::99/128 dev lan0 hoplimit 17
