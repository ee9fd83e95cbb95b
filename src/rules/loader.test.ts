/**
 * Loader errors: one test per error class, with the exact line and column reported, and the lexer's
 * word splitting as iptables-restore does it.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { isRulesetError, isUnsupportedError, loadRuleset, type RulesetError } from "./index.js";
import { tokenizeLine } from "./lexer.js";

const H = "*filter\n:INPUT ACCEPT [0:0]\n:FORWARD ACCEPT [0:0]\n:OUTPUT ACCEPT [0:0]\n";

function errOf(text: string, family = 4): RulesetError {
  try {
    loadRuleset(text, { file: "f.rules", family });
  } catch (e) {
    assert.ok(isRulesetError(e), String(e));
    assert.ok(!e.message.includes("\n"), "one-line message");
    return e;
  }
  assert.fail("expected a RulesetError");
}

const CASES: [string, string, number, number, RegExp][] = [
  // name, text, line, column, message
  ["table does not exist", "*frob\nCOMMIT\n", 1, 2, /table 'frob' does not exist/],
  ["missing COMMIT", `${H}-A INPUT -j ACCEPT\n`, 6, 1, /COMMIT expected/],
  ["rule outside a table", "-A INPUT -j ACCEPT\n", 1, 1, /outside a table/],
  ["bad policy", "*filter\n:INPUT REJECT [0:0]\nCOMMIT\n", 2, 8, /bad policy 'REJECT'/],
  ["bad counters", `${H}[1:x] -A INPUT\nCOMMIT\n`, 5, 1, /bad counters/],
  ["unknown chain in -A", `${H}-A NOPE -j ACCEPT\nCOMMIT\n`, 5, 4, /chain 'NOPE' does not exist/],
  ["unknown jump target", `${H}-A INPUT -p tcp -j NOPE\nCOMMIT\n`, 5, 20, /chain 'NOPE' does not exist/],
  ["chain loop", `${H}:A - [0:0]\n:B - [0:0]\n-A INPUT -j A\n-A A -j B\n-A B -j A\nCOMMIT\n`, 9, 9, /loop/],
  ["unknown option", `${H}-A INPUT -p tcp --dprt 80 -j ACCEPT\nCOMMIT\n`, 5, 17, /unknown option '--dprt'/],
  ["option needs -p", `${H}-A INPUT --dport 80 -j ACCEPT\nCOMMIT\n`, 5, 10, /needs -p/],
  ["bad address", `${H}-A INPUT -s 300.1.1.1 -j ACCEPT\nCOMMIT\n`, 5, 13, /300\.1\.1\.1/],
  ["bad port", `${H}-A INPUT -p udp --sport 99999 -j ACCEPT\nCOMMIT\n`, 5, 25, /99999/],
  ["unknown match", `${H}-A INPUT -m frob -j ACCEPT\nCOMMIT\n`, 5, 13, /couldn't load match 'frob'/],
  ["negation that cannot be", `${H}-A INPUT -m limit ! --limit 1/s -j ACCEPT\nCOMMIT\n`, 5, 21, /cannot be inverted/],
  ["double negation", `${H}-A INPUT ! ! -s 1.1.1.1 -j ACCEPT\nCOMMIT\n`, 5, 12, /multiple '!'/],
  ["target in the wrong table", `${H}-A INPUT -j MASQUERADE\nCOMMIT\n`, 5, 13, /only valid in the nat table/],
  [
    "target at the wrong hook through a user chain",
    "*nat\n:PREROUTING ACCEPT [0:0]\n:POSTROUTING ACCEPT [0:0]\n:X - [0:0]\n-A PREROUTING -j X\n-A X -j MASQUERADE\nCOMMIT\n",
    6,
    9,
    /MASQUERADE target: only valid in POSTROUTING, but reached from PREROUTING/,
  ],
  ["-o in INPUT", `${H}-A INPUT -o eth0 -j ACCEPT\nCOMMIT\n`, 5, 1, /can't use -o with INPUT/],
  ["tcp-reset without -p tcp", `${H}-A INPUT -j REJECT --reject-with tcp-reset\nCOMMIT\n`, 5, 13, /TCP_RESET/],
  ["missing mandatory option", `${H}-A INPUT -m comment -j ACCEPT\nCOMMIT\n`, 5, 13, /--comment" must be specified/],
  ["stray word", `${H}-A INPUT -j ACCEPT foo\nCOMMIT\n`, 5, 20, /bad argument 'foo'/],
];

for (const [name, text, line, col, msg] of CASES) {
  test(`loader error: ${name} at ${line}:${col}`, () => {
    const e = errOf(text);
    assert.equal(e.file, "f.rules");
    assert.equal(e.line, line, e.message);
    assert.equal(e.column, col, e.message);
    assert.match(e.reason, msg);
    assert.equal(e.message, `f.rules:${line}:${col}: ${e.reason}`);
  });
}

test("loader error: nesting deeper than nf_tables allows", () => {
  const lines = [H.trimEnd()];
  for (let i = 1; i <= 16; i++) lines.push(`:C${i} - [0:0]`);
  lines.push("-A INPUT -j C1");
  for (let i = 1; i < 16; i++) lines.push(`-A C${i} -j C${i + 1}`);
  lines.push("COMMIT");
  const e = errOf(lines.join("\n"));
  assert.match(e.reason, /nest deeper than 16/);
  assert.equal(e.line, 4 + 16 + 1 + 15); // the jump from C15 to C16, as the kernel reports it
});

test("unsupported extensions are named, never ignored", () => {
  for (const [rule, feature] of [
    ["-A INPUT -m string --string x --algo bm -j ACCEPT", "string"],
    ["-A INPUT -m physdev --physdev-in eth0 -j ACCEPT", "physdev"],
    ["-A INPUT -m u32 --u32 0>>22&0x3C@4=0x29 -j DROP", "u32"],
    ["-A INPUT -j NFQUEUE --queue-num 1", "NFQUEUE"],
    ["-A INPUT -j QUEUE", "QUEUE"],
  ] as const) {
    const e = errOf(`${H}${rule}\nCOMMIT\n`);
    assert.ok(isUnsupportedError(e), e.message);
    assert.equal(e.feature, feature);
    assert.match(e.message, new RegExp(`'${feature}' is not implemented by ctnat`));
  }
  const raw = "*raw\n:PREROUTING ACCEPT [0:0]\n-A PREROUTING -j CT --helper ftp\nCOMMIT\n";
  const e = errOf(raw);
  assert.ok(isUnsupportedError(e));
  assert.equal(e.feature, "CT --helper");
});

test("lexer: words as iptables-restore splits them", () => {
  const words = (s: string): string[] => tokenizeLine(s).map((t) => t.text);
  assert.deepEqual(words('-m comment --comment "a b \\"c\\" \\\\ d"'), ["-m", "comment", "--comment", 'a b "c" \\ d']);
  assert.deepEqual(words('--comment ""'), ["--comment", ""]);
  assert.deepEqual(words('x"ab"cd'), ["xab", "cd"]);
  assert.deepEqual(words("it's\t two"), ["it's", "two"]);
  assert.deepEqual(words('"unterminated quote'), ["unterminated quote"]);
  assert.deepEqual(
    tokenizeLine("-A  INPUT").map((t) => t.column),
    [1, 5],
  );
});

test("options: abbreviations, --opt=value, '!' after an option is its argument (iptables 1.8.9), implicit protocol match", () => {
  const rs = loadRuleset(
    `${H}-A INPUT --proto tcp --dport=80 ! --sport 1024 -j ACCEPT\n-A INPUT -p udp -m comment --comment c --dport 53 -j ACCEPT\nCOMMIT\n`,
  );
  const save = rs.save();
  assert.match(save, /-A INPUT -p tcp -m tcp ! --sport 1024 --dport 80 -j ACCEPT/);
  // the implicit match is loaded where its option appears
  assert.match(save, /-A INPUT -p udp -m comment --comment c -m udp --dport 53 -j ACCEPT/);
  const amb = errOf(`${H}-A INPUT --s 1.1.1.1 -j ACCEPT\nCOMMIT\n`);
  assert.match(amb.reason, /ambiguous/);
  // the old intrapositioned form is gone: iptables-restore 1.8.9 says exactly these
  assert.equal(
    errOf(`${H}-A INPUT -p tcp --sport ! 1024 -j ACCEPT\nCOMMIT\n`).reason,
    "invalid port/service `!' specified",
  );
  assert.equal(errOf(`${H}-A INPUT -i ! eth0 -j ACCEPT\nCOMMIT\n`).reason, "bad argument 'eth0'");
  // "-i !" names an interface "!", as iptables-save prints it back
  assert.match(
    loadRuleset(`${H}-A FORWARD -i ! ! -o lo -j ACCEPT\nCOMMIT\n`).save(),
    /-A FORWARD -i ! ! -o lo -j ACCEPT/,
  );
});

test("counters are kept only when asked, and -c sets them", () => {
  const text = `${H.replace("[0:0]", "[3:300]")}[5:500] -A INPUT -j ACCEPT\n-A INPUT -c 7 700 -j DROP\nCOMMIT\n`;
  assert.match(
    loadRuleset(text).save(),
    /:INPUT ACCEPT \[3:300\]\n.*\n.*\n\[5:500\] -A INPUT -j ACCEPT\n\[7:700\] -A INPUT -j DROP/,
  );
  const zero = loadRuleset(text, { counters: false }).save();
  assert.match(zero, /:INPUT ACCEPT \[0:0\]/);
  assert.match(zero, /\[0:0\] -A INPUT -j ACCEPT/);
  assert.match(loadRuleset(text).save({ counters: false }), /\n-A INPUT -j ACCEPT\n/);
});

test("save comments: # Generated / # Completed lines when a date is given", () => {
  const out = loadRuleset(`${H}COMMIT\n`).save({ date: "Wed Nov 25 10:00:00 2026" });
  assert.match(out, /^# Generated by iptables-save v1\.8\.9 \(nf_tables\) on Wed Nov 25 10:00:00 2026\n\*filter\n/);
  assert.match(out, /COMMIT\n# Completed on Wed Nov 25 10:00:00 2026\n$/);
});
