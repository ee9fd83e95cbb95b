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
import { loadRuleset, RuleEnv, type Ruleset, type RuleTracer, TableId } from "./index.js";
import { FakeAddrType, FakeCt, FakeIfaces, makeSkb, RecordingTargetEnv, type SkbOpts } from "./testdata/fakes.js";

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
