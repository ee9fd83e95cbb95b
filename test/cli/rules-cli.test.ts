/** `ctnat rules check|save|list`: load-time checks and iptables' own output formats, from the command line. */
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, test } from "node:test";
import { ctnat, REPO } from "./run.js";

const tmp = mkdtempSync(join(tmpdir(), "ctnat-rules-cli-"));
after(() => rmSync(tmp, { recursive: true, force: true }));

test("check reports what was loaded; save prints iptables-save's text back", () => {
  const real = join(REPO, "test/fixtures/rulesets/real/docker-host.loadable");
  const r = ctnat(["rules", "check", "--rules", real]);
  assert.equal(r.status, 0, r.stderr);
  assert.match(
    r.stdout,
    /docker-host\.loadable: ok \(\d+ rules: nat \d+ chains \d+ rules, filter \d+ chains \d+ rules\)/,
  );
  const s = ctnat(["rules", "save", "--rules", join(REPO, "test/fixtures/rulesets/real/docker-host.save"), "-c"]);
  assert.equal(s.status, 0, s.stderr);
  const kernel = readFileSync(join(REPO, "test/fixtures/rulesets/real/docker-host.save"), "utf8")
    .split("\n")
    .filter((l) => !l.startsWith("#"))
    .join("\n");
  assert.equal(s.stdout, kernel);
});

test("list prints iptables -L -v -n -x of a table", () => {
  const r = ctnat([
    "rules",
    "list",
    "--rules",
    join(REPO, "examples/home-router/rules.v4"),
    "-t",
    "nat",
    "--line-numbers",
  ]);
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /^Chain POSTROUTING \(policy ACCEPT 0 packets, 0 bytes\)$/m);
  assert.match(r.stdout, /^1 +0 +0 MASQUERADE +0 +-- +\* +wan0 +0\.0\.0\.0\/0 +0\.0\.0\.0\/0 *$/m);
});

test("errors: one line with file, line and column, exit 2", () => {
  const bad = join(tmp, "gen.rules");
  writeFileSync(bad, "*filter\n:INPUT ACCEPT [0:0]\n-A INPUT -p tcp --dport 22 -j ACCEPT\n-A INPUT -j NOPE\nCOMMIT\n");
  for (const cmd of ["check", "save", "list"]) {
    const r = ctnat(["rules", cmd, "--rules", bad]);
    assert.equal(r.status, 2);
    assert.equal(r.stderr.trim(), `ctnat: ${bad}:4:13: chain 'NOPE' does not exist`);
  }
  const none = ctnat(["rules", "check"]);
  assert.equal(none.status, 2);
  assert.match(none.stderr, /give --rules FILE and\/or --rules6 FILE/);
  const t = ctnat(["rules", "list", "--rules", join(REPO, "examples/home-router/rules.v4"), "-t", "mangel"]);
  assert.equal(t.status, 2);
  assert.match(t.stderr, /-t: no table "mangel"/);
});
