/**
 * SET target: `-j SET --add-set NAME src|dst[,...] [--exist] [--timeout N]` and/or `--del-set NAME
 * src|dst[,...]` (Linux xt_set.c set_target_v3, iptables libxt_SET.c): the packet's element is added to
 * or deleted from an IP set, then the next rule is tried. --add-set does not refresh an element already
 * there unless --exist; --timeout overrides the set's default timeout. --map-set is not implemented.
 */
import { Verdict } from "../../core/netfilter.js";
import type { Skb } from "../../core/skb.js";
import type { IpsetRegistry } from "../ipset/parse.js";
import { type IpSet, SetOp } from "../ipset/sets.js";
import { formatDirs, parseDirs, resolveSet } from "../matches/set.js";
import { type OptDef, opt, type ParseCtx, type RuleEnv, Target } from "../types.js";
import { parseUint } from "../util.js";

/** IPSET_MAX_TIMEOUT: the kernel caps timeouts to what fits in jiffies (seconds) */
const MAX_TIMEOUT = 2147483;

export class SetTarget extends Target {
  static readonly extName: string = "SET";
  readonly name = "SET";
  readonly opts: readonly OptDef[] = [
    opt("add-set"),
    opt("del-set"),
    opt("exist", false),
    opt("timeout"),
    opt("map-set"),
    opt("map-mark", false),
    opt("map-prio", false),
    opt("map-queue", false),
  ];
  addSet: IpSet | null = null;
  delSet: IpSet | null = null;
  addName = "";
  delName = "";
  readonly addOp: SetOp = new SetOp();
  readonly delOp: SetOp = new SetOp();
  private timeoutGiven = false;
  /** --timeout as written (the kernel caps what it uses to MAX_TIMEOUT) */
  private timeoutText = 0;
  private reg: IpsetRegistry | null = null;

  parse(o: string, arg: string, _inv: boolean, p: ParseCtx): void {
    switch (o) {
      case "add-set":
      case "del-set": {
        const add = o === "add-set";
        if ((add ? this.addSet : this.delSet) !== null) p.fail(`SET: option "--${o}" can only be used once.`);
        const set = resolveSet(p, arg);
        parseDirs(p, p.nextArg(`--${o}`), add ? this.addOp : this.delOp);
        if (add) {
          this.addSet = set;
          this.addName = arg;
        } else {
          this.delSet = set;
          this.delName = arg;
        }
        this.reg = p.xt.ipsets;
        return;
      }
      case "exist":
        this.addOp.exist = true;
        return;
      case "timeout": {
        const v = parseUint(arg);
        if (v === null) p.failArg(`SET: bad --timeout '${arg}'`);
        this.timeoutText = v;
        this.addOp.timeout = Math.min(v, MAX_TIMEOUT);
        this.timeoutGiven = true;
        return;
      }
      default:
        p.unsupported(`SET --${o}`, `SET target option '--${o}' is not implemented by ctnat`);
    }
  }

  override finalCheck(p: ParseCtx): void {
    if (this.addSet === null && this.delSet === null) {
      p.fail("You must specify either `--add-set' or `--del-set'");
    }
  }

  /** packet time: Linux set_target_v3. Hot path (the sets may grow when adding). */
  action(skb: Skb, _env: RuleEnv): number {
    this.reg!.touch(skb.now);
    const pi = skb.pi;
    if (this.addSet !== null) {
      this.addSet.addFromPacket(pi, this.addOp, pi.len, skb.now);
    }
    if (this.delSet !== null) this.delSet.delFromPacket(pi, this.delOp, skb.now);
    return Verdict.Continue;
  }

  private text(prefix: string): string {
    let s = "";
    if (this.addSet !== null) s += ` ${prefix}add-set ${this.addName} ${formatDirs(this.addOp)}`;
    if (this.delSet !== null) s += ` ${prefix}del-set ${this.delName} ${formatDirs(this.delOp)}`;
    if (this.addOp.exist) s += ` ${prefix}exist`;
    if (this.timeoutGiven) s += ` ${prefix}timeout ${this.timeoutText}`;
    return s;
  }

  save(): string {
    return this.text("--");
  }

  print(): string {
    return this.text("");
  }
}
