/**
 * kubeProxyDump: a deterministic kube-proxy (iptables mode, 1.28-style chains) nat+filter dump with
 * `services` ClusterIP services of 1-3 endpoints each, every eighth also a NodePort. For tests and
 * benchmarks of large rulesets.
 */

function hash16(s: string): string {
  // a stable 16-character chain suffix, like kube-proxy's base32 hash (not the same function)
  let h1 = 0x811c9dc5;
  let h2 = 0x01000193;
  for (let i = 0; i < s.length; i++) {
    h1 = Math.imul(h1 ^ s.charCodeAt(i), 0x01000193);
    h2 = Math.imul(h2 ^ s.charCodeAt(i), 0x5bd1e995);
  }
  const A = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
  let out = "";
  for (let i = 0; i < 8; i++) out += A[(h1 >>> (i * 4)) & 31];
  for (let i = 0; i < 8; i++) out += A[(h2 >>> (i * 4)) & 31];
  return out;
}

/** serviceIp: the ClusterIP of service i. */
export function serviceIp(i: number): string {
  return `10.96.${(i >> 8) & 255}.${i & 255}`;
}

/** servicePort: the port of service i. */
export function servicePort(i: number): number {
  return i % 3 === 0 ? 443 : 80;
}

export function kubeProxyDump(services: number): string {
  const nat: string[] = [];
  const chains: string[] = [
    ":KUBE-SERVICES - [0:0]",
    ":KUBE-NODEPORTS - [0:0]",
    ":KUBE-MARK-MASQ - [0:0]",
    ":KUBE-POSTROUTING - [0:0]",
  ];
  const svcRules: string[] = [];
  const nodeRules: string[] = [];
  const body: string[] = [];
  for (let i = 0; i < services; i++) {
    const name = `ns${i % 50}/svc${i}:http`;
    const ip = serviceIp(i);
    const port = servicePort(i);
    const svc = `KUBE-SVC-${hash16(name)}`;
    chains.push(`:${svc} - [0:0]`);
    svcRules.push(
      `-A KUBE-SERVICES -d ${ip}/32 -p tcp -m comment --comment "${name} cluster IP" -m tcp --dport ${port} -j ${svc}`,
    );
    if (i % 8 === 0) {
      nodeRules.push(
        `-A KUBE-NODEPORTS -p tcp -m comment --comment "${name}" -m tcp --dport ${30000 + (i % 2700)} -j ${svc}`,
      );
    }
    body.push(
      `-A ${svc} ! -s 10.244.0.0/16 -d ${ip}/32 -p tcp -m comment --comment "${name} cluster IP" -m tcp --dport ${port} -j KUBE-MARK-MASQ`,
    );
    const eps = 1 + (i % 3);
    for (let e = 0; e < eps; e++) {
      const ep = `10.244.${(i >> 6) & 255}.${((i & 63) << 2) | e}`;
      const sep = `KUBE-SEP-${hash16(`${name}/${ep}`)}`;
      chains.push(`:${sep} - [0:0]`);
      const left = eps - e;
      const stat = left > 1 ? ` -m statistic --mode random --probability ${(1 / left).toFixed(11)}` : "";
      body.push(`-A ${svc} -m comment --comment "${name} -> ${ep}:8080"${stat} -j ${sep}`);
      body.push(`-A ${sep} -s ${ep}/32 -m comment --comment "${name}" -j KUBE-MARK-MASQ`);
      body.push(`-A ${sep} -p tcp -m comment --comment "${name}" -m tcp -j DNAT --to-destination ${ep}:8080`);
    }
  }
  svcRules.push(
    '-A KUBE-SERVICES -m comment --comment "kubernetes service nodeports; NOTE: this must be the last rule in this chain" -m addrtype --dst-type LOCAL -j KUBE-NODEPORTS',
  );
  nat.push(
    "*nat",
    ":PREROUTING ACCEPT [0:0]",
    ":INPUT ACCEPT [0:0]",
    ":OUTPUT ACCEPT [0:0]",
    ":POSTROUTING ACCEPT [0:0]",
  );
  nat.push(...chains);
  nat.push('-A PREROUTING -m comment --comment "kubernetes service portals" -j KUBE-SERVICES');
  nat.push('-A OUTPUT -m comment --comment "kubernetes service portals" -j KUBE-SERVICES');
  nat.push('-A POSTROUTING -m comment --comment "kubernetes postrouting rules" -j KUBE-POSTROUTING');
  nat.push("-A KUBE-MARK-MASQ -j MARK --or-mark 0x4000");
  nat.push("-A KUBE-POSTROUTING -m mark ! --mark 0x4000/0x4000 -j RETURN");
  nat.push("-A KUBE-POSTROUTING -j MARK --xor-mark 0x4000");
  nat.push(
    '-A KUBE-POSTROUTING -m comment --comment "kubernetes service traffic requiring SNAT" -j MASQUERADE --random-fully',
  );
  nat.push(...svcRules, ...nodeRules, ...body, "COMMIT");
  const filter = [
    "*filter",
    ":INPUT ACCEPT [0:0]",
    ":FORWARD ACCEPT [0:0]",
    ":OUTPUT ACCEPT [0:0]",
    ":KUBE-FORWARD - [0:0]",
    '-A FORWARD -m comment --comment "kubernetes forwarding rules" -j KUBE-FORWARD',
    "-A KUBE-FORWARD -m conntrack --ctstate INVALID -j DROP",
    '-A KUBE-FORWARD -m comment --comment "kubernetes forwarding rules" -m mark --mark 0x4000/0x4000 -j ACCEPT',
    '-A KUBE-FORWARD -m comment --comment "kubernetes forwarding conntrack rule" -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT',
    "COMMIT",
  ];
  return `${nat.join("\n")}\n${filter.join("\n")}\n`;
}
