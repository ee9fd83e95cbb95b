/**
 * frag (ip6tables) and policy matches.
 *
 * frag: `-m frag [[!] --fragid id[:id]] [[!] --fraglen N] [--fragres] [--fragfirst] [--fragmore]
 * [--fraglast]` (Linux ip6t_frag.c, iptables libip6t_frag.c) tests the packet's IPv6 fragment header:
 * its identification in the range, reserved bits clear, offset zero (first), M set (more) or clear
 * (last). A packet without a fragment header does not match; a fragment header cut short hotdrops it.
 * --fraglen is accepted and printed but, as in Linux, never tested. (Packets conntrack has reassembled
 * carry no fragment header any more.)
 *
 * policy: `-m policy --dir in|out --pol none` (Linux xt_policy.c, iptables libxt_policy.c): a packet
 * that has no IPsec state (ctnat has no IPsec) matches `--pol none` and never `--pol ipsec`; ctnat
 * implements `--pol none` exactly and refuses `--pol ipsec` (and its element options) as unsupported.
 */
import type { Skb } from "../../core/skb.js";
import { WireStatus } from "../../wire/packet-info.js";
import {
  type CheckCtx,
  HOOK_IN,
  HOOK_OUT,
  HOOK_POST,
  HOOK_PRE,
  Match,
  type OptDef,
  opt,
  type ParseCtx,
  type RuleEnv,
} from "../types.js";
import { parseUint } from "../util.js";

const F_LEN = 1;
const F_RES = 2;
const F_FST = 4;
const F_MF = 8;
const F_NMF = 16;

export class FragMatch extends Match {
  static readonly extName: string = "frag";
  readonly name = "frag";
  readonly opts: readonly OptDef[] = [
    opt("fragid", true, true),
    opt("fraglen", true, true),
    opt("fragres", false),
    opt("fragfirst", false),
    opt("fragmore", false),
    opt("fraglast", false),
  ];
  idMin = 0;
  idMax = 0xffffffff;
  idInv = false;
  hdrlen = 0;
  lenInv = false;
  flags = 0;
  private seen = 0;

  parse(o: string, arg: string, inv: boolean, p: ParseCtx): void {
    const bit = 1 << this.opts.findIndex((x) => x.name === o);
    if (this.seen & bit) p.fail(`frag: option "--${o}" can only be used once.`);
    this.seen |= bit;
    switch (o) {
      case "fragid": {
        const c = arg.indexOf(":");
        const a = c < 0 ? arg : arg.slice(0, c);
        const b = c < 0 ? arg : arg.slice(c + 1);
        const lo = a === "" ? 0 : parseUint(a);
        const hi = b === "" ? 0xffffffff : parseUint(b);
        if (lo === null || hi === null) p.failArg(`frag: bad id '${arg}'`);
        this.idMin = lo;
        this.idMax = hi;
        this.idInv = inv;
        return;
      }
      case "fraglen": {
        const v = parseUint(arg);
        if (v === null) p.failArg(`frag: bad length '${arg}'`);
        this.hdrlen = v;
        this.lenInv = inv;
        this.flags |= F_LEN;
        return;
      }
      case "fragres":
        this.flags |= F_RES;
        return;
      case "fragfirst":
        this.flags |= F_FST;
        return;
      case "fragmore":
        if (this.flags & F_NMF) p.fail('frag: option "--fraglast" cannot be used together with "--fragmore".');
        this.flags |= F_MF;
        return;
      case "fraglast":
        if (this.flags & F_MF) p.fail('frag: option "--fragmore" cannot be used together with "--fraglast".');
        this.flags |= F_NMF;
    }
  }

  /** packet time: Linux frag_mt6. */
  match(skb: Skb, env: RuleEnv): boolean {
    const pi = skb.pi;
    const o = pi.fragHdrOff;
    if (o < 0) {
      // ipv6_find_hdr: no fragment header (-ENOENT) does not match; a broken chain hotdrops
      if (pi.status !== WireStatus.Ok) env.hotdrop = true;
      return false;
    }
    if (o + 8 > Math.min(pi.off + pi.len, pi.buf.length)) {
      env.hotdrop = true;
      return false;
    }
    const b = pi.buf;
    const res = b[o + 1]!;
    const fo = (b[o + 2]! << 8) | b[o + 3]!;
    const id = ((b[o + 4]! << 24) | (b[o + 5]! << 16) | (b[o + 6]! << 8) | b[o + 7]!) >>> 0;
    const f = this.flags;
    return (
      (id >= this.idMin && id <= this.idMax) !== this.idInv &&
      !(f & F_RES && (res !== 0 || (fo & 0x6) !== 0)) &&
      !(f & F_FST && (fo & ~0x7) !== 0) &&
      !(f & F_MF && (fo & 1) === 0) &&
      !(f & F_NMF && (fo & 1) !== 0)
    );
  }

  private idsDefault(): boolean {
    return this.idMin === 0 && this.idMax === 0xffffffff;
  }

  save(): string {
    let s = "";
    if (!this.idsDefault()) {
      s += `${this.idInv ? " !" : ""} --fragid ${this.idMin === this.idMax ? this.idMin : `${this.idMin}:${this.idMax}`}`;
    }
    if (this.flags & F_LEN) s += `${this.lenInv ? " !" : ""} --fraglen ${this.hdrlen}`;
    if (this.flags & F_RES) s += " --fragres";
    if (this.flags & F_FST) s += " --fragfirst";
    if (this.flags & F_MF) s += " --fragmore";
    if (this.flags & F_NMF) s += " --fraglast";
    return s;
  }

  print(): string {
    let s = " frag ";
    if (!this.idsDefault() || this.idInv) {
      const inv = this.idInv ? "!" : "";
      s += this.idMin === this.idMax ? `id:${inv}${this.idMin}` : `ids:${inv}${this.idMin}:${this.idMax}`;
    }
    if (this.flags & F_LEN) s += ` length:${this.lenInv ? "!" : ""}${this.hdrlen}`;
    if (this.flags & F_RES) s += " reserved";
    if (this.flags & F_FST) s += " first";
    if (this.flags & F_MF) s += " more";
    if (this.flags & F_NMF) s += " last";
    return s;
  }
}

export class PolicyMatch extends Match {
  static readonly extName: string = "policy";
  readonly name = "policy";
  readonly opts: readonly OptDef[] = [
    opt("dir"),
    opt("pol"),
    opt("strict", false),
    opt("reqid", true, true),
    opt("spi", true, true),
    opt("proto", true, true),
    opt("mode", true, true),
    opt("tunnel-src", true, true),
    opt("tunnel-dst", true, true),
    opt("next", false),
  ];
  /** "in" or "out" ("" when not given) */
  dir = "";
  /** --pol none given */
  none = false;
  private polGiven = false;
  private strict = false;

  parse(o: string, arg: string, _inv: boolean, p: ParseCtx): void {
    switch (o) {
      case "dir":
        if (this.dir !== "") p.fail("policy match: double --dir option");
        if (arg !== "in" && arg !== "out") p.failArg(`policy match: dir '${arg}' unknown (in or out)`);
        this.dir = arg;
        return;
      case "pol":
        if (this.polGiven) p.fail("policy match: double --pol option");
        if (arg !== "none" && arg !== "ipsec") p.failArg(`policy match: pol '${arg}' unknown (none or ipsec)`);
        this.polGiven = true;
        this.none = arg === "none";
        return;
      case "strict":
        this.strict = true;
        return;
      default:
        // the IPsec element options (ignored by the kernel with --pol none)
        return;
    }
  }

  override finalCheck(p: ParseCtx): void {
    if (this.dir === "") p.fail("policy match: neither --dir in nor --dir out specified");
    if (this.none && this.strict) p.fail("policy match: policy none but --strict given");
    if (!this.none) {
      p.unsupported(
        "policy --pol ipsec",
        "policy match: only --pol none is implemented by ctnat (there is no IPsec; --pol ipsec never matches)",
      );
    }
  }

  override check(c: CheckCtx): string | null {
    if (this.dir === "out" && (c.hookMask & (HOOK_PRE | HOOK_IN)) !== 0) {
      return "policy match: output policy not valid in PREROUTING and INPUT";
    }
    if (this.dir === "in" && (c.hookMask & (HOOK_POST | HOOK_OUT)) !== 0) {
      return "policy match: input policy not valid in POSTROUTING and OUTPUT";
    }
    return null;
  }

  /** packet time: no IPsec state, so `--pol none` always holds (Linux policy_mt: ret -1 -> MATCH_NONE). */
  match(_skb: Skb, _env: RuleEnv): boolean {
    return true;
  }

  save(): string {
    return ` --dir ${this.dir} --pol none`;
  }

  print(): string {
    return ` policy match dir ${this.dir} pol none`;
  }
}
