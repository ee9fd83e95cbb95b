# rules-kube-proxy: a load-balanced service with nth statistic and masquerade marks.
from oracle import *

EP = {"10.77.1.2": tcp_listen("lan", "10.77.1.2", 80), "10.77.1.3": tcp_listen("lan", "10.77.1.3", 80)}


def call(role, src, sport):
    c = tcp_connect(role, src, sport, GW_WAN4, 8080)
    # whichever endpoint got it accepts
    for ep, lst in EP.items():
        lst.settimeout(0.3)
        try:
            s, _ = lst.accept()
            break
        except TimeoutError:
            continue
    else:
        raise SystemExit("no endpoint accepted")
    log("connection from", src, sport, "went to", ep)
    c.sendall(b"GET /")
    assert recv_exact(s, 5) == b"GET /"
    s.sendall(b"200 " + ep.encode())
    assert recv_exact(c, 4 + len(ep))
    c.close()
    assert expect_eof(s)
    s.close()
    pause(0.2)


for i in range(4):
    call("wan", WAN4, 42000 + i)
# from an endpoint to the service: marked, masqueraded (--random-fully) back into lan0
call("lan", "10.77.1.2", 42100)
call("lan", "10.77.1.2", 42101)
done()
