ip -n "$ORACLE_NS_GW" link set wan0 mtu 1280
ip -n "$ORACLE_NS_PEER" link set wanp mtu 1280
