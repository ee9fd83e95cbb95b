ip -n "$ORACLE_NS_GW" link set wan0 mtu 1280
ip -n "$ORACLE_NS_WAN" link set eth0 mtu 1280
