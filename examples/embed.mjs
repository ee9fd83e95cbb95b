// A NAT gateway inside your program: run with `node examples/embed.mjs` after `npm ci`.
// (Outside this repository, import from "ctnat" the same way.)
import { buildPacket, createGateway, formatIpPacket } from "ctnat";

const gw = createGateway({
  // the iptables-save text of a home router: masquerade, and a stateful filter
  rules: `*nat
:PREROUTING ACCEPT [0:0]
:INPUT ACCEPT [0:0]
:OUTPUT ACCEPT [0:0]
:POSTROUTING ACCEPT [0:0]
-A POSTROUTING -o wan0 -j MASQUERADE
COMMIT
*filter
:INPUT DROP [0:0]
:FORWARD DROP [0:0]
:OUTPUT ACCEPT [0:0]
-A FORWARD -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT
-A FORWARD -i lan0 -o wan0 -j ACCEPT
COMMIT
`,
  interfaces: [
    { name: "lan0", addresses: ["192.168.1.1/24"] },
    { name: "wan0", addresses: ["203.0.113.7/24"] },
  ],
  routes: [{ dst: "default", via: "203.0.113.1", dev: "wan0" }],
});

let now = 1_700_000_000; // unix seconds: time is always yours to give
const show = (what, sent) => {
  console.log(what);
  for (const s of sent) console.log(`  -> ${s.iface}: ${formatIpPacket(s.packet)}`);
  if (sent.length === 0) console.log("  (dropped)");
};

// a laptop on the lan opens a connection to a web server
const syn = buildPacket({ src: "192.168.1.50", dst: "198.51.100.80", tcp: { sport: 51000, dport: 443, flags: "S", seq: 1 } });
show("lan0 <- SYN from 192.168.1.50:51000", gw.receive("lan0", syn, now));

// the server answers the masqueraded address
now += 0.02;
const synack = buildPacket({ src: "198.51.100.80", dst: "203.0.113.7", tcp: { sport: 443, dport: 51000, flags: "SA", seq: 900, ack: 2 } });
show("wan0 <- SYN/ACK", gw.receive("wan0", synack, now));

// nobody asked for this one: the stateful filter drops it
const probe = buildPacket({ src: "198.51.100.99", dst: "203.0.113.7", tcp: { sport: 4444, dport: 22, flags: "S" } });
show("wan0 <- unsolicited SYN to port 22", gw.receive("wan0", probe, now));

console.log("\nconntrack -L:");
for (const line of gw.conntrack()) console.log(`  ${line}`);
console.log("\niptables-save -c:");
console.log(gw.counters(4).replace(/^/gm, "  ").trimEnd());
