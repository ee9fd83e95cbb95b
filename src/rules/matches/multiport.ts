/**
 * multiport match (Linux xt_multiport.c revision 1, iptables libxt_multiport.c): up to 15 ports, a range
 * taking two of them, against the source, destination or either port. Needs -p tcp, udp, udplite, sctp
 * or dccp; non-first fragments never match; a missing port header hotdrops.
 */
import type { Skb } from "../../core/skb.js";
import { Match, type OptDef, opt, type ParseCtx, type RuleEnv } from "../types.js";
import { portOrFail } from "../util.js";
import { l4Header } from "./l4.js";

const SOURCE = 0;
const DESTINATION = 1;
const EITHER = 2;
const MAX_PORTS = 15;

export class MultiportMatch extends Match {
  static readonly extName: string = "multiport";
  readonly name = "multiport";
  readonly opts: readonly OptDef[] = [
    opt("source-ports", true, true),
    opt("sports", true, true),
    opt("destination-ports", true, true),
    opt("dports", true, true),
    opt("ports", true, true),
  ];
  mode = -1;
  inv = false;
  count = 0;
  readonly ports: Uint16Array = new Uint16Array(MAX_PORTS);
  /** 1 where ports[i] starts a range ending at ports[i + 1] */
  readonly pflags: Uint8Array = new Uint8Array(MAX_PORTS);

  constructor(family: number) {
    super(family);
    this.pure = false;
  }

  parse(o: string, arg: string, inv: boolean, p: ParseCtx): void {
    const ok = [6, 17, 136, 132, 33].includes(p.proto) && !p.protoInv;
    if (!ok) p.fail("multiport needs '-p tcp', '-p udp', '-p udplite', '-p sctp' or '-p dccp'");
    if (this.mode >= 0) p.fail("multiport can only have one option");
    this.mode = o.startsWith("s") ? SOURCE : o.startsWith("d") ? DESTINATION : EITHER;
    this.inv = inv;
    for (const part of arg.split(",")) {
      const c = part.indexOf(":");
      if (c < 0) {
        if (this.count >= MAX_PORTS) p.failArg("too many ports specified");
        this.ports[this.count++] = portOrFail(p, part);
        continue;
      }
      if (this.count + 2 > MAX_PORTS) p.failArg("too many ports specified");
      const lo = c === 0 ? 0 : portOrFail(p, part.slice(0, c));
      const hi = c === part.length - 1 ? 65535 : portOrFail(p, part.slice(c + 1));
      if (lo >= hi) p.failArg("invalid portrange specified");
      this.pflags[this.count] = 1;
      this.ports[this.count++] = lo;
      this.ports[this.count++] = hi;
    }
  }

  override finalCheck(p: ParseCtx): void {
    if (this.mode < 0) p.fail("multiport: one of --sports, --dports or --ports is required");
  }

  match(skb: Skb, env: RuleEnv): boolean {
    const pi = skb.pi;
    if (pi.fragOff !== 0) return false;
    const o = l4Header(pi, 4);
    if (o < 0) {
      env.hotdrop = true;
      return false;
    }
    const b = pi.buf;
    const src = (b[o]! << 8) | b[o + 1]!;
    const dst = (b[o + 2]! << 8) | b[o + 3]!;
    const ports = this.ports;
    const mode = this.mode;
    for (let i = 0; i < this.count; i++) {
      const s = ports[i]!;
      if (this.pflags[i] === 1) {
        const e = ports[++i]!;
        if (mode === SOURCE) {
          if (src >= s && src <= e) return !this.inv;
        } else if (mode === DESTINATION) {
          if (dst >= s && dst <= e) return !this.inv;
        } else if ((dst >= s && dst <= e) || (src >= s && src <= e)) return !this.inv;
      } else if (mode === SOURCE) {
        if (src === s) return !this.inv;
      } else if (mode === DESTINATION) {
        if (dst === s) return !this.inv;
      } else if (src === s || dst === s) return !this.inv;
    }
    return this.inv;
  }

  private list(): string {
    let s = "";
    for (let i = 0; i < this.count; i++) {
      s += `${i ? "," : ""}${this.ports[i]}`;
      if (this.pflags[i] === 1) s += `:${this.ports[++i]}`;
    }
    return s;
  }

  save(): string {
    const name = ["sports", "dports", "ports"][this.mode]!;
    return `${this.inv ? " !" : ""} --${name} ${this.list()}`;
  }

  print(): string {
    const name = ["sports", "dports", "ports"][this.mode]!;
    return ` multiport ${name} ${this.inv ? " !" : ""}${this.list()}`;
  }
}
