ip -n "$ORACLE_NS_GW" route add 10.77.3.0/24 via 10.77.2.2 hoplimit 33
ip -n "$ORACLE_NS_GW" route add 10.77.1.99/32 dev lan0 hoplimit 17
ip -n "$ORACLE_NS_GW" -6 route add fd77:3::/64 via fd77:2::2 hoplimit 33
ip -n "$ORACLE_NS_GW" -6 route add fd77:1::99/128 dev lan0 hoplimit 17
