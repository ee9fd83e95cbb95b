/**
 * set match: `-m set [!] --match-set NAME src|dst[,src|dst...] [--return-nomatch] [! --update-counters]
 * [! --update-subcounters] [[!] --packets-eq N | --packets-lt N | --packets-gt N] [the --bytes-
 * forms]` (Linux xt_set.c revision 4, iptables libxt_set.c). The set must exist in the namespace's
 * IP sets (the `--ipsets` input), of the rule's family (list:set and bitmap:port are of any family), as
 * iptables-restore requires.
 */
import type { Skb } from "../../core/skb.js";
import type { IpsetRegistry } from "../ipset/parse.js";
import { CounterOp, type IpSet, IpsetFlag, SetKind, SetOp } from "../ipset/sets.js";
import { Match, type OptDef, opt, type ParseCtx, type RuleEnv } from "../types.js";

/** IPSET_DIM_MAX: at most 6 src/dst words */
const DIM_MAX = 6;

/**
 * resolveSet: the set named `name` for a rule of `family` (Linux/iptables get_set_byname and the family
 * check of libxt_set). @throws RulesetError / UnsupportedError at the current argument
 */
export function resolveSet(p: ParseCtx, name: string): IpSet {
  const set = p.xt.ipsets.get(name);
  if (set === undefined) p.failArg(`Set ${name} doesn't exist.`);
  if (set.kind === SetKind.Unsupported) {
    p.unsupported(
      `set type ${set.typeName}`,
      `set '${name}' has type ${set.typeName}, which is not implemented by ctnat`,
    );
  }
  if (set.family !== 0 && set.family !== p.family) {
    p.failArg(`The protocol family of set ${name} is ${set.family === 6 ? "IPv6" : "IPv4"}, which is not applicable.`);
  }
  return set;
}

/** parseDirs: `src,dst,...` into op.dirs / op.dim (libxt_set parse_dirs). */
export function parseDirs(p: ParseCtx, s: string, op: SetOp): void {
  const parts = s.split(",");
  if (parts.length > DIM_MAX) p.failArg(`Can't be more src/dst options than ${DIM_MAX}.`);
  let dirs = 0;
  for (let i = 0; i < parts.length; i++) {
    if (parts[i] === "src") dirs |= 1 << i;
    else if (parts[i] !== "dst") p.failArg("You must specify (the comma separated list of) 'src' or 'dst'.");
  }
  op.dirs = dirs;
  op.dim = parts.length;
}

/** formatDirs: the src/dst words of op. */
export function formatDirs(op: SetOp): string {
  const out: string[] = [];
  for (let i = 0; i < op.dim; i++) out.push((op.dirs >>> i) & 1 ? "src" : "dst");
  return out.join(",");
}

export class SetMatch extends Match {
  static readonly extName: string = "set";
  readonly name = "set";
  readonly opts: readonly OptDef[] = [
    opt("match-set", true, true),
    opt("set", true, true),
    opt("return-nomatch", false),
    opt("update-counters", false, true),
    opt("update-subcounters", false, true),
    opt("packets-eq", true, true),
    opt("packets-lt"),
    opt("packets-gt"),
    opt("bytes-eq", true, true),
    opt("bytes-lt"),
    opt("bytes-gt"),
  ];
  set: IpSet | null = null;
  setName = "";
  inv = false;
  readonly op: SetOp = new SetOp();
  private reg: IpsetRegistry | null = null;

  constructor(family: number) {
    super(family);
    // counters change with every lookup
    this.pure = false;
  }

  parse(o: string, arg: string, inv: boolean, p: ParseCtx): void {
    const op = this.op;
    switch (o) {
      case "match-set":
      case "set": {
        if (this.set !== null) p.fail("--match-set can be specified only once");
        this.setName = arg;
        // the name is checked first (as libxt_set does), at its argument
        this.set = resolveSet(p, arg);
        parseDirs(p, p.nextArg(`--${o}`), op);
        this.inv = inv;
        this.reg = p.xt.ipsets;
        return;
      }
      case "return-nomatch":
        op.flags |= IpsetFlag.RETURN_NOMATCH;
        return;
      case "update-counters":
        // the default; only the negated form changes anything
        if (inv) op.flags |= IpsetFlag.SKIP_COUNTER_UPDATE;
        return;
      case "update-subcounters":
        if (inv) op.flags |= IpsetFlag.SKIP_SUBCOUNTER_UPDATE;
        return;
      default: {
        const packets = o.startsWith("packets");
        if ((packets ? op.packetsOp : op.bytesOp) !== CounterOp.None) {
          p.fail(`only one of --${packets ? "packets" : "bytes"}-eq/-lt/-gt may be given`);
        }
        if (!/^[0-9]+$/.test(arg)) p.failArg(`invalid value '${arg}' for --${o}`);
        const v = Number(arg);
        const kind = o.slice(o.indexOf("-") + 1);
        const c = kind === "eq" ? (inv ? CounterOp.Ne : CounterOp.Eq) : kind === "lt" ? CounterOp.Lt : CounterOp.Gt;
        if (packets) {
          op.packetsOp = c;
          op.packets = v;
        } else {
          op.bytesOp = c;
          op.bytes = v;
        }
        op.flags |= IpsetFlag.MATCH_COUNTERS;
      }
    }
  }

  override finalCheck(p: ParseCtx): void {
    if (this.set === null) p.fail("You must specify `--match-set' with proper arguments");
  }

  /** packet time: Linux set_match_v4. Hot path: must not allocate. */
  match(skb: Skb, _env: RuleEnv): boolean {
    this.reg!.touch(skb.now);
    const pi = skb.pi;
    const hit = this.set!.test(pi, this.op, this.op.flags, pi.len, skb.now) > 0;
    return hit !== this.inv;
  }

  private counters(prefix: string): string {
    const op = this.op;
    let s = "";
    const one = (name: string, c: number, v: number): void => {
      if (c === CounterOp.None) return;
      if (c === CounterOp.Ne) s += ` ! ${prefix}${name}-eq ${v}`;
      else s += ` ${prefix}${name}-${c === CounterOp.Eq ? "eq" : c === CounterOp.Lt ? "lt" : "gt"} ${v}`;
    };
    one("packets", op.packetsOp, op.packets);
    one("bytes", op.bytesOp, op.bytes);
    return s;
  }

  private text(prefix: string): string {
    const op = this.op;
    let s = `${this.inv ? " !" : ""} ${prefix}match-set ${this.setName} ${formatDirs(op)}`;
    if (op.flags & IpsetFlag.RETURN_NOMATCH) s += ` ${prefix}return-nomatch`;
    if (op.flags & IpsetFlag.SKIP_COUNTER_UPDATE) s += ` ! ${prefix}update-counters`;
    if (op.flags & IpsetFlag.SKIP_SUBCOUNTER_UPDATE) s += ` ! ${prefix}update-subcounters`;
    return s + this.counters(prefix);
  }

  save(): string {
    return this.text("--");
  }

  print(): string {
    return this.text("");
  }
}
