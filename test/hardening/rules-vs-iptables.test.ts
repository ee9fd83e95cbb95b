/**
 * Rulesets the loader judged differently from iptables-restore 1.8.9 (nf_tables), found by running
 * mutated rules through both (the kernel oracle: a private network namespace, iptables-restore, then
 * iptables-save). Each case gives the text and what iptables did with it: refused with a message, or
 * loaded and printed back by iptables-save.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { loadRuleset } from "../../src/rules/ruleset.js";

const FILTER = (rule: string): string =>
  `*filter\n:INPUT ACCEPT [0:0]\n:FORWARD ACCEPT [0:0]\n:OUTPUT ACCEPT [0:0]\n${rule}\nCOMMIT\n`;
const MANGLE = (rule: string): string => `*mangle\n:PREROUTING ACCEPT [0:0]\n${rule}\nCOMMIT\n`;

/** the rule lines of a loaded ruleset as iptables-save prints them (counters left out) */
function saved(text: string): string[] {
  return loadRuleset(text, { file: "f", family: 4 })
    .save()
    .split("\n")
    .filter((l) => l.includes("-A "))
    .map((l) => l.replace(/^\[\d+:\d+\] /, ""));
}

test("tcp: a reversed port range is refused, as libxt_tcp refuses it (udp keeps it)", () => {
  for (const opt of ["--dport 80:70", "--sport 80:70"]) {
    assert.throws(
      () => loadRuleset(FILTER(`-A INPUT -p tcp ${opt} -j ACCEPT`), { file: "f", family: 4 }),
      /^RulesetError: f:5:\d+: invalid portrange \(min > max\)$/,
    );
  }
  // iptables-restore: "invalid portrange (min > max)"; for udp it loads and prints back
  assert.deepEqual(saved(FILTER("-A INPUT -p udp --dport 80:70 -j ACCEPT")), [
    "-A INPUT -p udp -m udp --dport 80:70 -j ACCEPT",
  ]);
  assert.deepEqual(saved(FILTER("-A INPUT -p tcp --dport 80: -j ACCEPT")), [
    "-A INPUT -p tcp -m tcp --dport 80:65535 -j ACCEPT",
  ]);
});

test("conntrack and length: reversed ranges and `! --ctproto 0` load and print back, as iptables takes them", () => {
  // iptables-save printed exactly these after iptables-restore of the same lines
  const lines = [
    "-A INPUT -m conntrack ! --ctproto 0 -j ACCEPT",
    "-A INPUT -m conntrack --ctorigsrcport 5:1 -j ACCEPT",
    "-A INPUT -m conntrack --ctexpire 10:5 -j ACCEPT",
    "-A INPUT -m length --length 10:5 -j ACCEPT",
  ];
  assert.deepEqual(saved(FILTER(lines.join("\n"))), lines);
});

test("CONNMARK: --mask, --ctmask and --nfmask with a set operation apply in order, as libxt_CONNMARK", () => {
  // option order -> what iptables-save printed
  const cases: [string, string][] = [
    ["--set-mark 1 --mask 1", "--set-xmark 0x1/0x1"],
    ["--mask 1 --set-mark 1", "--set-xmark 0x1/0xffffffff"],
    ["--set-mark 1 --ctmask 2", "--set-xmark 0x1/0x2"],
    ["--set-mark 1 --nfmask 2", "--set-xmark 0x1/0xffffffff"],
    ["--set-xmark 5/7 --mask 3", "--set-xmark 0x5/0x3"],
    ["--or-mark 4 --ctmask 8", "--set-xmark 0x4/0x8"],
  ];
  for (const [opts, out] of cases) {
    assert.deepEqual(saved(MANGLE(`-A PREROUTING -j CONNMARK ${opts}`)), [`-A PREROUTING -j CONNMARK ${out}`], opts);
  }
});

test("recent: every option at most once, as iptables-restore 1.8.9 refuses a second one", () => {
  // iptables: 'recent: option "--mask" can only be used once.' (the same for --rsource, --set, ...)
  for (const [rule, opt] of [
    ["-A INPUT -m recent --set --mask 255.255.255.0 --rsource --mask 255.255.0.0", "mask"],
    ["-A INPUT -m recent --set --rsource --rsource", "rsource"],
    ["-A INPUT -m recent --set --set", "set"],
    ["-A INPUT -m recent --rcheck --seconds 5 --seconds 6", "seconds"],
  ] as const) {
    assert.throws(
      () => loadRuleset(FILTER(rule), { file: "f", family: 4 }),
      new RegExp(`^RulesetError: f:5:\\d+: recent: option "--${opt}" can only be used once\\.$`),
      rule,
    );
  }
});
