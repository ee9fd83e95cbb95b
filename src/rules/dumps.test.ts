/**
 * Real-world dumps (test/fixtures/rulesets/real): they load, print back exactly what the kernel's
 * iptables-save printed, and send packets where the software that wrote them means them to go.
 */
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { test } from "node:test";
import { fileURLToPath } from "node:url";
import { RejectWith } from "../core/env.js";
import { CtInfo, Hook, Verdict } from "../core/netfilter.js";
import type { PacketSpec } from "../wire/build.js";
import { formatAddr } from "./addr.js";
import { isRulesetError, loadRuleset, RuleEnv, type Ruleset, type RuleTracer, TableId } from "./index.js";
import { parseIpsets } from "./ipset/parse.js";
import { FakeAddrType, FakeCt, FakeIfaces, makeSkb, RecordingTargetEnv, type SkbOpts } from "./testdata/fakes.js";
import { XtState } from "./xt-state.js";

const DIR = fileURLToPath(new URL("../../test/fixtures/rulesets/real/", import.meta.url));
const read = (f: string): string => readFileSync(DIR + f, "utf8");

for (const name of ["kube-proxy-overall", "docker-host", "openwrt-fw3", "server-default-deny"]) {
  test(`${name}: loads and saves as the kernel saved it; the save reloads to itself`, () => {
    const save = read(`${name}.save`);
    assert.equal(loadRuleset(read(`${name}.loadable`), { file: `${name}.loadable` }).save(), save);
    assert.equal(loadRuleset(save, { file: `${name}.save` }).save(), save);
  });
}

test("kube-proxy's verbatim restore input (nfacct, recent) loads and saves as the kernel saved it", () => {
  // kube-proxy-overall.restore.save: iptables-save -c (1.8.9, nf_tables) after iptables-restore -c of the
  // verbatim file, with the nfacct objects ct_state_invalid_dropped_pkts and localhost_nps_accepted_pkts
  const save = read("kube-proxy-overall.restore.save");
  assert.equal(loadRuleset(read("kube-proxy-overall.restore"), { file: "kube-proxy-overall.restore" }).save(), save);
  assert.equal(loadRuleset(save, { file: "kube-proxy-overall.restore.save" }).save(), save);
});

test("kube-proxy session affinity: the client's second connection is sent by -m recent to the endpoint it had", () => {
  // the verbatim restore, with the PREROUTING jump kube-proxy adds to the nat table
  const text = read("kube-proxy-overall.restore").replace("*nat\n", "*nat\n-A PREROUTING -j KUBE-SERVICES\n");
  const rs = loadRuleset(text);
  const target = new RecordingTargetEnv();
  const env = new RuleEnv(new FakeCt(), new FakeIfaces(), new FakeAddrType(["10.0.0.1"]), target);
  const spec: PacketSpec = { src: "10.1.2.3", dst: "172.30.0.45", tcp: { sport: 40000, dport: 80, flags: "S" } };
  const first = path(rs, env, TableId.Nat, Hook.Prerouting, spec, { inIf: 1, now: 1000 });
  assert.deepEqual(first.steps.slice(-2), ["KUBE-SVC-NUKIZ6OKUXPJNT4C#3", "KUBE-SEP-I77PXRDZVX7PMWMN#2"]);
  const recent = rs.xt.recent.get("KUBE-SEP-I77PXRDZVX7PMWMN")!;
  assert.deepEqual(recent.list(), ["src=10.1.2.3 ttl: 64 last_seen: 250000 oldest_pkt: 1 250000"]);
  // within --seconds 10800 the affinity rule (#2) takes the client straight to its endpoint
  const again = path(
    rs,
    env,
    TableId.Nat,
    Hook.Prerouting,
    { ...spec, tcp: { ...spec.tcp!, sport: 40001 } },
    {
      inIf: 1,
      now: 1000 + 10800,
    },
  );
  assert.deepEqual(again.steps.slice(-2), ["KUBE-SVC-NUKIZ6OKUXPJNT4C#2", "KUBE-SEP-I77PXRDZVX7PMWMN#2"]);
  // a stamp older than --seconds no longer counts; --reap forgets the address
  const late = path(
    rs,
    env,
    TableId.Nat,
    Hook.Prerouting,
    { ...spec, tcp: { ...spec.tcp!, sport: 40002 } },
    {
      inIf: 1,
      now: 1000 + 10800 + 10800.01,
    },
  );
  assert.deepEqual(late.steps.slice(-2), ["KUBE-SVC-NUKIZ6OKUXPJNT4C#3", "KUBE-SEP-I77PXRDZVX7PMWMN#2"]);
  assert.equal(recent.count, 1);
});

/** a run with a path recorder */
function path(rs: Ruleset, env: RuleEnv, table: number, hook: number, spec: PacketSpec, o: SkbOpts) {
  const steps: string[] = [];
  const tracer: RuleTracer = {
    rule(t, s, m) {
      if (m) steps.push(`${t.chains[t.chainOf[s]!]!.name}#${t.ruleNum[s]}`);
    },
    policy(t, c, v) {
      steps.push(`${t.chains[c]!.name}:policy ${v === Verdict.Accept ? "ACCEPT" : "DROP"}`);
    },
    fallOff() {},
    done() {},
  };
  const skb = makeSkb(spec, { hook, ...o });
  const v = rs.run(table, hook, skb, env, tracer);
  return { v, steps, skb };
}

test("kube-proxy: a client from outside reaches ns1/svc1 through its endpoint, marked for masquerade", () => {
  const rs = loadRuleset(read("kube-proxy-overall.save"));
  const target = new RecordingTargetEnv();
  const env = new RuleEnv(new FakeCt(), new FakeIfaces(), new FakeAddrType(["10.0.0.1"]), target);
  const spec: PacketSpec = { src: "203.0.113.9", dst: "172.30.0.41", tcp: { sport: 40000, dport: 80, flags: "S" } };
  const pre = path(rs, env, TableId.Nat, Hook.Prerouting, spec, { inIf: 1 });
  assert.equal(pre.v, Verdict.Accept);
  assert.deepEqual(pre.steps, [
    "PREROUTING#1",
    "KUBE-SERVICES#1",
    "KUBE-SVC-XPGD46QRK7WJZT7O#1",
    "KUBE-MARK-MASQ#1",
    "KUBE-SVC-XPGD46QRK7WJZT7O#2",
    "KUBE-SEP-SXIVWICOYRO3J4NJ#2",
  ]);
  assert.equal(pre.skb.mark, 0x4000);
  const dnat = target.calls.at(-1)!;
  assert.equal(dnat.kind, "dnat");
  assert.equal(formatAddr(4, dnat.range!.minAddr), "10.180.0.1");
  assert.equal(dnat.range!.minProto, 80);
  // POSTROUTING: the mark asks for masquerade and is cleared
  const post = path(rs, env, TableId.Nat, Hook.Postrouting, spec, { outIf: 2, mark: 0x4000 });
  assert.deepEqual(post.steps, ["POSTROUTING#1", "KUBE-POSTROUTING#2", "KUBE-POSTROUTING#3"]);
  assert.equal(post.skb.mark, 0);
  assert.equal(target.calls.at(-1)!.kind, "masquerade");
});

test("kube-proxy: a service without endpoints is rejected in filter", () => {
  const rs = loadRuleset(read("kube-proxy-overall.save"));
  const target = new RecordingTargetEnv();
  const ct = new FakeCt();
  const env = new RuleEnv(ct, new FakeIfaces(), new FakeAddrType(["10.0.0.1"]), target);
  const spec: PacketSpec = { src: "10.180.0.7", dst: "172.30.0.46", tcp: { sport: 40000, dport: 80, flags: "S" } };
  const c = ct.add({
    status: 0,
    mark: 0,
    l4proto: 6,
    orig: null as never,
    reply: null as never,
    expires: 120,
    tcpState: 1,
  });
  const r = path(rs, env, TableId.Filter, Hook.Forward, spec, { inIf: 1, outIf: 2, ct: c, ctInfo: CtInfo.New });
  assert.equal(r.v, Verdict.Drop);
  assert.deepEqual(r.steps.slice(-2), ["FORWARD#3", "KUBE-SERVICES#1"]);
  assert.deepEqual(
    target.calls.map((x) => [x.kind, x.arg]),
    [["reject", RejectWith.IcmpPortUnreachable]],
  );
});

test("docker: a published port is DNATed to the container and forwarded through DOCKER", () => {
  const rs = loadRuleset(read("docker-host.save"));
  const target = new RecordingTargetEnv();
  const ifaces = new FakeIfaces(["lo", "eth0", "docker0", "br-5a4b3c2d1e0f"]);
  const env = new RuleEnv(new FakeCt(), ifaces, new FakeAddrType(["192.0.2.10"]), target);
  const toHost: PacketSpec = { src: "198.51.100.4", dst: "192.0.2.10", tcp: { sport: 5555, dport: 8080, flags: "S" } };
  const pre = path(rs, env, TableId.Nat, Hook.Prerouting, toHost, { inIf: 1 });
  assert.deepEqual(pre.steps, ["PREROUTING#1", "DOCKER#3"]);
  assert.equal(formatAddr(4, target.calls[0]!.range!.minAddr), "172.17.0.2");
  // after DNAT the filter FORWARD chain sees the container address
  const fwd: PacketSpec = { src: "198.51.100.4", dst: "172.17.0.2", tcp: { sport: 5555, dport: 80, flags: "S" } };
  const f = path(rs, env, TableId.Filter, Hook.Forward, fwd, { inIf: 1, outIf: 2 });
  assert.equal(f.v, Verdict.Accept);
  assert.deepEqual(f.steps, [
    "FORWARD#1",
    "DOCKER-USER#1",
    "FORWARD#2",
    "DOCKER-ISOLATION-STAGE-1#3",
    "FORWARD#8",
    "DOCKER#1",
  ]);
  // a port that is not published falls to the FORWARD policy
  const other = path(rs, env, TableId.Filter, Hook.Forward, { ...fwd, tcp: { dport: 81 } }, { inIf: 1, outIf: 2 });
  assert.equal(other.v, Verdict.Drop);
  assert.equal(other.steps.at(-1), "FORWARD:policy DROP");
});

test("openwrt: wan SSH to the router is reset, the port forward is DNATed, pings pass", () => {
  const rs = loadRuleset(read("openwrt-fw3.save"));
  const target = new RecordingTargetEnv();
  const ifaces = new FakeIfaces(["lo", "br-lan", "eth1"]);
  const ct = new FakeCt();
  const env = new RuleEnv(ct, ifaces, new FakeAddrType(["203.0.113.7"]), target);
  const c = ct.add({
    status: 0,
    mark: 0,
    l4proto: 6,
    orig: null as never,
    reply: null as never,
    expires: 60,
    tcpState: 1,
  });
  const ssh: PacketSpec = { src: "198.51.100.4", dst: "203.0.113.7", tcp: { sport: 5555, dport: 22, flags: "S" } };
  const r = path(rs, env, TableId.Filter, Hook.Input, ssh, { inIf: 2, ct: c, ctInfo: CtInfo.New, now: 1 });
  assert.equal(r.v, Verdict.Drop);
  assert.deepEqual(target.calls.at(-1)!.arg, RejectWith.TcpReset);
  assert.ok(r.steps.includes("syn_flood#1"));
  const fwd = path(rs, env, TableId.Nat, Hook.Prerouting, { ...ssh, tcp: { sport: 5555, dport: 2222 } }, { inIf: 2 });
  assert.equal(fwd.steps.at(-1), "zone_wan_prerouting#2");
  assert.equal(formatAddr(4, target.calls.at(-1)!.range!.minAddr), "192.168.1.10");
  const ping: PacketSpec = { src: "198.51.100.4", dst: "203.0.113.7", icmp: { type: 8, id: 1 } };
  assert.equal(
    path(rs, env, TableId.Filter, Hook.Input, ping, { inIf: 2, ct: c, ctInfo: CtInfo.New }).v,
    Verdict.Accept,
  );
});

test("server: NEW SSH accepted, other ports logged and rejected, the log rate-limited", () => {
  const rs = loadRuleset(read("server-default-deny.save"));
  const target = new RecordingTargetEnv();
  const ct = new FakeCt();
  const env = new RuleEnv(ct, new FakeIfaces(), new FakeAddrType(["192.0.2.10"]), target);
  const c = ct.add({
    status: 0,
    mark: 0,
    l4proto: 6,
    orig: null as never,
    reply: null as never,
    expires: 60,
    tcpState: 1,
  });
  const syn = (dport: number): PacketSpec => ({
    src: "198.51.100.4",
    dst: "192.0.2.10",
    tcp: { sport: 5555, dport, flags: "S" },
  });
  assert.equal(
    path(rs, env, TableId.Filter, Hook.Input, syn(22), { inIf: 1, ct: c, ctInfo: CtInfo.New }).v,
    Verdict.Accept,
  );
  let logs = 0;
  for (let i = 0; i < 20; i++) {
    const r = path(rs, env, TableId.Filter, Hook.Input, syn(25), { inIf: 1, ct: c, ctInfo: CtInfo.New, now: i * 0.01 });
    assert.equal(r.v, Verdict.Drop);
    if (r.steps.includes("LOGDROP#1")) logs++;
  }
  // --limit 3/min --limit-burst 10: the first ten in a burst are logged
  assert.equal(logs, 10);
  assert.equal(target.calls.filter((x) => x.kind === "LOG").length, 10);
  assert.equal(target.calls.filter((x) => x.kind === "reject" && x.arg === RejectWith.TcpReset).length, 20);
});

/** the Calico + kube-proxy (IPVS) nat table with its IP sets */
function calico(): { rs: Ruleset; env: RuleEnv; target: RecordingTargetEnv } {
  const xt = new XtState(parseIpsets(read("calico-ipvs-nat.ipsets"), "calico-ipvs-nat.ipsets"));
  const rs = loadRuleset(read("calico-ipvs-nat.loadable"), { file: "calico-ipvs-nat.loadable", xt });
  const target = new RecordingTargetEnv();
  // the node's address and the cluster IPs kube-proxy binds to kube-ipvs0 are local
  const local = new FakeAddrType(["192.168.191.153", "10.96.0.1", "10.96.0.10", "10.99.180.41", "10.100.49.21"]);
  const ifaces = new FakeIfaces(["lo", "eth0", "vxlan.calico", "cali4f1c3d2a1b0", "kube-ipvs0"]);
  return { rs, env: new RuleEnv(new FakeCt(), ifaces, local, target), target };
}

test("calico-ipvs-nat (a real Calico + kube-proxy IPVS nat table, with its IP sets): loads, saves and lists as the kernel did", () => {
  const { rs } = calico();
  const save = read("calico-ipvs-nat.save");
  assert.equal(rs.save(), save);
  assert.equal(rs.list("nat"), read("calico-ipvs-nat.list"));
  // the save text reloads to itself with the same sets
  const xt = new XtState(parseIpsets(read("calico-ipvs-nat.ipsets")));
  assert.equal(loadRuleset(save, { xt }).save(), save);
  // without the sets iptables-restore refuses it, naming the first missing set
  assert.throws(
    () => loadRuleset(read("calico-ipvs-nat.loadable"), { file: "calico-ipvs-nat.loadable" }),
    (e: unknown) =>
      isRulesetError(e) && /^calico-ipvs-nat\.loadable:58:\d+: Set KUBE-NODE-PORT-TCP doesn't exist/.test(e.message),
  );
});

test("calico-ipvs-nat: pods masquerade leaving the pool, not to other pods; hairpin and marked service traffic masquerade", () => {
  const { rs, env, target } = calico();
  const post = (spec: PacketSpec, outIf: number, mark = 0) =>
    path(rs, env, TableId.Nat, Hook.Postrouting, spec, { inIf: 3, outIf, mark });
  const tcp = (src: string, dst: string, dport: number): PacketSpec => ({
    src,
    dst,
    tcp: { sport: 40000, dport, flags: "S" },
  });
  // a pod to the internet: Calico's nat-outgoing (in cali40masq-ipam-pools, not to cali40all-ipam-pools)
  let n = target.calls.length;
  const out = post(tcp("192.168.185.13", "8.8.8.8", 443), 1);
  assert.deepEqual(out.steps, ["POSTROUTING#1", "cali-POSTROUTING#1", "cali-POSTROUTING#2", "cali-nat-outgoing#1"]);
  assert.deepEqual(
    target.calls.slice(n).map((c) => c.kind),
    ["masquerade"],
  );
  // a pod to another pod: no NAT (KUBE-POSTROUTING returns: not marked)
  n = target.calls.length;
  const p2p = post(tcp("192.168.185.13", "192.168.185.5", 5443), 3);
  assert.deepEqual(p2p.steps, [
    "POSTROUTING#1",
    "cali-POSTROUTING#1",
    "cali-POSTROUTING#2",
    "POSTROUTING#2",
    "KUBE-POSTROUTING#2",
    "POSTROUTING:policy ACCEPT",
  ]);
  assert.equal(target.calls.length, n);
  // hairpin: a pod sent by IPVS to itself (KUBE-LOOP-BACK dst,dst,src)
  const hair = post(tcp("192.168.185.14", "192.168.185.14", 80), 3);
  assert.equal(hair.steps.at(-1), "KUBE-POSTROUTING#1");
  assert.equal(target.calls.at(-1)!.kind, "masquerade");
  // the same pod reaching another endpoint is not a hairpin
  assert.equal(post(tcp("192.168.185.14", "192.168.185.15", 80), 3).steps.at(-1), "POSTROUTING:policy ACCEPT");
  // traffic marked 0x4000 in PREROUTING is masqueraded and the mark cleared
  const marked = post(tcp("10.192.4.7", "192.168.185.13", 80), 3, 0x4000);
  assert.deepEqual(marked.steps.slice(-2), ["KUBE-POSTROUTING#3", "KUBE-POSTROUTING#4"]);
  assert.equal(marked.skb.mark, 0);
});

test("calico-ipvs-nat: PREROUTING marks outside clients of cluster IPs and node ports, not pods", () => {
  const { rs, env } = calico();
  const pre = (spec: PacketSpec) => path(rs, env, TableId.Nat, Hook.Prerouting, spec, { inIf: 1 });
  // an outside client of a cluster IP (KUBE-CLUSTER-IP dst,dst): marked, then accepted
  const svc = pre({ src: "10.192.4.7", dst: "10.100.49.21", tcp: { sport: 40000, dport: 80, flags: "S" } });
  assert.deepEqual(svc.steps, [
    "PREROUTING#1",
    "cali-PREROUTING#1",
    "PREROUTING#2",
    "KUBE-SERVICES#1",
    "KUBE-MARK-MASQ#1",
    "KUBE-SERVICES#2",
    "KUBE-SERVICES#3",
  ]);
  assert.equal(svc.skb.mark, 0x4000);
  // the same address on a port that is not a service's: no mark, not accepted by KUBE-SERVICES
  const other = pre({ src: "10.192.4.7", dst: "10.100.49.21", tcp: { sport: 40000, dport: 81, flags: "S" } });
  assert.equal(other.skb.mark, 0);
  assert.equal(other.steps.at(-1), "PREROUTING:policy ACCEPT");
  // the node port 31195 on the node's address (KUBE-NODE-PORT-TCP, a bitmap:port)
  const np = pre({ src: "10.192.4.7", dst: "192.168.191.153", tcp: { sport: 40000, dport: 31195, flags: "S" } });
  assert.deepEqual(np.steps.slice(-4), [
    "KUBE-SERVICES#2",
    "KUBE-NODE-PORT#1",
    "KUBE-MARK-MASQ#1",
    "PREROUTING:policy ACCEPT",
  ]);
  assert.equal(np.skb.mark, 0x4000);
  // a pod asking the cluster DNS over UDP: accepted, not marked (its source is in 192.168.0.0/16)
  const dns = pre({ src: "192.168.185.13", dst: "10.96.0.10", udp: { sport: 5353, dport: 53 } });
  assert.equal(dns.steps.at(-1), "KUBE-SERVICES#3");
  assert.equal(dns.skb.mark, 0);
});

test("openwrt: SYNs forwarded to the wan have their MSS clamped to the route's MTU (pppoe 1492)", () => {
  const rs = loadRuleset(read("openwrt-fw3.save"));
  const target = new RecordingTargetEnv();
  target.mtu = 1492;
  const ifaces = new FakeIfaces(["lo", "br-lan", "eth1"]);
  const env = new RuleEnv(new FakeCt(), ifaces, new FakeAddrType(["203.0.113.7"]), target);
  const syn: PacketSpec = {
    src: "192.168.1.10",
    dst: "198.51.100.4",
    tcp: { sport: 40000, dport: 443, flags: "S", options: { mss: 1460, sackPerm: true } },
  };
  const out = path(rs, env, TableId.Mangle, Hook.Forward, syn, { inIf: 1, outIf: 2 });
  assert.deepEqual(out.steps, ["FORWARD#1", "FORWARD:policy ACCEPT"]);
  assert.equal(out.skb.pi.optMss, 1452);
  // towards the lan untouched; a SYN-ACK to the wan matches --tcp-flags SYN,RST SYN too
  assert.equal(path(rs, env, TableId.Mangle, Hook.Forward, syn, { inIf: 2, outIf: 1 }).skb.pi.optMss, 1460);
  const synAck: PacketSpec = { ...syn, tcp: { ...syn.tcp!, flags: "SA" } };
  assert.equal(path(rs, env, TableId.Mangle, Hook.Forward, synAck, { inIf: 1, outIf: 2 }).skb.pi.optMss, 1452);
});
