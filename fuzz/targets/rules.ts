/**
 * Fuzz target "rules": random and mutated iptables-save texts through the loader, and what loads through
 * a gateway.
 *
 * Sources: the real dumps (test/fixtures/rulesets/real), the iptables oracle's inputs (oracle/cases and
 * oracle/bad) and every kernel recording's rules.v4 / rules.v6. Mutations work on lines (delete,
 * duplicate, swap, splice a line of another dump), on words (replace with a word of any dump or an odd
 * one, delete, insert), on characters (insert arbitrary text, flip bytes, cut the text short); some cases
 * are generated outright (random rule lines from the dictionary; chain graphs: long, deep, looping, dense).
 *
 * Contract checked for every case:
 * - loading either succeeds or throws an InputError subclass whose message is one line,
 *   `FILE:LINE:COLUMN: reason`, with LINE inside the text and COLUMN inside that line (or just past it);
 * - a ruleset that loads saves (`iptables-save -c` and without counters) and lists without throwing, and
 *   its save output loads again, to the same save output (unless an argument other than a comment or log
 *   prefix was written with quotes or backslashes: iptables-save prints it raw, and iptables-restore
 *   1.8.9 cannot read its own output then either), with no NaN or undefined in it;
 * - a gateway built with it takes the good flow and a fixed set of hostile packets without an exception,
 *   each packet counted.
 */
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import fc from "fast-check";
import { isInputError } from "../../src/core/errors.js";
import { loadRuleset } from "../../src/rules/ruleset.js";
import { TABLE_NAMES } from "../../src/rules/tables.js";
import {
  buildFuzzGateway,
  FUZZ_START,
  fateTotal,
  GOOD_FLOW_START,
  goodFlow,
  RULES_V4,
  RULES_V6,
} from "../lib/gateway.js";
import { caseArb, type FuzzPacket, materialize, REPO } from "../lib/packets.js";
import { describeError, type FuzzTarget } from "../lib/target.js";

export interface RulesSource {
  name: string;
  family: 4 | 6;
  text: string;
}

let sourcesCache: RulesSource[] | null = null;

/** rulesSources: every ruleset text of the fixtures, with its family. */
export function rulesSources(): RulesSource[] {
  if (sourcesCache !== null) return sourcesCache;
  const out: RulesSource[] = [];
  const add = (dir: string, f: string, family: 4 | 6): void => {
    out.push({ name: `${dir}/${f}`, family, text: readFileSync(join(REPO, dir, f), "utf8") });
  };
  for (const dir of [
    "test/fixtures/rulesets/real",
    "test/fixtures/rulesets/oracle/cases",
    "test/fixtures/rulesets/oracle/bad",
  ]) {
    for (const f of readdirSync(join(REPO, dir)).sort()) {
      if (/\.(save|loadable|restore|rules)$/.test(f)) add(dir, f, 4);
      else if (f.endsWith(".rules6")) add(dir, f, 6);
    }
  }
  const kroot = "test/fixtures/kernel";
  for (const scen of readdirSync(join(REPO, kroot)).sort()) {
    for (const [f, fam] of [
      ["rules.v4", 4],
      ["rules.v6", 6],
    ] as const) {
      try {
        add(`${kroot}/${scen}`, f, fam);
      } catch {
        // not every recording has both
      }
    }
  }
  out.push({ name: "fuzz gateway v4", family: 4, text: RULES_V4 });
  out.push({ name: "fuzz gateway v6", family: 6, text: RULES_V6 });
  sourcesCache = out;
  return out;
}

/** odd words: edge values, syntax characters, long and non-ASCII text */
const ODD_WORDS = [
  "!",
  "!!",
  "-j",
  "-g",
  "-m",
  "-p",
  "-A",
  "-I",
  "-N",
  "-P",
  "--",
  "-",
  "---",
  ":",
  "*",
  "COMMIT",
  "[0:0]",
  "[18446744073709551615:18446744073709551616]",
  "[-1:-1]",
  "0",
  "-1",
  "65535",
  "65536",
  "4294967295",
  "4294967296",
  "99999999999999999999999",
  "0x",
  "0xffffffff/0xffffffff",
  "0x1ffffffff",
  "1:0",
  ":",
  "1:",
  ":1",
  "1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16",
  "0.0.0.0/0",
  "255.255.255.255/32",
  "1.2.3.4/33",
  "1.2.3.4/-1",
  "1.2.3",
  "1.2.3.4.5",
  "256.1.1.1",
  "::",
  "::/129",
  "[::1]:80",
  "fe80::1%eth0",
  "10.0.0.1-10.0.0.0",
  "10.0.0.1:70000",
  "10.0.0.1:2-1",
  '"',
  '""',
  '"unterminated',
  "'",
  "\\",
  "\t",
  "#",
  "--comment",
  `"${"x".repeat(300)}"`,
  "x".repeat(40),
  "é",
  "\u0000",
  "\u202e",
  "𝕏",
  "constructor",
  "__proto__",
  "toString",
  "hasOwnProperty",
  "valueOf",
  "RETURN",
  "ACCEPT",
  "DROP",
  "QUEUE",
  "PREROUTING",
  "INPUT",
  "FORWARD",
  "OUTPUT",
  "POSTROUTING",
  "raw",
  "mangle",
  "nat",
  "filter",
  "security",
  "all",
  "tcp",
  "udp",
  "icmp",
  "ipv6-icmp",
  "255",
  "256",
];

let dictCache: string[] | null = null;

/** dictionary: every word of every source, then the odd words. */
export function dictionary(): string[] {
  if (dictCache !== null) return dictCache;
  const set = new Set<string>();
  for (const s of rulesSources()) for (const w of s.text.split(/\s+/)) if (w !== "") set.add(w);
  dictCache = [...[...set].sort(), ...ODD_WORDS];
  return dictCache;
}

export type RulesMutation =
  | { m: "delLine"; at: number }
  | { m: "dupLine"; at: number; to: number }
  | { m: "swapLines"; a: number; b: number }
  | { m: "splice"; src: number; line: number; to: number }
  | { m: "word"; line: number; w: number; word: number }
  | { m: "delWord"; line: number; w: number }
  | { m: "insWord"; line: number; w: number; word: number }
  | { m: "text"; at: number; s: string }
  | { m: "byte"; at: number; v: number }
  | { m: "cut"; at: number };

export type RulesCase =
  | { k: "mutant"; src: number; family: number; muts: RulesMutation[] }
  | { k: "random"; family: number; table: number; lines: number[][] }
  | { k: "graph"; family: number; chains: number; edges: [number, number, number][]; entry: number; gotos: boolean };

function lineSplit(text: string): string[] {
  return text.split("\n");
}

function applyMutation(text: string, mu: RulesMutation, sources: RulesSource[], dict: string[]): string {
  const lines = lineSplit(text);
  const n = lines.length;
  const L = (i: number): number => i % n;
  const words = (i: number): string[] => lines[L(i)]!.split(" ");
  switch (mu.m) {
    case "delLine":
      lines.splice(L(mu.at), 1);
      break;
    case "dupLine":
      lines.splice(L(mu.to), 0, lines[L(mu.at)]!);
      break;
    case "swapLines": {
      const a = L(mu.a);
      const b = L(mu.b);
      const t = lines[a]!;
      lines[a] = lines[b]!;
      lines[b] = t;
      break;
    }
    case "splice": {
      const other = lineSplit(sources[mu.src % sources.length]!.text);
      lines.splice(L(mu.to), 0, other[mu.line % other.length]!);
      break;
    }
    case "word": {
      const ws = words(mu.line);
      ws[mu.w % ws.length] = dict[mu.word % dict.length]!;
      lines[L(mu.line)] = ws.join(" ");
      break;
    }
    case "delWord": {
      const ws = words(mu.line);
      ws.splice(mu.w % ws.length, 1);
      lines[L(mu.line)] = ws.join(" ");
      break;
    }
    case "insWord": {
      const ws = words(mu.line);
      ws.splice(mu.w % (ws.length + 1), 0, dict[mu.word % dict.length]!);
      lines[L(mu.line)] = ws.join(" ");
      break;
    }
    case "text": {
      const at = mu.at % (text.length + 1);
      return text.slice(0, at) + mu.s + text.slice(at);
    }
    case "byte": {
      if (text.length === 0) return text;
      const at = mu.at % text.length;
      return text.slice(0, at) + String.fromCharCode(mu.v & 0xff) + text.slice(at + 1);
    }
    case "cut":
      return text.slice(0, mu.at % (text.length + 1));
  }
  return lines.join("\n");
}

const TABLE_CHAINS: Record<string, string[]> = {
  raw: ["PREROUTING", "OUTPUT"],
  mangle: ["PREROUTING", "INPUT", "FORWARD", "OUTPUT", "POSTROUTING"],
  nat: ["PREROUTING", "INPUT", "OUTPUT", "POSTROUTING"],
  filter: ["INPUT", "FORWARD", "OUTPUT"],
  security: ["INPUT", "FORWARD", "OUTPUT"],
};

/** rulesText: the text and family of a case. */
export function rulesText(c: RulesCase): { text: string; family: 4 | 6 } {
  const family: 4 | 6 = (c.family & 1) === 1 ? 6 : 4;
  const sources = rulesSources();
  const dict = dictionary();
  switch (c.k) {
    case "mutant": {
      const s = sources[c.src % sources.length]!;
      let text = s.text;
      for (const mu of c.muts) text = applyMutation(text, mu, sources, dict);
      // a source's own family most of the time; the other one now and then (c.family bit 1)
      return { text, family: (c.family & 2) !== 0 ? (s.family === 4 ? 6 : 4) : s.family };
    }
    case "random": {
      const table = TABLE_NAMES[c.table % TABLE_NAMES.length]!;
      const chains = TABLE_CHAINS[table] ?? ["INPUT"];
      let text = `*${table}\n`;
      for (const ch of chains) text += `:${ch} ACCEPT [0:0]\n`;
      for (const l of c.lines) {
        const ch = chains[(l[0] ?? 0) % chains.length]!;
        text += `-A ${ch} ${l
          .slice(1)
          .map((w) => dict[w % dict.length])
          .join(" ")}\n`;
      }
      return { text: `${text}COMMIT\n`, family };
    }
    case "graph": {
      const n = c.chains;
      let text = "*filter\n:INPUT ACCEPT [0:0]\n:FORWARD DROP [0:0]\n:OUTPUT ACCEPT [0:0]\n";
      for (let i = 0; i < n; i++) text += `:G${i} - [0:0]\n`;
      text += `-A FORWARD -j G${c.entry % Math.max(1, n)}\n`;
      for (const [a, b, kind] of c.edges) {
        const verb = c.gotos && kind % 3 === 0 ? "-g" : "-j";
        const match = kind % 5 === 1 ? "-p tcp --dport 80 " : kind % 5 === 2 ? "-m conntrack --ctstate NEW " : "";
        text += kind % 7 === 3 ? `-A G${a % n} ${match}-j RETURN\n` : `-A G${a % n} ${match}${verb} G${b % n}\n`;
      }
      return { text: `${text}-A FORWARD -j ACCEPT\nCOMMIT\n`, family };
    }
  }
}

// ---- the contract ---------------------------------------------------------------------------------------

const FILE = "fuzz.rules";

/** checkLoadError: the shape of a load error for `text`; null when it is a proper InputError. */
export function checkLoadError(e: unknown, text: string, file = FILE): string | null {
  if (!isInputError(e)) return `not an InputError: ${describeError(e)}`;
  const msg = (e as Error).message;
  if (msg.includes("\n") || msg.includes("\r")) return `message is not one line: ${JSON.stringify(msg)}`;
  const prefix = `${file}:`;
  if (!msg.startsWith(prefix)) return `message does not name the file: ${JSON.stringify(msg)}`;
  const m = /^(\d+):(\d+): \S/.exec(msg.slice(prefix.length));
  if (m === null) return `message does not give line:column: ${JSON.stringify(msg)}`;
  const line = Number(m[1]);
  const col = Number(m[2]);
  const lines = text.split("\n");
  if (line < 1 || line > lines.length) return `line ${line} is outside the text (${lines.length} lines): ${msg}`;
  const l = lines[line - 1]!.replace(/\r$/, "");
  if (col < 1 || col > l.length + 1) return `column ${col} is outside line ${line} (${l.length} characters): ${msg}`;
  return null;
}

let hostileCache: FuzzPacket[] | null = null;

/** a fixed set of hostile packets (the packet target's own generator, seed 7) */
function hostilePackets(): FuzzPacket[] {
  if (hostileCache === null) {
    const ops = fc.sample(caseArb, { seed: 7, numRuns: 6 }).flat();
    hostileCache = materialize(ops);
  }
  return hostileCache;
}

/** checkRuleset: the contract for one ruleset text (see the module comment); null when it holds. */
export function checkRuleset(text: string, family: 4 | 6): string | null {
  let rs: ReturnType<typeof loadRuleset>;
  try {
    rs = loadRuleset(text, { file: FILE, family });
  } catch (e) {
    return checkLoadError(e, text);
  }
  let saved: string;
  try {
    saved = rs.save({ counters: true });
    if (/\bNaN\b|\bundefined\b/.test(saved)) return `the save output has NaN or undefined in it:\n${saved}`;
    rs.save();
    for (const t of TABLE_NAMES) rs.list(t, { lineNumbers: true });
  } catch (e) {
    return `a loaded ruleset does not save or list: ${describeError(e)}`;
  }
  // iptables-save quotes only comments and log prefixes; any other argument written with quotes or
  // backslashes (an interface or table name with a space, an unterminated quote taking the rest of the
  // line, as iptables-restore reads it too) is printed raw and does not survive the round trip, in
  // iptables either
  const unquotedOnSave = text.replace(/--(?:comment|log-prefix|nflog-prefix)\s+"(?:[^"\\]|\\.)*"/g, "");
  if (/["\\]/.test(unquotedOnSave)) return null;
  // a byte rate under 16b/s saves as "0b/s", which iptables-restore 1.8.9 refuses as well
  if (/--(?:hashlimit-upto|hashlimit-above) 0b\/s/.test(saved)) return null;
  try {
    const again = loadRuleset(saved, { file: "saved.rules", family });
    const resaved = again.save({ counters: true });
    if (resaved !== saved)
      return `save -> load -> save changes the text:\n--- first save\n${saved}--- second save\n${resaved}`;
  } catch (e) {
    return `the save output of a loaded ruleset does not load again: ${(e as Error).message}\n--- saved text\n${saved}`;
  }
  const { gw, sink } = buildFuzzGateway({
    rules4: family === 4 ? text : RULES_V4,
    rules6: family === 6 ? text : RULES_V6,
  });
  sink.keep = false;
  const send = (
    p: { ifindex: number; bytes: Uint8Array; pktType?: number },
    now: number,
    what: string,
  ): string | null => {
    const before = fateTotal(gw);
    const copy = p.bytes.slice();
    try {
      gw.gateway.receive(p.ifindex, copy, 0, copy.length, now, p.pktType ?? 0);
    } catch (e) {
      return `${what} threw: ${describeError(e)}`;
    }
    return fateTotal(gw) === before ? `${what} was not counted` : null;
  };
  const hostile = hostilePackets();
  for (let i = 0; i < hostile.length; i++) {
    const r = send(hostile[i]!, FUZZ_START + hostile[i]!.t, `hostile packet #${i}`);
    if (r !== null) return r;
  }
  const flow = goodFlow();
  for (let i = 0; i < flow.length; i++) {
    const r = send(flow[i]!, GOOD_FLOW_START + flow[i]!.dt, `good flow packet #${i}`);
    if (r !== null) return r;
  }
  try {
    gw.conntrackList(GOOD_FLOW_START + 1);
    gw.saveCounters(family);
  } catch (e) {
    return `after the packets: ${describeError(e)}`;
  }
  return null;
}

// ---- arbitraries ------------------------------------------------------------------------------------------

const anyText = fc.oneof(
  fc.string({ maxLength: 12 }),
  fc.string({ unit: "binary", maxLength: 8 }),
  fc.constantFrom(" ", "\n", "\r\n", "\t", "!", "-", "--", '"', "'", "\\", ":", ",", "/", "[", "]", "*", "#", "\u0000"),
);

export const rulesMutationArb: fc.Arbitrary<RulesMutation> = fc.oneof(
  { arbitrary: fc.record({ m: fc.constant("delLine" as const), at: fc.nat() }), weight: 2 },
  { arbitrary: fc.record({ m: fc.constant("dupLine" as const), at: fc.nat(), to: fc.nat() }), weight: 1 },
  { arbitrary: fc.record({ m: fc.constant("swapLines" as const), a: fc.nat(), b: fc.nat() }), weight: 1 },
  {
    arbitrary: fc.record({ m: fc.constant("splice" as const), src: fc.nat(), line: fc.nat(), to: fc.nat() }),
    weight: 2,
  },
  { arbitrary: fc.record({ m: fc.constant("word" as const), line: fc.nat(), w: fc.nat(), word: fc.nat() }), weight: 6 },
  { arbitrary: fc.record({ m: fc.constant("delWord" as const), line: fc.nat(), w: fc.nat() }), weight: 3 },
  {
    arbitrary: fc.record({ m: fc.constant("insWord" as const), line: fc.nat(), w: fc.nat(), word: fc.nat() }),
    weight: 3,
  },
  { arbitrary: fc.record({ m: fc.constant("text" as const), at: fc.nat(), s: anyText }), weight: 2 },
  { arbitrary: fc.record({ m: fc.constant("byte" as const), at: fc.nat(), v: fc.nat({ max: 255 }) }), weight: 1 },
  { arbitrary: fc.record({ m: fc.constant("cut" as const), at: fc.nat() }), weight: 1 },
);

export const rulesCaseArb: fc.Arbitrary<RulesCase> = fc.oneof(
  {
    arbitrary: fc.record({
      k: fc.constant("mutant" as const),
      src: fc.nat(),
      family: fc.nat({ max: 7 }),
      muts: fc.array(rulesMutationArb, { minLength: 1, maxLength: 6 }),
    }),
    weight: 8,
  },
  {
    arbitrary: fc.record({
      k: fc.constant("random" as const),
      family: fc.nat({ max: 1 }),
      table: fc.nat(),
      lines: fc.array(fc.array(fc.nat(), { minLength: 1, maxLength: 12 }), { maxLength: 6 }),
    }),
    weight: 2,
  },
  {
    arbitrary: fc.record({
      k: fc.constant("graph" as const),
      family: fc.nat({ max: 1 }),
      chains: fc.integer({ min: 1, max: 40 }),
      edges: fc.array(fc.tuple(fc.nat(), fc.nat(), fc.nat()), { maxLength: 80 }),
      entry: fc.nat(),
      gotos: fc.boolean(),
    }),
    weight: 1,
  },
);

export const rulesTarget: FuzzTarget<RulesCase> = {
  name: "rules",
  arbitrary: rulesCaseArb,
  check(c) {
    const { text, family } = rulesText(c);
    return checkRuleset(text, family);
  },
  repro(c, failure, seed, path) {
    const { text, family } = rulesText(c);
    const head = `# ctnat fuzz reproduction: target rules, seed ${seed}, path ${path}, family ${family}\n# ${failure
      .split("\n")
      .join("\n# ")}\n`;
    return [
      { ext: family === 6 ? "rules6" : "rules", data: text },
      { ext: "txt", data: `${head}\n${JSON.stringify(c)}\n` },
    ];
  },
};
