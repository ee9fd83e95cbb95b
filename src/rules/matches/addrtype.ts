/**
 * addrtype match (Linux xt_addrtype.c revision 1, iptables libxt_addrtype.c): the route type of the
 * source and/or destination address (LOCAL, UNICAST, BROADCAST, ...), optionally looked up on the
 * incoming or outgoing interface only. The gateway answers through AddrTypeView.
 */
import type { Skb } from "../../core/skb.js";
import { ADDRTYPE_NAMES } from "../env.js";
import {
  type CheckCtx,
  HOOK_FWD,
  HOOK_IN,
  HOOK_OUT,
  HOOK_POST,
  HOOK_PRE,
  hookCheck,
  Match,
  type OptDef,
  opt,
  type ParseCtx,
  type RuleEnv,
} from "../types.js";

const INVERT_SOURCE = 1;
const INVERT_DEST = 2;
const LIMIT_IFACE_IN = 4;
const LIMIT_IFACE_OUT = 8;

function parseTypes(p: ParseCtx, s: string): number {
  let v = 0;
  for (const part of s.split(",")) {
    const i = ADDRTYPE_NAMES.indexOf(part.toUpperCase());
    if (i < 0) p.failArg(`addrtype: unknown type '${part}'`);
    v |= 1 << i;
  }
  return v;
}

function typesText(mask: number): string {
  const out: string[] = [];
  for (let i = 0; i < ADDRTYPE_NAMES.length; i++) if (mask & (1 << i)) out.push(ADDRTYPE_NAMES[i]!);
  return out.join(",");
}

export class AddrtypeMatch extends Match {
  static readonly extName: string = "addrtype";
  readonly name = "addrtype";
  readonly opts: readonly OptDef[] = [
    opt("src-type", true, true),
    opt("dst-type", true, true),
    opt("limit-iface-in", false, false),
    opt("limit-iface-out", false, false),
  ];
  source = 0;
  dest = 0;
  flags = 0;

  parse(o: string, arg: string, inv: boolean, p: ParseCtx): void {
    switch (o) {
      case "src-type":
        if (this.source !== 0) p.fail("addrtype: can't specify src-type twice");
        this.source = parseTypes(p, arg);
        if (inv) this.flags |= INVERT_SOURCE;
        return;
      case "dst-type":
        if (this.dest !== 0) p.fail("addrtype: can't specify dst-type twice");
        this.dest = parseTypes(p, arg);
        if (inv) this.flags |= INVERT_DEST;
        return;
      case "limit-iface-in":
        if (this.flags & LIMIT_IFACE_OUT)
          p.fail("addrtype: you can't specify both --limit-iface-in and --limit-iface-out");
        this.flags |= LIMIT_IFACE_IN;
        return;
      case "limit-iface-out":
        if (this.flags & LIMIT_IFACE_IN)
          p.fail("addrtype: you can't specify both --limit-iface-in and --limit-iface-out");
        this.flags |= LIMIT_IFACE_OUT;
        return;
    }
  }

  override finalCheck(p: ParseCtx): void {
    if (this.source === 0 && this.dest === 0) p.fail("addrtype: you must specify --src-type or --dst-type");
  }

  override check(c: CheckCtx): string | null {
    if (this.flags & LIMIT_IFACE_IN) {
      return hookCheck(c, "addrtype --limit-iface-in", null, HOOK_PRE | HOOK_IN | HOOK_FWD);
    }
    if (this.flags & LIMIT_IFACE_OUT) {
      return hookCheck(c, "addrtype --limit-iface-out", null, HOOK_FWD | HOOK_OUT | HOOK_POST);
    }
    return null;
  }

  match(skb: Skb, env: RuleEnv): boolean {
    const f = this.flags;
    const dev = f & LIMIT_IFACE_IN ? skb.inIf : f & LIMIT_IFACE_OUT ? skb.outIf : -1;
    const pi = skb.pi;
    const fam = this.family;
    if (this.source !== 0) {
      const hit = (env.addrType.addrType(fam, pi.src, dev) & this.source) !== 0;
      if (hit === ((f & INVERT_SOURCE) !== 0)) return false;
    }
    if (this.dest !== 0) {
      const hit = (env.addrType.addrType(fam, pi.dst, dev) & this.dest) !== 0;
      if (hit === ((f & INVERT_DEST) !== 0)) return false;
    }
    return true;
  }

  save(): string {
    let s = "";
    if (this.source !== 0) s += `${this.flags & INVERT_SOURCE ? " !" : ""} --src-type ${typesText(this.source)}`;
    if (this.dest !== 0) s += `${this.flags & INVERT_DEST ? " !" : ""} --dst-type ${typesText(this.dest)}`;
    if (this.flags & LIMIT_IFACE_IN) s += " --limit-iface-in";
    if (this.flags & LIMIT_IFACE_OUT) s += " --limit-iface-out";
    return s;
  }

  print(): string {
    let s = " ADDRTYPE match";
    if (this.source !== 0) s += ` src-type ${this.flags & INVERT_SOURCE ? "!" : ""}${typesText(this.source)}`;
    if (this.dest !== 0) s += ` dst-type ${this.flags & INVERT_DEST ? "!" : ""}${typesText(this.dest)}`;
    if (this.flags & LIMIT_IFACE_IN) s += " limit-in";
    if (this.flags & LIMIT_IFACE_OUT) s += " limit-out";
    return s;
  }
}
