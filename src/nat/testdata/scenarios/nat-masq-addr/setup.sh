# more addresses on the gateway's wan0: a secondary in 10.77.2.0/24, a second subnet, IPv6 global and deprecated
ip -n "$ORACLE_NS_GW" addr add 10.77.2.50/24 dev wan0
ip -n "$ORACLE_NS_GW" addr add 10.77.5.1/24 dev wan0
ip -n "$ORACLE_NS_GW" addr add 10.77.5.60/24 dev wan0
ip -n "$ORACLE_NS_GW" route add 10.77.8.0/24 via 10.77.5.2 dev wan0
ip -n "$ORACLE_NS_GW" -6 addr add 2001:db8:2::1/64 dev wan0 nodad
ip -n "$ORACLE_NS_GW" -6 addr add fd77:2::50/64 dev wan0 nodad preferred_lft 0
ip -n "$ORACLE_NS_GW" -6 route add 2001:db8:9::/48 via 2001:db8:2::2 dev wan0
