# egress MTU 1280 on the wan side: DF packets above it get "fragmentation needed"
ip -n "$ORACLE_NS_GW" link set wan0 mtu 1280
# routes that make the gateway answer with ip_error(): unreachable, prohibit, blackhole
ip -n "$ORACLE_NS_GW" route add unreachable 10.77.9.0/24
ip -n "$ORACLE_NS_GW" route add prohibit 10.77.8.0/24
ip -n "$ORACLE_NS_GW" route add blackhole 10.77.7.0/24
# a route back to one lan host with a hop limit metric, one with a small MTU
ip -n "$ORACLE_NS_GW" route add 10.77.1.99/32 dev lan0 hoplimit 17
ip -n "$ORACLE_NS_GW" route add 10.77.1.98/32 dev lan0 mtu lock 300
