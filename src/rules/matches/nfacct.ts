/**
 * nfacct match: `-m nfacct --nfacct-name NAME` (Linux xt_nfacct.c, nfnetlink_acct.c, iptables
 * libxt_nfacct.c): every packet that reaches it is counted in the named accounting object, and the match
 * holds (an object without a quota, as `nfacct add NAME` creates, is never "under quota"). Linux needs
 * the object to exist before the rule; ctnat has no input for accounting objects and creates each one,
 * without a quota, when a rule first names it.
 */
import type { Skb } from "../../core/skb.js";
import { Match, type OptDef, opt, type ParseCtx, type RuleEnv } from "../types.js";

/** NfacctObject: one accounting object (Linux struct nf_acct): packets and bytes. */
export class NfacctObject {
  readonly name: string;
  packets = 0;
  bytes = 0;
  constructor(name: string) {
    this.name = name;
  }
  reset(): void {
    this.packets = 0;
    this.bytes = 0;
  }
  /** format: the object as `nfacct list` prints it */
  format(): string {
    return `{ pkts = ${String(this.packets).padStart(20, "0")}, bytes = ${String(this.bytes).padStart(20, "0")} } = ${this.name};`;
  }
}

/** NFACCT_NAME_MAX: names are at most 31 characters */
const NAME_MAX = 31;

export class NfacctMatch extends Match {
  static readonly extName: string = "nfacct";
  readonly name = "nfacct";
  readonly opts: readonly OptDef[] = [opt("nfacct-name")];
  acctName = "";
  private obj: NfacctObject | null = null;

  constructor(family: number) {
    super(family);
    // counting is a side effect
    this.pure = false;
  }

  parse(_o: string, arg: string, _inv: boolean, p: ParseCtx): void {
    if (this.obj !== null) p.fail('nfacct: option "--nfacct-name" can only be used once.');
    if (arg.length === 0 || arg.length > NAME_MAX)
      p.failArg(`nfacct: bad object name '${arg}' (1 to ${NAME_MAX} characters)`);
    this.acctName = arg;
    let o = p.xt.nfacct.get(arg);
    if (o === undefined) {
      o = new NfacctObject(arg);
      p.xt.nfacct.set(arg, o);
    }
    this.obj = o;
  }

  override finalCheck(p: ParseCtx): void {
    if (this.obj === null) p.fail('nfacct: option "--nfacct-name" must be specified');
  }

  /** packet time: Linux nfacct_mt. */
  match(skb: Skb, _env: RuleEnv): boolean {
    const o = this.obj!;
    o.packets++;
    o.bytes += skb.pi.len;
    return true;
  }

  save(): string {
    // libxt_nfacct prints two spaces before the name
    return ` --nfacct-name  ${this.acctName}`;
  }

  print(): string {
    return ` nfacct-name  ${this.acctName}`;
  }
}
