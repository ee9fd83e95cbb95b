/**
 * record.ts: record one kernel-oracle scenario from the real Linux kernel of this machine.
 *
 *   node --import tsx tools/oracle/record.ts [--out DIR] [--keep-on-failure] SCENARIO_DIR
 *
 * Builds lan / gw / wan network namespaces (or gw / peer for scripted scenarios) with names unique to
 * this run, applies the scenario's rulesets and sysctls in gw, captures every gw interface per direction,
 * runs the scenario's traffic.py, then dumps conntrack, counters and the gateway's description. The
 * namespaces are always deleted, also on failure and on ctrl-C. Needs root. See tools/oracle/README.md.
 *
 * Node-only tool (never part of `npm test`): the tests use the committed fixtures it writes.
 */
import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from "node:fs";
import { basename, dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { readCaptureBytes } from "../../test/support/capture.js";
import { checksumProblems, describe } from "../../test/support/packet.js";

const HERE = dirname(fileURLToPath(import.meta.url));
const REPO = resolve(HERE, "../..");
const LIB = join(HERE, "lib");
const PYTHON = "/usr/bin/python3";
/** NFLOG group of the recorder's own local-delivery log (kept away from groups scenarios might use) */
const LOCAL_NFLOG_GROUP = 7777;
/** priority of the local-delivery log chain: after filter (0) and after nat's INPUT SNAT (100) */
const LOCAL_LOG_PRIORITY = 200;

/** Fixed link-layer addresses (keep in step with lib/oracle.py). */
const MAC = {
  gwLan: "02:00:00:77:01:01",
  lan: "02:00:00:77:01:02",
  gwWan: "02:00:00:77:02:01",
  wan: "02:00:00:77:02:02",
} as const;

interface ScenarioConfig {
  description: string;
  /** "live": kernel sockets in lan/wan namespaces; "scripted": crafted frames from the peer namespace */
  mode: "live" | "scripted";
  /** output directory, relative to the repository (default test/fixtures/kernel/<name>) */
  out?: string;
  /** seconds to wait after bringing links up, before rules and captures (lets IPv6 MLD settle) */
  settle?: number;
  /** seconds to wait after traffic.py ends, before captures stop */
  linger?: number;
  /** scripted mode: extra static neighbours of the gateway, per interface (addresses behind the peer) */
  neighbours?: { lan0?: string[]; wan0?: string[] };
}

// ---- process helpers ----------------------------------------------------------------------------

function sh(args: string[], opts: { input?: string; allowFail?: boolean; env?: NodeJS.ProcessEnv } = {}): string {
  const r = spawnSync(args[0], args.slice(1), {
    input: opts.input,
    encoding: "utf8",
    env: opts.env ?? process.env,
    maxBuffer: 64 * 1024 * 1024,
  });
  if (r.error) throw new Error(`${args.join(" ")}: ${r.error.message}`);
  if (r.status !== 0 && !opts.allowFail) {
    throw new Error(`${args.join(" ")} exited ${r.status}: ${r.stderr.trim()}`);
  }
  return r.stdout;
}

function inNs(ns: string, args: string[], opts: { input?: string; allowFail?: boolean } = {}): string {
  return sh(["ip", "netns", "exec", ns, ...args], opts);
}

function sleep(seconds: number): Promise<void> {
  return new Promise((r) => setTimeout(r, seconds * 1000));
}

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === "EPERM";
  }
}

// ---- run state and teardown ----------------------------------------------------------------------

const PREFIX = `ctnat-o${process.pid}`;
const namespaces: string[] = [];
const children: ChildProcess[] = [];
let tornDown = false;
/** the temporary output directory of this run, removed unless the run completed */
let pendingDir = "";

function teardown(): void {
  if (tornDown) return;
  tornDown = true;
  for (const c of children) {
    if (c.exitCode === null && c.pid !== undefined) {
      try {
        process.kill(c.pid, "SIGKILL");
      } catch {
        // already gone
      }
    }
  }
  for (const ns of namespaces.reverse()) {
    spawnSync("ip", ["netns", "del", ns]);
  }
  if (pendingDir) rmSync(pendingDir, { recursive: true, force: true });
}

function onSignal(sig: NodeJS.Signals): void {
  process.stderr.write(`record: ${sig}, tearing down\n`);
  teardown();
  process.exit(130);
}

/** Delete namespaces left by recorder runs whose process no longer exists (a crash or SIGKILL). */
function removeStaleNamespaces(): void {
  const list = sh(["ip", "netns", "list"]);
  for (const line of list.split("\n")) {
    const m = /^(ctnat-o(\d+)-\w+)/.exec(line);
    if (m && Number(m[2]) !== process.pid && !pidAlive(Number(m[2]))) {
      process.stderr.write(`record: removing stale namespace ${m[1]}\n`);
      spawnSync("ip", ["netns", "del", m[1]]);
    }
  }
}

function addNs(role: string): string {
  const name = `${PREFIX}-${role}`;
  sh(["ip", "netns", "add", name]);
  namespaces.push(name);
  inNs(name, ["ip", "link", "set", "lo", "up"]);
  // Quiet IPv6 hosts: no router solicitations, no duplicate address detection, no autoconfiguration.
  inNs(name, [
    "sysctl",
    "-qw",
    "net.ipv6.conf.all.router_solicitations=0",
    "net.ipv6.conf.default.router_solicitations=0",
    "net.ipv6.conf.all.accept_dad=0",
    "net.ipv6.conf.default.accept_dad=0",
    "net.ipv6.conf.all.accept_ra=0",
    "net.ipv6.conf.default.accept_ra=0",
  ]);
  return name;
}

// ---- topology -----------------------------------------------------------------------------------

interface Topology {
  gw: string;
  lan?: string;
  wan?: string;
  peer?: string;
}

function addAddr(ns: string, dev: string, cidr: string): void {
  const extra = cidr.includes(":") ? ["nodad"] : [];
  inNs(ns, ["ip", "addr", "add", cidr, "dev", dev, ...extra]);
}

function linkLocal(mac: string): string {
  // EUI-64 link-local address for a MAC (what the kernel configures on a veth)
  const b = mac.split(":").map((x) => Number.parseInt(x, 16));
  b[0] ^= 0x02;
  const w = [(b[0] << 8) | b[1], (b[2] << 8) | 0xff, 0xfe00 | b[3], (b[4] << 8) | b[5]];
  return `fe80::${w.map((x) => x.toString(16)).join(":")}`;
}

/**
 * Turn off checksum and segmentation offloads on a veth end. With them on, the kernel hands packets over
 * veth with only the pseudo-header sum in the TCP/UDP checksum field (CHECKSUM_PARTIAL) and may pass
 * segments larger than the MTU: the captures would show neither what a wire carries nor what ctnat must
 * produce. With them off every packet is captured complete, checksums final.
 */
function noOffload(ns: string, dev: string): void {
  inNs(ns, ["ethtool", "-K", dev, "tx", "off", "tso", "off", "gso", "off", "gro", "off"], { allowFail: true });
  const features = inNs(ns, ["ethtool", "-k", dev]);
  if (!/^tx-checksumming: off/m.test(features)) throw new Error(`${ns} ${dev}: cannot turn off tx checksumming`);
}

function neighbour(ns: string, dev: string, addr: string, mac: string): void {
  inNs(ns, ["ip", "neigh", "replace", addr, "lladdr", mac, "dev", dev, "nud", "permanent"]);
}

/** Global addresses of `dev` in namespace `ns`. */
function addressesOf(ns: string, dev: string): string[] {
  const j = JSON.parse(inNs(ns, ["ip", "-j", "addr", "show", "dev", dev])) as {
    addr_info: { local: string; scope: string }[];
  }[];
  return j.flatMap((i) => i.addr_info.filter((a) => a.scope !== "link").map((a) => a.local));
}

function runSetupScript(scenarioDir: string, env: NodeJS.ProcessEnv): void {
  const setup = join(scenarioDir, "setup.sh");
  if (existsSync(setup)) sh(["bash", "-e", setup], { env });
}

function buildTopology(cfg: ScenarioConfig, scenarioDir: string, env: NodeJS.ProcessEnv): Topology {
  const gw = addNs("gw");
  env.ORACLE_NS_GW = gw;
  inNs(gw, ["sysctl", "-qw", "net.ipv4.ip_forward=1", "net.ipv6.conf.all.forwarding=1"]);
  const topo: Topology = { gw };
  let lanPeer: [string, string];
  let wanPeer: [string, string];
  if (cfg.mode === "scripted") {
    const peer = addNs("peer");
    env.ORACLE_NS_PEER = peer;
    topo.peer = peer;
    // The peer ends are plain wires: no addresses, no IPv6 (no ND or MLD of their own).
    inNs(peer, ["sysctl", "-qw", "net.ipv6.conf.all.disable_ipv6=1", "net.ipv6.conf.default.disable_ipv6=1"]);
    lanPeer = [peer, "lanp"];
    wanPeer = [peer, "wanp"];
  } else {
    topo.lan = addNs("lan");
    topo.wan = addNs("wan");
    env.ORACLE_NS_LAN = topo.lan;
    env.ORACLE_NS_WAN = topo.wan;
    lanPeer = [topo.lan, "eth0"];
    wanPeer = [topo.wan, "eth0"];
  }
  const links: [string, string, [string, string], string][] = [
    ["lan0", MAC.gwLan, lanPeer, MAC.lan],
    ["wan0", MAC.gwWan, wanPeer, MAC.wan],
  ];
  for (const [dev, mac, [pns, pdev], pmac] of links) {
    inNs(gw, ["ip", "link", "add", dev, "address", mac, "type", "veth", "peer", "name", pdev, "netns", pns]);
    inNs(pns, ["ip", "link", "set", pdev, "address", pmac]);
  }
  addAddr(gw, "lan0", "10.77.1.1/24");
  addAddr(gw, "lan0", "fd77:1::1/64");
  addAddr(gw, "wan0", "10.77.2.1/24");
  addAddr(gw, "wan0", "fd77:2::1/64");
  if (topo.lan && topo.wan) {
    addAddr(topo.lan, "eth0", "10.77.1.2/24");
    addAddr(topo.lan, "eth0", "fd77:1::2/64");
    addAddr(topo.wan, "eth0", "10.77.2.2/24");
    addAddr(topo.wan, "eth0", "fd77:2::2/64");
  }
  for (const [dev, , [pns, pdev]] of links) {
    noOffload(gw, dev);
    noOffload(pns, pdev);
    inNs(gw, ["ip", "link", "set", dev, "up"]);
    inNs(pns, ["ip", "link", "set", pdev, "up"]);
  }
  if (topo.lan && topo.wan) {
    inNs(topo.lan, ["ip", "route", "add", "default", "via", "10.77.1.1"]);
    inNs(topo.lan, ["ip", "-6", "route", "add", "default", "via", "fd77:1::1"]);
    inNs(topo.wan, ["ip", "route", "add", "default", "via", "10.77.2.1"]);
    inNs(topo.wan, ["ip", "-6", "route", "add", "default", "via", "fd77:2::1"]);
  }
  // The gateway's upstream is the wan host.
  inNs(gw, ["ip", "route", "add", "default", "via", "10.77.2.2"]);
  inNs(gw, ["ip", "-6", "route", "add", "default", "via", "fd77:2::2"]);

  runSetupScript(scenarioDir, env);

  // Static neighbours everywhere: no ARP or neighbour discovery during the recording.
  if (topo.lan && topo.wan) {
    for (const [host, gwDev, hostMac, gwMac] of [
      [topo.lan, "lan0", MAC.lan, MAC.gwLan],
      [topo.wan, "wan0", MAC.wan, MAC.gwWan],
    ] as const) {
      for (const a of [...addressesOf(host, "eth0"), linkLocal(hostMac)]) neighbour(gw, gwDev, a, hostMac);
      for (const a of [...addressesOf(gw, gwDev), linkLocal(gwMac)]) neighbour(host, "eth0", a, gwMac);
    }
  } else {
    const lanN = ["10.77.1.2", "fd77:1::2", linkLocal(MAC.lan), ...(cfg.neighbours?.lan0 ?? [])];
    const wanN = ["10.77.2.2", "fd77:2::2", linkLocal(MAC.wan), ...(cfg.neighbours?.wan0 ?? [])];
    for (const a of lanN) neighbour(gw, "lan0", a, MAC.lan);
    for (const a of wanN) neighbour(gw, "wan0", a, MAC.wan);
  }
  return topo;
}

// ---- rules, sysctls and the local-delivery log ------------------------------------------------------

function applySysctls(gw: string, file: string): void {
  for (const raw of readFileSync(file, "utf8").split("\n")) {
    const line = raw.replace(/#.*/, "").trim();
    if (!line) continue;
    const m = /^([\w.\-/]+)\s*=\s*(.*)$/.exec(line);
    if (!m) throw new Error(`${file}: cannot read line "${raw}"`);
    inNs(gw, ["sysctl", "-qw", `${m[1]}=${m[2]}`]);
  }
}

function applyRules(gw: string, rules4: string, rules6: string | undefined): void {
  inNs(gw, ["iptables-restore"], { input: readFileSync(rules4, "utf8") });
  if (rules6) inNs(gw, ["ip6tables-restore"], { input: readFileSync(rules6, "utf8") });
  // Packets that passed INPUT (after filter and nat) are logged to an NFLOG group the recorder captures.
  // A separate nftables table: the iptables counters and conntrack are not touched. queue-threshold 1
  // hands every packet to the capture at once: NFLOG otherwise batches them and flushes a batch only
  // after its 1 s timer, so deliveries in the last second before the captures stop were lost (and the
  // capture times were those of the flush).
  const nft = `table inet ctnat_oracle {
  chain local_in {
    type filter hook input priority ${LOCAL_LOG_PRIORITY}; policy accept;
    log group ${LOCAL_NFLOG_GROUP} queue-threshold 1
  }
}
`;
  inNs(gw, ["nft", "-f", "-"], { input: nft });
}

// ---- captures -----------------------------------------------------------------------------------

interface Capture {
  proc: ChildProcess;
  file: string;
  stderr: string;
  done: Promise<void>;
}

function startCapture(gw: string, iface: string, dir: "in" | "out" | null, file: string): Promise<Capture> {
  const args = ["netns", "exec", gw, "tcpdump", "-i", iface, "-n", "-U", "--immediate-mode", "-Z", "root"];
  if (dir) args.push("-Q", dir);
  args.push("-w", file);
  const proc = spawn("ip", args, { stdio: ["ignore", "ignore", "pipe"] });
  children.push(proc);
  const cap: Capture = { proc, file, stderr: "", done: Promise.resolve() };
  cap.done = new Promise((res) => proc.on("exit", () => res()));
  return new Promise((res, rej) => {
    const timer = setTimeout(() => rej(new Error(`tcpdump on ${iface} did not start: ${cap.stderr}`)), 10000);
    proc.stderr!.setEncoding("utf8");
    proc.stderr!.on("data", (d: string) => {
      cap.stderr += d;
      if (cap.stderr.includes("listening on")) {
        clearTimeout(timer);
        res(cap);
      }
    });
    proc.on("exit", (code) => {
      clearTimeout(timer);
      rej(new Error(`tcpdump on ${iface} exited ${code}: ${cap.stderr}`));
    });
  });
}

async function stopCapture(cap: Capture): Promise<{ captured: number; dropped: number }> {
  if (cap.proc.exitCode === null) cap.proc.kill("SIGINT");
  await cap.done;
  const captured = Number(/(\d+) packets? captured/.exec(cap.stderr)?.[1] ?? Number.NaN);
  const dropped = Number(/(\d+) packets? dropped by kernel/.exec(cap.stderr)?.[1] ?? Number.NaN);
  if (!(dropped === 0)) throw new Error(`${cap.file}: tcpdump dropped packets: ${cap.stderr}`);
  return { captured, dropped };
}

// ---- traffic ------------------------------------------------------------------------------------

const DONE_MARK = "ORACLE-DONE";

/**
 * Run traffic.py. Resolves when the script exits 0, or when it prints ORACLE-DONE (oracle.done()):
 * it then waits, keeping its sockets open, until the recorder has stopped the captures and dumped the
 * state, and is killed afterwards (so connections can be left ESTABLISHED).
 */
function runTraffic(script: string, cwd: string, env: NodeJS.ProcessEnv): Promise<ChildProcess> {
  const proc = spawn(PYTHON, [script], { cwd, env, stdio: ["ignore", "pipe", "inherit"] });
  children.push(proc);
  return new Promise((res, rej) => {
    let buf = "";
    let done = false;
    const timer = setTimeout(() => rej(new Error("traffic.py did not finish within 300 s")), 300_000);
    proc.stdout!.setEncoding("utf8");
    proc.stdout!.on("data", (d: string) => {
      process.stdout.write(d);
      buf += d;
      if (!done && buf.includes(DONE_MARK)) {
        done = true;
        clearTimeout(timer);
        res(proc);
      }
    });
    proc.on("exit", (code, signal) => {
      clearTimeout(timer);
      if (done) return;
      if (code === 0) res(proc);
      else rej(new Error(`traffic.py failed (exit ${code ?? signal})`));
    });
  });
}

// ---- pcap post-processing: NFLOG -> raw IP ----------------------------------------------------------

const LINKTYPE_RAW = 101;
const LINKTYPE_NFLOG = 239;
const NFULA_PAYLOAD = 9;

/**
 * Rewrite an NFLOG capture (tcpdump -i nflog:N) as a LINKTYPE_RAW pcap holding just the IP packets,
 * so that local.pcap has the same form as any other capture. Timestamps are kept.
 */
function nflogToRaw(src: Uint8Array): Uint8Array {
  const dv = new DataView(src.buffer, src.byteOffset, src.byteLength);
  const magic = dv.getUint32(0, true);
  const le = magic === 0xa1b2c3d4 || magic === 0xa1b23c4d;
  if (!le && dv.getUint32(0, false) !== 0xa1b2c3d4 && dv.getUint32(0, false) !== 0xa1b23c4d) {
    throw new Error("not a classic pcap file");
  }
  const linkType = dv.getUint32(20, le);
  if (linkType !== LINKTYPE_NFLOG) throw new Error(`expected NFLOG link type, got ${linkType}`);
  const parts: Uint8Array[] = [];
  const header = new Uint8Array(24);
  header.set(src.subarray(0, 24));
  new DataView(header.buffer).setUint32(20, LINKTYPE_RAW, le);
  parts.push(header);
  let off = 24;
  while (off + 16 <= src.length) {
    const incl = dv.getUint32(off + 8, le);
    const rec = src.subarray(off + 16, off + 16 + incl);
    let payload: Uint8Array | undefined;
    // NFLOG: 4-byte header (family, version, resource id), then TLVs (length and type in host order,
    // little-endian here), each padded to 4 bytes.
    let t = 4;
    while (t + 4 <= rec.length) {
      const tlen = rec[t] | (rec[t + 1] << 8);
      const ttype = rec[t + 2] | (rec[t + 3] << 8);
      if (tlen < 4) break;
      if (ttype === NFULA_PAYLOAD) payload = rec.subarray(t + 4, t + tlen);
      t += (tlen + 3) & ~3;
    }
    if (payload) {
      const ph = new Uint8Array(16);
      ph.set(src.subarray(off, off + 8));
      const pdv = new DataView(ph.buffer);
      pdv.setUint32(8, payload.length, le);
      pdv.setUint32(12, payload.length, le);
      parts.push(ph, payload);
    }
    off += 16 + incl;
  }
  const total = parts.reduce((n, p) => n + p.length, 0);
  const out = new Uint8Array(total);
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

// ---- dumps ----------------------------------------------------------------------------------------

/** sysctls (besides net.netfilter.*) that change what the replay does: forwarding, NAT ports, the
 * gateway's own packets (TTL, hop limit, ICMP rate limits, echo, error source, flow labels), reassembly */
const SYSCTL_KEYS = new Set([
  "net.ipv4.ip_forward",
  "net.ipv6.conf.all.forwarding",
  "net.ipv4.ip_local_port_range",
  "net.ipv4.ip_default_ttl",
  "net.ipv4.icmp_ratelimit",
  "net.ipv4.icmp_ratemask",
  "net.ipv4.icmp_msgs_per_sec",
  "net.ipv4.icmp_msgs_burst",
  "net.ipv4.icmp_echo_ignore_all",
  "net.ipv4.icmp_echo_ignore_broadcasts",
  "net.ipv4.icmp_errors_use_inbound_ifaddr",
  "net.ipv4.route.error_burst",
  "net.ipv4.route.error_cost",
  "net.ipv4.route.redirect_load",
  "net.ipv4.route.redirect_number",
  "net.ipv4.route.redirect_silence",
  "net.ipv4.conf.all.send_redirects",
  "net.ipv4.conf.lan0.send_redirects",
  "net.ipv4.conf.wan0.send_redirects",
  "net.ipv4.ipfrag_high_thresh",
  "net.ipv4.ipfrag_low_thresh",
  "net.ipv4.ipfrag_max_dist",
  "net.ipv4.ipfrag_time",
  "net.ipv6.conf.all.hop_limit",
  "net.ipv6.icmp.ratelimit",
  "net.ipv6.icmp.ratemask",
  "net.ipv6.icmp.echo_ignore_all",
  "net.ipv6.icmp.echo_ignore_multicast",
  "net.ipv6.auto_flowlabels",
  "net.ipv6.flowlabel_reflect",
]);

function dumpSysctls(gw: string): string {
  const all = inNs(gw, ["sysctl", "-a"], { allowFail: true });
  return all
    .split("\n")
    .filter((l) => {
      const key = l.split(" = ")[0];
      return key.startsWith("net.netfilter.") || SYSCTL_KEYS.has(key);
    })
    .map((l) => `${l}\n`)
    .join("");
}

function conntrackList(gw: string, family: "ipv4" | "ipv6"): string {
  const r = spawnSync("ip", ["netns", "exec", gw, "conntrack", "-L", "-f", family], { encoding: "utf8" });
  if (r.status !== 0) throw new Error(`conntrack -L -f ${family}: ${r.stderr}`);
  return r.stdout;
}

function firstLine(s: string): string {
  return s.split("\n")[0].trim();
}

// ---- main -----------------------------------------------------------------------------------------

function usage(): never {
  process.stderr.write(
    "usage: node --import tsx tools/oracle/record.ts [--out DIR] [--keep-on-failure] SCENARIO_DIR\n",
  );
  process.exit(2);
}

async function main(argv: string[]): Promise<void> {
  let outArg: string | undefined;
  let scenarioArg: string | undefined;
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === "--out") outArg = argv[++i];
    else if (argv[i].startsWith("-")) usage();
    else if (scenarioArg === undefined) scenarioArg = argv[i];
    else usage();
  }
  if (!scenarioArg) usage();
  if (process.getuid?.() !== 0) throw new Error("the recorder needs root (network namespaces, iptables)");
  const scenarioDir = resolve(scenarioArg);
  const name = basename(scenarioDir);
  const cfgFile = join(scenarioDir, "scenario.json");
  const cfg: ScenarioConfig = {
    description: "",
    mode: "live",
    ...(existsSync(cfgFile) ? (JSON.parse(readFileSync(cfgFile, "utf8")) as Partial<ScenarioConfig>) : {}),
  };
  const rules4 = join(scenarioDir, "rules.v4");
  const rules6 = existsSync(join(scenarioDir, "rules.v6")) ? join(scenarioDir, "rules.v6") : undefined;
  const sysctlConf = join(scenarioDir, "sysctl.conf");
  const traffic = join(scenarioDir, "traffic.py");
  if (!existsSync(rules4)) throw new Error(`${rules4}: missing`);
  if (!existsSync(traffic)) throw new Error(`${traffic}: missing`);
  const outDir = resolve(REPO, outArg ?? cfg.out ?? join("test/fixtures/kernel", name));
  const tmp = `${outDir}.tmp-${process.pid}`;
  rmSync(tmp, { recursive: true, force: true });
  pendingDir = tmp;
  mkdirSync(join(tmp, "in"), { recursive: true });
  mkdirSync(join(tmp, "out"), { recursive: true });

  process.on("SIGINT", onSignal);
  process.on("SIGTERM", onSignal);
  process.on("SIGHUP", onSignal);
  process.on("exit", teardown);
  removeStaleNamespaces();

  const env: NodeJS.ProcessEnv = { ...process.env, PYTHONPATH: LIB, PYTHONUNBUFFERED: "1" };
  try {
    const topo = buildTopology(cfg, scenarioDir, env);
    const gw = topo.gw;
    if (existsSync(sysctlConf)) applySysctls(gw, sysctlConf);
    await sleep(cfg.settle ?? 3);
    // IP sets the rules name (scenario ipsets.txt, `ipset restore` input) exist before the rules load;
    // as `ipset save` prints them then, they are the fixture's ipsets.txt (the replay's --ipsets)
    const ipsetsIn = join(scenarioDir, "ipsets.txt");
    if (existsSync(ipsetsIn)) inNs(gw, ["ipset", "restore"], { input: readFileSync(ipsetsIn, "utf8") });
    const savedSets = existsSync(ipsetsIn) ? inNs(gw, ["ipset", "save"]) : "";
    applyRules(gw, rules4, rules6);
    // The input rulesets as iptables-save prints them (canonical form, zero counters).
    const saved4 = inNs(gw, ["iptables-save"]);
    const saved6 = inNs(gw, ["ip6tables-save"]);

    const caps: Capture[] = [];
    for (const iface of ["lan0", "wan0"]) {
      caps.push(await startCapture(gw, iface, "in", join(tmp, "in", `${iface}.pcap`)));
      caps.push(await startCapture(gw, iface, "out", join(tmp, "out", `${iface}.pcap`)));
    }
    const localRaw = join(tmp, "local.nflog.pcap");
    caps.push(await startCapture(gw, `nflog:${LOCAL_NFLOG_GROUP}`, null, localRaw));
    await sleep(0.3);

    const started = new Date();
    const trafficProc = await runTraffic(traffic, scenarioDir, env);
    await sleep(cfg.linger ?? 0.5);

    const stats: Record<string, { captured: number; dropped: number }> = {};
    for (const c of caps) stats[c.file.slice(tmp.length + 1)] = await stopCapture(c);

    // The table as of now: the dump time goes to at.txt for `ctnat replay --at`.
    const at = Date.now() / 1000;
    const ct = conntrackList(gw, "ipv4") + conntrackList(gw, "ipv6");
    const counters4 = inNs(gw, ["iptables-save", "-c"]);
    const counters6 = inNs(gw, ["ip6tables-save", "-c"]);
    writeFileSync(join(tmp, "conntrack.txt"), ct);
    writeFileSync(join(tmp, "at.txt"), `${at.toFixed(3)}\n`);
    writeFileSync(join(tmp, "counters.v4"), counters4);
    writeFileSync(join(tmp, "counters.v6"), counters6);
    writeFileSync(join(tmp, "addr.json"), inNs(gw, ["ip", "-j", "addr"]));
    writeFileSync(join(tmp, "route.json"), inNs(gw, ["ip", "-j", "route"]));
    writeFileSync(join(tmp, "route6.json"), inNs(gw, ["ip", "-j", "-6", "route"]));
    writeFileSync(join(tmp, "sysctl.txt"), dumpSysctls(gw));
    // Sockets the script kept open are closed only now, after every dump.
    if (trafficProc.exitCode === null) trafficProc.kill("SIGKILL");
    writeFileSync(join(tmp, "rules.v4"), saved4);
    if (saved6.trim()) writeFileSync(join(tmp, "rules.v6"), saved6);
    if (savedSets.trim()) writeFileSync(join(tmp, "ipsets.txt"), savedSets);
    writeFileSync(join(tmp, "local.pcap"), nflogToRaw(readFileSync(localRaw)));
    rmSync(localRaw);
    delete stats["local.nflog.pcap"];

    const meta = {
      scenario: name,
      description: cfg.description,
      mode: cfg.mode,
      kernel: firstLine(sh(["uname", "-r"])),
      iptables: firstLine(sh(["iptables", "--version"])),
      conntrack: firstLine(sh(["conntrack", "--version"])),
      tcpdump: firstLine(sh(["tcpdump", "--version"])),
      date: started.toISOString(),
      command: `node --import tsx tools/oracle/record.ts tools/oracle/scenarios/${name}`,
      packets: stats,
    };
    writeFileSync(join(tmp, "meta.json"), `${JSON.stringify(meta, null, 2)}\n`);

    warnBadChecksums(tmp);
    rmSync(outDir, { recursive: true, force: true });
    mkdirSync(dirname(outDir), { recursive: true });
    renameSync(tmp, outDir);
    pendingDir = "";
    const size = dirSize(outDir);
    process.stdout.write(`record: ${name} -> ${outDir} (${(size / 1024).toFixed(1)} KiB)\n`);
  } catch (e) {
    rmSync(tmp, { recursive: true, force: true });
    throw e;
  } finally {
    teardown();
  }
}

/** Say so when a capture holds packets with wrong checksums (offloads left on, or a crafted packet). */
function warnBadChecksums(dir: string): void {
  for (const sub of ["in", "out"]) {
    for (const f of readdirSync(join(dir, sub))) {
      const packets = readCaptureBytes(new Uint8Array(readFileSync(join(dir, sub, f))));
      for (const p of packets) {
        const why = p.nonIp ? "" : checksumProblems(p.l3);
        if (why) process.stderr.write(`record: warning: ${sub}/${f} #${p.index}: ${why}: ${describe(p.l3)}\n`);
      }
    }
  }
}

function dirSize(dir: string): number {
  let n = 0;
  for (const e of readdirSync(dir)) {
    const p = join(dir, e);
    const s = statSync(p);
    n += s.isDirectory() ? dirSize(p) : s.size;
  }
  return n;
}

main(process.argv.slice(2)).catch((e: unknown) => {
  process.stderr.write(`record: ${(e as Error).message}\n`);
  teardown();
  process.exit(1);
});
