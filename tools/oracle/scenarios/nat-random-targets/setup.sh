ip -n "$ORACLE_NS_GW" addr add 10.77.2.100/30 dev wan0
