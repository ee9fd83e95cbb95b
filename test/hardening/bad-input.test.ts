/**
 * Bad input through `ctnat replay` as a command (spawned, as a user runs it): corrupt, truncated and
 * lying captures, rulesets with every kind of error, sysctl files and `ip -j` JSON with wrong shapes,
 * files that are not there or are directories, outputs that cannot be written. Each must end with one
 * line on stderr naming the place (file and line:column, byte offset or JSON path), exit status 2, no
 * stack trace, and no output file under its final name.
 *
 * The messages of each parser are checked one by one, in process, by capture-messages.test.ts,
 * netconf-shapes.test.ts, sysctl-values.test.ts and the rules' own tests; here every kind of input is
 * checked end to end. test/cli/replay-cli.test.ts has the usage errors.
 */
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { cpus, tmpdir } from "node:os";
import { join } from "node:path";
import { after, test } from "node:test";
import { REPO } from "../cli/run.js";
import { block, epb, idb, pcapHeader, pcapRecord, shb } from "./capture-builders.js";

const FIX = join(REPO, "test/fixtures/kernel/masq-tcp");
const tmp = mkdtempSync(join(tmpdir(), "ctnat-bad-"));
after(() => rmSync(tmp, { recursive: true, force: true }));

interface Result {
  status: number;
  stdout: string;
  stderr: string;
}

function ctnat(args: string[]): Promise<Result> {
  return new Promise((resolve) => {
    const p = spawn(process.execPath, ["--import", "tsx", join(REPO, "src/cli/entry.ts"), ...args], {
      cwd: REPO,
      env: { ...process.env, NODE_NO_WARNINGS: "1" },
    });
    let stdout = "";
    let stderr = "";
    p.stdout.on("data", (d) => (stdout += d));
    p.stderr.on("data", (d) => (stderr += d));
    const timer = setTimeout(() => p.kill("SIGKILL"), 60_000);
    p.on("close", (code) => {
      clearTimeout(timer);
      resolve({ status: code ?? -1, stdout, stderr });
    });
  });
}

/** run all commands, a few at a time */
async function runAll(cmds: string[][]): Promise<Result[]> {
  const out: Result[] = new Array(cmds.length);
  let next = 0;
  const width = Math.max(2, Math.min(6, cpus().length * 2));
  await Promise.all(
    Array.from({ length: width }, async () => {
      while (next < cmds.length) {
        const i = next++;
        out[i] = await ctnat(cmds[i]!);
      }
    }),
  );
  return out;
}

let serial = 0;
function file(name: string, content: string | Uint8Array): string {
  const dir = join(tmp, `f${serial++}`);
  mkdirSync(dir);
  const p = join(dir, name);
  writeFileSync(p, content);
  return p;
}

const base = {
  rules: join(FIX, "rules.v4"),
  addr: join(FIX, "addr.json"),
  route: join(FIX, "route.json"),
  route6: join(FIX, "route6.json"),
  sysctl: join(FIX, "sysctl.txt"),
  lan: join(FIX, "in/lan0.pcap"),
};

interface Case {
  name: string;
  /** replay arguments replacing the defaults (the defaults: the masq-tcp recording) */
  args: Partial<typeof base> & { extra?: string[] };
  /** the whole stderr line after "ctnat: " (a RegExp for messages that name temporary paths) */
  message: RegExp;
}

const EOL = "\n";
const RULES_HEAD = "*filter\n:INPUT ACCEPT [0:0]\n:FORWARD ACCEPT [0:0]\n:OUTPUT ACCEPT [0:0]\n";
const ruleset = (lines: string): string => `${RULES_HEAD}${lines}COMMIT\n`;
const addrJson = JSON.parse(readFileSync(base.addr, "utf8")) as Record<string, unknown>[];
const edited = (edit: (a: Record<string, unknown>[]) => void): string => {
  const a = structuredClone(addrJson);
  edit(a);
  return JSON.stringify(a);
};
const lanPcap = new Uint8Array(readFileSync(base.lan));

const CASES: Case[] = [
  // ---- captures ----
  {
    name: "capture: empty",
    args: { lan: file("e.pcap", "") },
    message: /\/e\.pcap: byte 0: empty file, not a capture$/,
  },
  {
    name: "capture: a text file",
    args: { lan: file("t.pcap", `not a capture${EOL}`) },
    message: /\/t\.pcap: byte 0: not a pcap or pcapng file \(magic 0x6e6f7420\)$/,
  },
  {
    name: "capture: pcap header cut short",
    args: { lan: file("h.pcap", pcapHeader().subarray(0, 20)) },
    message: /\/h\.pcap: byte 0: truncated pcap file header: 20 of 24 bytes$/,
  },
  {
    name: "capture: archaic pcap version",
    args: { lan: file("v.pcap", pcapHeader({ major: 1, minor: 0 })) },
    message: /\/v\.pcap: byte 4: archaic pcap savefile format \(version 1\.0\)$/,
  },
  {
    name: "capture: a record claiming 4 GiB",
    args: { lan: file("c.pcap", Buffer.concat([lanPcap, pcapRecord(0xffffffff, 0)])) },
    message: /\/c\.pcap: byte \d+: invalid packet capture length 4294967295, bigger than snaplen of 262144$/,
  },
  {
    name: "capture: an unsupported link type (pcap)",
    args: { lan: file("w.pcap", pcapHeader({ linkType: 105 })) },
    message:
      /\/w\.pcap: unsupported link type 105 \(IEEE802_11\); ctnat reads Ethernet, raw IP, Linux cooked and BSD loopback captures$/,
  },
  {
    name: "capture: an unsupported link type (pcapng: refused at its first packet, as pcap is at open)",
    args: { lan: file("u.pcapng", Buffer.concat([shb(), idb({ linkType: 147 }), epb()])) },
    message:
      /\/u\.pcapng: byte 48: unsupported link type 147 \(LINKTYPE_147\) on interface 0; ctnat reads Ethernet, raw IP, Linux cooked and BSD loopback captures$/,
  },
  {
    name: "capture: pcapng byte-order magic wrong",
    args: { lan: file("m.pcapng", shb({ magic: 0x01020304 })) },
    message: /\/m\.pcapng: byte 8: not a pcapng file: bad byte-order magic 0x04030201$/,
  },
  {
    name: "capture: pcapng block length lies (trailer)",
    args: { lan: file("l.pcapng", Buffer.concat([shb(), block(1, new Uint8Array(8), { trailer: 40 })])) },
    message: /\/l\.pcapng: byte 44: block total length in header 20 and trailer 40 don't match$/,
  },
  {
    name: "capture: pcapng zero-length block",
    args: { lan: file("z.pcapng", Buffer.concat([shb(), block(6, new Uint8Array(0), { len: 0 })])) },
    message: /\/z\.pcapng: byte 32: block of type 6 has a length of 0 < 12$/,
  },
  {
    name: "capture: pcapng packet on an undescribed interface",
    args: { lan: file("i.pcapng", Buffer.concat([shb(), idb(), epb({ ifid: 3 })])) },
    message:
      /\/i\.pcapng: byte 56: a packet arrived on interface 3, but there's no Interface Description Block for that interface$/,
  },
  {
    name: "capture: a directory",
    args: { lan: tmp },
    message: /: cannot read capture: it is a directory$/,
  },
  // ---- rulesets ----
  {
    name: "rules: unknown table",
    args: { rules: file("r", "*filer\nCOMMIT\n") },
    message: /\/r:1:2: table 'filer' does not exist$/,
  },
  {
    name: "rules: no COMMIT",
    args: { rules: file("r", `${RULES_HEAD}-A INPUT -j ACCEPT\n`) },
    message: /\/r:6:1: COMMIT expected for table 'filter' opened at line 1$/,
  },
  {
    name: "rules: rule outside a table",
    args: { rules: file("r", "-A INPUT -j ACCEPT\n") },
    message: /\/r:1:1: rule or chain outside a table \(missing '\*table' line\)$/,
  },
  {
    name: "rules: bad policy",
    args: { rules: file("r", "*filter\n:INPUT REJECT [0:0]\nCOMMIT\n") },
    message: /\/r:2:8: bad policy 'REJECT' for built-in chain INPUT \(ACCEPT or DROP\)$/,
  },
  {
    name: "rules: bad counters",
    args: { rules: file("r", ruleset("[1:x] -A INPUT -j ACCEPT\n")) },
    message: /\/r:5:1: bad counters: expected \[packets:bytes\]$/,
  },
  {
    name: "rules: unknown option",
    args: { rules: file("r", ruleset("-A INPUT --frob -j ACCEPT\n")) },
    message: /\/r:5:\d+: unknown option '--frob'$/,
  },
  {
    name: "rules: a target ctnat does not implement",
    args: { rules: file("r", ruleset("-A FORWARD -p tcp -j TPROXY --on-port 3129\n")) },
    message: /\/r:5:22: target 'TPROXY' is not implemented by ctnat$/,
  },
  {
    name: "rules: a bad address",
    args: { rules: file("r", ruleset("-A INPUT -s 10.0.0.300 -j DROP\n")) },
    message: /\/r:5:\d+: .*10\.0\.0\.300/,
  },
  {
    name: "rules: a jump to a missing chain",
    args: { rules: file("r", ruleset("-A INPUT -j NOPE\n")) },
    message: /\/r:5:\d+: chain 'NOPE' does not exist$/,
  },
  {
    name: "rules: a loop",
    args: {
      rules: file(
        "r",
        "*filter\n:INPUT ACCEPT [0:0]\n:A - [0:0]\n:B - [0:0]\n-A INPUT -j A\n-A A -j B\n-A B -j A\nCOMMIT\n",
      ),
    },
    message: /\/r:7:9: jump to 'A' makes a loop \(chain loops are not allowed\)$/,
  },
  {
    name: "rules: jumps nested 17 deep",
    args: {
      rules: file(
        "r",
        `*filter\n:INPUT ACCEPT [0:0]\n${Array.from({ length: 17 }, (_, i) => `:C${i} - [0:0]\n`).join("")}-A INPUT -j C0\n${Array.from({ length: 16 }, (_, i) => `-A C${i} -j C${i + 1}\n`).join("")}COMMIT\n`,
      ),
    },
    message: /\/r:\d+:\d+: jumps nest deeper than 16 chains from INPUT$/,
  },
  {
    name: "rules6: an IPv4 address in the IPv6 ruleset",
    args: { extra: ["--rules6", file("r6", ruleset("-A INPUT -s 10.0.0.1 -j DROP\n"))] },
    message: /\/r6:5:\d+: .*10\.0\.0\.1/,
  },
  // ---- sysctl ----
  {
    name: "sysctl: a line without '='",
    args: { sysctl: file("s", "net.ipv4.ip_forward 1\n") },
    message: /\/s:1:1: expected "key = value", found "net\.ipv4\.ip_forward 1"$/,
  },
  {
    name: "sysctl: nf_conntrack_max a word",
    args: { sysctl: file("s", "net.ipv4.ip_forward = 1\nnet.netfilter.nf_conntrack_max = lots\n") },
    message: /\/s:2:34: net\.netfilter\.nf_conntrack_max: expected an integer, found "lots"$/,
  },
  { name: "sysctl: a directory", args: { sysctl: tmp }, message: /: cannot read sysctl file: EISDIR$/ },
  // ---- ip -j addr / route ----
  {
    name: "addr: invalid JSON",
    args: { addr: file("a.json", '[{"ifname": "lan0",]') },
    message: /\/a\.json:1:\d+: invalid JSON: /,
  },
  {
    name: "addr: an interface index twice",
    args: {
      addr: file(
        "a.json",
        edited((a) => (a[2]!.ifindex = 2)),
      ),
    },
    message: /\/a\.json: \[2\]\.ifindex: interface index 2 listed twice \(expected `ip -j addr` output\)$/,
  },
  {
    name: "addr: a prefix length of 40",
    args: {
      addr: file(
        "a.json",
        edited((a) => ((a[1]!.addr_info as Record<string, unknown>[])[0]!.prefixlen = 40)),
      ),
    },
    message:
      /\/a\.json: \[1\]\.addr_info\[0\]\.prefixlen: prefix length 40 out of range \(expected `ip -j addr` output\)$/,
  },
  {
    name: "addr: an address of the wrong family",
    args: {
      addr: file(
        "a.json",
        edited((a) => ((a[1]!.addr_info as Record<string, unknown>[])[0]!.local = "fd00::1")),
      ),
    },
    message:
      /\/a\.json: \[1\]\.addr_info\[0\]\.local: expected an IPv4 address, found fd00::1 \(expected `ip -j addr` output\)$/,
  },
  {
    name: "addr: missing",
    args: { addr: join(tmp, "none.json") },
    message: /\/none\.json: cannot read interfaces: ENOENT$/,
  },
  {
    name: "addr: an interface name with a newline, twice (the message stays one line)",
    args: {
      addr: file(
        "a.json",
        edited((a) => {
          a[1]!.ifname = "lan\n0";
          a[2]!.ifname = "lan\n0";
        }),
      ),
    },
    message: /\/a\.json: \[2\]\.ifname: interface lan\\n0 listed twice \(expected `ip -j addr` output\)$/,
  },
  {
    name: "route: multipath",
    args: { route: file("r.json", JSON.stringify([{ dst: "default", nexthops: [{ gateway: "10.77.2.2" }] }])) },
    message: /\/r\.json: \[0\]\.nexthops: multipath routes are not supported \(expected `ip -j route` output\)$/,
  },
  {
    name: "route: out of an interface the gateway does not have",
    args: { route: file("r.json", JSON.stringify([{ dst: "default", gateway: "10.77.2.2", dev: "eth9" }])) },
    message: /\/r\.json: \[0\]\.dev: no interface eth9 in .*addr\.json \(has lo, lan0, wan0\)$/,
  },
  {
    name: "route6: an IPv4 gateway",
    args: { route6: file("r6.json", JSON.stringify([{ dst: "default", gateway: "10.77.2.2", dev: "wan0" }])) },
    message:
      /\/r6\.json: \[0\]\.gateway: expected an IPv6 address, found 10\.77\.2\.2 \(expected `ip -j -6 route` output\)$/,
  },
  // ---- outputs ----
  {
    name: "out: a file",
    args: { extra: ["--out", "/dev/null"] },
    message: /^\/dev\/null: cannot create the output directory: EEXIST$/,
  },
  {
    name: "out: under a file",
    args: { extra: ["--out", "/dev/null/x"] },
    message: /^\/dev\/null\/x: cannot create the output directory: ENOTDIR$/,
  },
  {
    name: "out: in /proc (Node's recursive mkdir would loop forever)",
    args: { extra: ["--out", "/proc/ctnat-out"] },
    message: /^\/proc\/ctnat-out: cannot create the output directory: ENOENT$/,
  },
  {
    name: "pcapng: its directory missing",
    args: { extra: ["--pcapng", join(tmp, "no/such/all.pcapng")] },
    message: /\/no\/such\/all\.pcapng: cannot write output: ENOENT$/,
  },
  {
    name: "pcapng: a directory in its place",
    args: { extra: ["--pcapng", tmp] },
    message: /: cannot write output: a directory is in its place$/,
  },
];

test("bad input through ctnat replay: one line naming the place, exit 2, no stack trace, no output", async () => {
  const cmds = CASES.map((c, i) => {
    const a = { ...base, ...c.args };
    const hasOut = a.extra?.includes("--out") ?? false;
    return [
      "replay",
      "--rules",
      a.rules,
      "--addr",
      a.addr,
      "--route",
      a.route,
      "--route6",
      a.route6,
      "--sysctl",
      a.sysctl,
      "--in",
      `lan0=${a.lan}`,
      ...(hasOut ? [] : ["--out", join(tmp, `out${i}`)]),
      ...(a.extra ?? []),
    ];
  });
  const results = await runAll(cmds);
  const failures: string[] = [];
  CASES.forEach((c, i) => {
    const r = results[i]!;
    const lines = r.stderr.split("\n").filter((l) => l !== "");
    const problems: string[] = [];
    if (r.status !== 2) problems.push(`exit ${r.status}`);
    if (lines.length !== 1) problems.push(`${lines.length} lines on stderr`);
    if (/\n\s+at /.test(r.stderr)) problems.push("a stack trace");
    const line = lines[0] ?? "";
    if (!line.startsWith("ctnat: ") || !c.message.test(line.slice(7)))
      problems.push(`message ${JSON.stringify(line)} does not match ${c.message}`);
    const out = join(tmp, `out${i}`);
    if (existsSync(out) && readdirSync(out).some((n) => !n.startsWith(".")))
      problems.push(`outputs written: ${readdirSync(out).join(", ")}`);
    if (problems.length > 0)
      failures.push(
        `${c.name}: ${problems.join("; ")}\n  stderr: ${r.stderr.trim().split("\n").slice(0, 3).join("\n  ")}`,
      );
  });
  assert.deepEqual(failures, [], failures.join("\n"));
});

test("a capture cut inside its last record: replayed up to it, the cut reported as a warning, exit 0", async () => {
  const cut = file("cut.pcap", lanPcap.subarray(0, lanPcap.length - 10));
  const out = join(tmp, "cut-out");
  const [r] = await runAll([
    [
      "replay",
      "--rules",
      base.rules,
      "--addr",
      base.addr,
      "--route",
      base.route,
      "--in",
      `lan0=${cut}`,
      "--out",
      out,
      "--summary",
    ],
  ]);
  assert.equal(r!.status, 0, r!.stderr);
  assert.match(
    r!.stderr,
    /^ctnat: warning: .*\/cut\.pcap: byte \d+: truncated last record: \d+ of \d+ bytes present\n$/,
  );
  assert.match(r!.stdout, /^ {2}lan0 +23 /m, "the 23 whole records of 24 were replayed");
  assert.deepEqual(readdirSync(out).sort(), [
    "conntrack.txt",
    "counters.v4",
    "counters.v6",
    "lan0.pcap",
    "local.pcap",
    "wan0.pcap",
  ]);
});
