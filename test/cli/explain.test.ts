/** `ctnat explain`: one packet's path, for the real dumps users bring (kube-proxy, a home router). */
import assert from "node:assert/strict";
import { join } from "node:path";
import { test } from "node:test";
import { explain, formatDot } from "../../src/cli/explain.js";
import { ctnat, REPO } from "./run.js";

const KUBE = join(REPO, "test/fixtures/rulesets/real/kube-proxy-overall.loadable");
const HOME = join(REPO, "examples/home-router");

test("kube-proxy: a ClusterIP packet takes its service chain and endpoint, and is DNATed", () => {
  const r = explain({ rules: KUBE, inIface: "eth0", proto: "tcp", src: "10.0.0.5", dst: "172.30.0.41", dport: "80" });
  const t = r.trace!;
  const chains = t.steps.filter((s) => s.kind === "rule" && s.table === "nat").map((s) => s.chain);
  assert.deepEqual(chains.slice(0, 4), [
    "PREROUTING",
    "KUBE-SERVICES",
    "KUBE-SVC-XPGD46QRK7WJZT7O",
    "KUBE-SEP-SXIVWICOYRO3J4NJ",
  ]);
  const dnat = t.steps.find((s) => s.chain === "KUBE-SEP-SXIVWICOYRO3J4NJ")!;
  assert.match(dnat.text!, /-j DNAT --to-destination 10\.180\.0\.1:80$/);
  assert.equal(dnat.line, 104);
  assert.equal(t.fate, "forwarded");
  assert.match(t.sent!, /^IP 10\.0\.0\.5\.40000 > 10\.180\.0\.1\.80: /);
});

test("kube-proxy: a service without endpoints is REJECTed in filter KUBE-SERVICES", () => {
  const r = explain({ rules: KUBE, inIface: "eth0", proto: "tcp", src: "10.0.0.5", dst: "172.30.0.46", dport: "80" });
  const t = r.trace!;
  const last = t.steps.filter((s) => s.kind === "rule").pop()!;
  assert.equal(last.table, "filter");
  assert.equal(last.chain, "KUBE-SERVICES");
  assert.match(last.text!, /has no endpoints.*-j REJECT --reject-with icmp-port-unreachable$/);
  assert.equal(t.fate, "netfilter-drop");
});

test("home router: a port forward from wan, with the recorded interfaces and routes", () => {
  const r = explain({
    rules: join(HOME, "rules.v4"),
    addr: join(HOME, "addr.json"),
    route: join(HOME, "route.json"),
    inIface: "wan0",
    proto: "tcp",
    src: "10.77.2.2",
    dst: "10.77.2.1",
    dport: "8080",
  });
  const t = r.trace!;
  assert.ok(t.steps.some((s) => s.kind === "rule" && /-j DNAT --to-destination 10\.77\.1\.2:80/.test(s.text ?? "")));
  assert.equal(t.out, "lan0");
  assert.match(t.sent!, /10\.77\.2\.2\.40000 > 10\.77\.1\.2\.80/);
});

test("home router: ESTABLISHED replays the handshake first and matches the stateful rule", () => {
  const r = explain({
    rules: join(HOME, "rules.v4"),
    inIface: "lan0",
    outIface: "wan0",
    proto: "tcp",
    src: "10.77.1.2",
    dst: "8.8.8.8",
    dport: "443",
    ctstate: "ESTABLISHED",
  });
  assert.equal(r.setup.length, 3);
  const t = r.trace!;
  assert.match(t.steps.find((s) => s.kind === "conntrack")!.detail!, /^ESTABLISHED \(tcp ESTABLISHED, SNAT, ASSURED\)/);
  const rule = t.steps.find((s) => s.kind === "rule")!;
  assert.match(rule.text!, /--ctstate RELATED,ESTABLISHED -j ACCEPT/);
  assert.equal(t.fate, "forwarded");
});

test("RELATED: an ICMP error about a NATed flow comes back translated", () => {
  const r = explain({
    rules: join(HOME, "rules.v4"),
    inIface: "lan0",
    outIface: "wan0",
    proto: "udp",
    src: "10.77.1.2",
    dst: "8.8.8.8",
    dport: "53",
    ctstate: "RELATED",
  });
  const t = r.trace!;
  assert.match(t.steps.find((s) => s.kind === "conntrack")!.detail!, /^RELATED reply/);
  assert.equal(t.fate, "forwarded");
  assert.equal(t.out, "lan0");
  assert.match(t.sent!, /> 10\.77\.1\.2: ICMP/);
});

test("--dot and --json outputs; bad descriptions are one-line errors", () => {
  const r = explain({ rules: KUBE, inIface: "eth0", proto: "tcp", src: "10.0.0.5", dst: "172.30.0.41", dport: "80" });
  const dot = formatDot(r.trace!);
  assert.match(dot, /^digraph ctnat \{/);
  assert.match(dot, /KUBE-SEP-SXIVWICOYRO3J4NJ/);
  const j = ctnat(["explain", "--rules", KUBE, "-i", "eth0", "-s", "10.0.0.5", "-d", "172.30.0.41", "--json"]);
  assert.equal(j.status, 0, j.stderr);
  assert.equal(JSON.parse(j.stdout).fate, "forwarded");
  for (const [args, pattern] of [
    [["-s", "10.0.0.5"], /--src and --dst are required/],
    [["-s", "10.0.0.5", "-d", "fd00::1"], /different families/],
    [["-s", "10.0.0.5", "-d", "10.0.0.6", "-p", "icmpv6"], /does not fit IPv4/],
    [["-s", "10.0.0.5", "-d", "10.0.0.6", "--dport", "70000"], /--dport: expected an integer in 0\.\.65535/],
    [["-s", "10.0.0.5", "-d", "10.0.0.6", "--flags", "XYZ"], /--flags: letters of FSRPAUEC/],
    [["-s", "10.0.0.5", "-d", "10.0.0.6", "--ctstate", "SLEEPY"], /--ctstate: one of NEW, ESTABLISHED, RELATED/],
  ] as [string[], RegExp][]) {
    const e = ctnat(["explain", "--rules", KUBE, "-i", "eth0", ...args]);
    assert.equal(e.status, 2, e.stderr);
    assert.match(e.stderr, pattern);
    assert.equal(e.stderr.trim().split("\n").length, 1);
  }
});

test("--ipsets: the Calico + kube-proxy IPVS nat table marks an outside client of a cluster IP through its sets", () => {
  const dir = join(REPO, "test/fixtures/rulesets/real");
  const r = explain({
    rules: join(dir, "calico-ipvs-nat.loadable"),
    ipsets: join(dir, "calico-ipvs-nat.ipsets"),
    inIface: "eth0",
    proto: "tcp",
    src: "10.192.4.7",
    dst: "10.100.49.21",
    dport: "80",
  });
  const rules = r.trace!.steps.filter((s) => s.kind === "rule" && s.table === "nat").map((s) => s.text ?? "");
  assert.ok(rules.some((t) => /--match-set KUBE-CLUSTER-IP dst,dst -j KUBE-MARK-MASQ$/.test(t)));
  // without the sets the rules do not load, naming the missing set
  const bad = ctnat([
    "explain",
    "--rules",
    join(dir, "calico-ipvs-nat.loadable"),
    "-i",
    "eth0",
    "-s",
    "10.192.4.7",
    "-d",
    "10.100.49.21",
  ]);
  assert.notEqual(bad.status, 0);
  assert.match(bad.stderr, /Set KUBE-NODE-PORT-TCP doesn't exist/);
});
