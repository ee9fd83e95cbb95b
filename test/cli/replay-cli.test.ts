/**
 * `ctnat replay` as a command: outputs, exit status 2 with a one-line message for every kind of bad
 * input, nothing half-written left behind, and the tracing outputs.
 */
import assert from "node:assert/strict";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, test } from "node:test";
import { CaptureFileReader } from "../../src/io/capture-file.js";
import { ctnat, REPO, scenarioArgs } from "./run.js";

const FIX = join(REPO, "test/fixtures/kernel/masq-tcp");
const tmp = mkdtempSync(join(tmpdir(), "ctnat-cli-"));
after(() => rmSync(tmp, { recursive: true, force: true }));

function oneLineError(r: { status: number; stderr: string; stdout: string }, pattern: RegExp): void {
  assert.equal(r.status, 2, `exit status (stderr: ${r.stderr})`);
  const lines = r.stderr.trim().split("\n");
  assert.equal(lines.length, 1, `one line on stderr, got: ${r.stderr}`);
  assert.match(lines[0], pattern);
  assert.doesNotMatch(r.stderr, /\n\s+at /, "no stack trace");
}

test("replay writes every contract output", () => {
  const out = join(tmp, "ok");
  const r = ctnat(["replay", ...scenarioArgs(FIX), "--out", out]);
  assert.equal(r.status, 0, r.stderr);
  assert.deepEqual(readdirSync(out).sort(), [
    "conntrack.txt",
    "counters.v4",
    "counters.v6",
    "lan0.pcap",
    "local.pcap",
    "wan0.pcap",
  ]);
  assert.match(readFileSync(join(out, "conntrack.txt"), "utf8"), /^tcp {6}6 \d+ TIME_WAIT src=10\.77\.1\.2 /m);
  assert.match(readFileSync(join(out, "counters.v4"), "utf8"), /^\[5:300\] -A POSTROUTING -o wan0 -j MASQUERADE$/m);
  assert.equal(readFileSync(join(out, "counters.v6"), "utf8"), "");
});

test("--summary prints interfaces, the connection table and the rules that counted", () => {
  const r = ctnat(["replay", ...scenarioArgs(FIX), "--out", join(tmp, "sum"), "--summary"]);
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /^Interfaces$/m);
  assert.match(r.stdout, /^ {2}lan0 +24 +2423 +18 +1331$/m);
  assert.match(r.stdout, /^Connection table at .* \(5 entries, conntrack -L format\)$/m);
  assert.match(r.stdout, /ip {2}nat {5}\[5:300\] -A POSTROUTING -o wan0 -j MASQUERADE/);
});

test("--trace text and json, --pcapng with the traces as comments", () => {
  const out = join(tmp, "trace");
  let r = ctnat(["replay", ...scenarioArgs(FIX), "--out", out, "--trace", "--pcapng", join(out, "all.pcapng")]);
  assert.equal(r.status, 0, r.stderr);
  const text = readFileSync(join(out, "trace.txt"), "utf8");
  assert.match(text, /^#1 \d+\.\d{6} in lan0: IP 10\.77\.1\.2\.40001 > 10\.77\.2\.2\.8000: Flags \[S\]/m);
  assert.match(text, /nat POSTROUTING rule 1 \(line \d+\): -A POSTROUTING -o wan0 -j MASQUERADE/);
  assert.match(text, /=> forwarded out wan0: IP 10\.77\.2\.1\.40001 > 10\.77\.2\.2\.8000/);
  // every input packet has a trace
  assert.equal(text.split("\n").filter((l) => /^#\d+ .* in (lan0|wan0):/.test(l)).length, 42);
  const f = CaptureFileReader.open(join(out, "all.pcapng"));
  const names = new Set<string>();
  let comments = 0;
  let n = 0;
  for (let rec = f.next(); rec !== null; rec = f.next()) {
    n++;
    names.add(rec.interfaceName);
    if (rec.comment.includes("conntrack:")) comments++;
  }
  f.close();
  assert.equal(n, 84, "42 packets in and 42 out");
  assert.deepEqual([...names].sort(), ["lan0", "wan0"]);
  assert.equal(comments, 42);
  r = ctnat(["replay", ...scenarioArgs(FIX), "--out", join(tmp, "tj"), "--trace", "json"]);
  assert.equal(r.status, 0, r.stderr);
  const first = JSON.parse(readFileSync(join(tmp, "tj/trace.jsonl"), "utf8").split("\n")[0]);
  assert.equal(first.iface, "lan0");
  assert.equal(first.fate, "forwarded");
  assert.ok(
    first.steps.some((s: { kind: string; text?: string }) => s.kind === "rule" && s.text?.includes("MASQUERADE")),
  );
});

test("bad input: one line, exit 2, and no output files", () => {
  const bad = join(tmp, "bad");
  const notCapture = join(tmp, "not-a-capture.pcap");
  writeFileSync(notCapture, "hello, this is not a capture file at all\n");
  const badRules = join(tmp, "bad.rules");
  writeFileSync(badRules, "*filter\n:INPUT ACCEPT [0:0]\n-A INPUT -m frobnicate --x 1 -j ACCEPT\nCOMMIT\n");
  const badJson = join(tmp, "addr.json");
  writeFileSync(badJson, '[{"ifindex": 2, "ifname": "lan0",}]');
  const args = scenarioArgs(FIX);
  const cases: [string[], RegExp][] = [
    [["replay", ...args], /--out DIR is required/],
    [["replay", "--out", bad], /at least one --in IFACE=FILE is required/],
    [["replay", ...args, "--out", bad, "--frobnicate"], /unknown option '--frobnicate'/],
    [
      ["replay", ...args, "--out", bad, "--in", "eth9=x.pcap"],
      /--in eth9: no interface eth9 in .*addr\.json \(has lo, lan0, wan0\)/,
    ],
    [["replay", ...args, "--out", bad, "--in", "lan0"], /--in: expected IFACE=FILE, found "lan0"/],
    [["replay", ...args, "--out", bad, "--in", `lan0=${join(tmp, "missing.pcap")}`], /missing\.pcap: no such file/],
    [["replay", ...args, "--out", bad, "--in", `lan0=${notCapture}`], /not-a-capture\.pcap: byte 0: /],
    [["replay", ...args, "--out", bad, "--rules", badRules], /bad\.rules:3:\d+: .*frobnicate/],
    [["replay", ...args, "--out", bad, "--addr", badJson], /addr\.json:1:\d+: invalid JSON/],
    [["replay", ...args, "--out", bad, "--at", "soon"], /--at: expected unix seconds, found "soon"/],
    [["replay", ...args, "--out", bad, "--seed", "-1"], /--seed: expected a non-negative integer/],
    [
      ["replay", ...args, "--out", bad, "--rules", join(tmp, "nope.rules")],
      /nope\.rules: cannot read IPv4 ruleset: ENOENT/,
    ],
  ];
  for (const [argv, pattern] of cases) oneLineError(ctnat(argv), pattern);
  assert.ok(!existsSync(bad) || readdirSync(bad).filter((n) => !n.startsWith(".")).length === 0, "nothing written");
});
