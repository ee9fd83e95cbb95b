# nat-redirect: REDIRECT to the input interface's first address, IPv4 and IPv6.
from oracle import *

for lan, wan in ((LAN4, WAN4), (LAN6, WAN6)):
    assert tcp_refused("lan", lan, 40901, wan, 2222)
    pause(0.2)
    u = udp_bind("lan", lan, 40902)
    u.sendto(b"redirected datagram", (wan, 2223))
    pause(0.3)
    u.close()
    # from wan, to a lan address (routed through the gateway), redirected to the gateway itself
    assert tcp_refused("wan", wan, 40903, lan, 2224)
    pause(0.2)
done()
