# second addresses on the gateway's interfaces: REDIRECT takes the interface's first one
ip -n "$ORACLE_NS_GW" addr add 10.77.1.10/24 dev lan0
ip -n "$ORACLE_NS_GW" addr add fd77:1::10/64 dev lan0 nodad
ip -n "$ORACLE_NS_GW" addr add 10.77.9.1/24 dev wan0
ip -n "$ORACLE_NS_GW" addr add fd77:9::1/64 dev wan0 nodad
