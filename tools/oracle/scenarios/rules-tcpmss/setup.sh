ip -n "$ORACLE_NS_GW" link set wan0 mtu 1400
ip -n "$ORACLE_NS_GW" route add 10.77.2.3/32 dev wan0 mtu 1300
