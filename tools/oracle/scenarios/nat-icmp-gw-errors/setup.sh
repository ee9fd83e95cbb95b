ip -n "$ORACLE_NS_GW" link set lan0 mtu 1280
ip -n "$ORACLE_NS_LAN" link set eth0 mtu 1280
