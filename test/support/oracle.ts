/**
 * The kernel-oracle comparator: does ctnat's replay of a recorded scenario match what the Linux kernel
 * did? (../shared/reference/kernel-oracle.md, "How to compare"; the replay's files as
 * replay-contract.md defines them.)
 *
 *   const report = compareReplay("test/fixtures/kernel/masq-tcp", outDir);
 *   assert.ok(report.equal, formatReport(report));
 *
 * A fixture directory holds the kernel's side: out/IFACE.pcap (what the gateway sent), local.pcap (what it
 * delivered to itself), conntrack.txt, counters.v4, counters.v6. A replay directory holds ctnat's:
 * IFACE.pcap, local.pcap, conntrack.txt, counters.v4, counters.v6.
 *
 * - Packets, per interface and for local delivery: the kernel's sequence against ctnat's at layer 3,
 *   leaving out what the gateway cannot know of (ARP, neighbour discovery, router and MLD messages,
 *   link-local IPv6 sources, IGMP) and whatever `ignore` selects. Byte-identical, except that ports and
 *   ICMP ids chosen by NAT on a clash may differ through a consistent one-to-one renaming; a renamed
 *   packet must have correct checksums, which are recomputed and compared.
 * - Conntrack: entries matched by protocol + original tuple (+ conntrack zone); state, flags, mark, reply tuple (under the
 *   same renaming) and timeout within a slack compared. Entries at 0-1 s left may be missing on either
 *   side.
 * - Counters: per table, chain policy and rule (in order), packets and bytes, from `iptables-save -c`.
 */
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { type CapturedPacket, readCaptureBytes } from "./capture.js";
import {
  checksumAdjust,
  checksumProblems,
  computeL4Checksum,
  describe,
  fieldAt,
  ipv6String,
  isNeighbourNoise,
  type Layers,
  layers,
  PROTO_ICMP,
  PROTO_ICMPV6,
  PROTO_TCP,
  PROTO_UDP,
  PROTO_UDPLITE,
  protoName,
} from "./packet.js";

// ---- options and report ---------------------------------------------------------------------------

/** Which port / ICMP id differences may be explained by renaming. */
export type RenamePolicy =
  /** only values the kernel's NAT changed (its conntrack.txt shows a reply tuple whose port/id differs
   * from the original's), plus `renameable` */
  | "nat"
  /** any port or id (still consistent and one-to-one) */
  | "any"
  /** none: byte-identical */
  | "none";

export interface CompareOptions {
  /** seconds of slack on conntrack timeouts (default 3) */
  timeoutSlack?: number;
  /** leave out packets for which this returns true (called for kernel and ctnat packets alike) */
  ignore?: (ip: Uint8Array, where: string) => boolean;
  /** default "nat" */
  rename?: RenamePolicy;
  /** extra kernel values that may be renamed: ports (TCP/UDP) or ICMP ids, optionally per protocol number */
  renameable?: { proto?: number; value: number }[];
  /**
   * the gateway's own addresses (default: read from the fixture's addr.json). Packets the gateway makes
   * itself carry fields Linux draws from secrets: the IPv4 identification of packets sent without DF
   * (ICMP errors, echo and timestamp replies: __ip_select_ident) and the IPv6 flow label (an automatic,
   * keyed label). For kernel packets sourced from these addresses, ctnat's values of those fields are
   * taken as the kernel's (the IPv4 header checksum recomputed) before comparing.
   */
  gatewayAddresses?: Set<string>;
  /** what to compare (all true by default) */
  packets?: boolean;
  local?: boolean;
  conntrack?: boolean;
  counters?: boolean;
}

/** A packet as printed in a report: index in the compared sequence, capture time, tcpdump-like line. */
export interface PacketLine {
  index: number;
  time: number;
  line: string;
}

export interface SequenceReport {
  /** interface name, or "local" */
  name: string;
  kernelCount: number;
  ctnatCount: number;
  /** positions where the packets are equal (after renaming) */
  matched: number;
  equal: boolean;
  /** the first differing position */
  first?: {
    index: number;
    reason: string;
    kernel?: PacketLine;
    ctnat?: PacketLine;
  };
  /** a file could not be read */
  error?: string;
}

export interface ConntrackDiff {
  kind: "missing" | "extra" | "differs";
  /** protocol and original tuple */
  key: string;
  kernel?: string;
  ctnat?: string;
  /** what differs, e.g. "state TIME_WAIT != CLOSE", "timeout 117 vs 107" */
  details: string[];
}

export interface CounterDiff {
  table: string;
  chain: string;
  /** "policy", or the rule's text ("-A FORWARD ...") with its position in the chain */
  what: string;
  kernel?: string;
  ctnat?: string;
}

export interface Rename {
  /** protocol name and the address pair/port the value belongs to */
  context: string;
  /** the binding itself: protocol number, the address the value belongs to, the other endpoint */
  proto: number;
  addr: string;
  remote: string;
  kernel: number;
  ctnat: number;
}

export interface OracleReport {
  equal: boolean;
  sequences: SequenceReport[];
  conntrack: { equal: boolean; kernelCount: number; ctnatCount: number; diffs: ConntrackDiff[]; error?: string };
  counters: { equal: boolean; diffs: CounterDiff[]; error?: string };
  renames: Rename[];
}

// ---- renaming -------------------------------------------------------------------------------------

/**
 * A consistent one-to-one renaming of NAT-chosen values (ports, ICMP ids), from the kernel's value to
 * ctnat's, kept per context: the protocol, the address the value belongs to, and the other endpoint (a
 * NAT tuple is unique only per remote endpoint, so the same port may be chosen for two remotes).
 */
export class Renamer {
  private readonly k2c = new Map<string, number>();
  private readonly c2k = new Map<string, number>();
  private readonly allowed: Set<string>;
  readonly policy: RenamePolicy;
  readonly applied: Rename[] = [];

  constructor(policy: RenamePolicy, allowed: Set<string>) {
    this.policy = policy;
    this.allowed = allowed;
  }

  static key(proto: number, addr: string, value: number): string {
    return `${proto}|${addr}|${value}`;
  }

  /** Let the kernel's `value` of `addr` ("*": any address) be renamed under the "nat" policy. */
  allow(proto: number, addr: string, value: number): void {
    this.allowed.add(Renamer.key(proto, addr, value));
  }

  /** May the kernel's `value` (of `addr`, protocol `proto`) be renamed at all? */
  renameable(proto: number, addr: string, value: number): boolean {
    if (this.policy === "none") return false;
    if (this.policy === "any" || proto === FRAG_ID) return true;
    return this.allowed.has(Renamer.key(proto, addr, value)) || this.allowed.has(Renamer.key(proto, "*", value));
  }

  /**
   * Record (or check) that the kernel's `k` corresponds to ctnat's `c` in `context`. Returns "" when
   * consistent, else the reason.
   */
  bind(proto: number, addr: string, context: string, k: number, c: number): string {
    const ck = `${proto}|${addr}|${context}`;
    const kk = `${ck}|k${k}`;
    const cc = `${ck}|c${c}`;
    const have = this.k2c.get(kk);
    const back = this.c2k.get(cc);
    if (have === undefined && back === undefined) {
      if (k !== c && !this.renameable(proto, addr, k)) {
        return `${k} -> ${c} is not a NAT-chosen value (rename policy "${this.policy}")`;
      }
      this.k2c.set(kk, c);
      this.c2k.set(cc, k);
      if (k !== c)
        this.applied.push({
          context: `${protoName(proto, addr.includes(":") ? 6 : 4)} ${addr} ${context}`,
          proto,
          addr,
          remote: context,
          kernel: k,
          ctnat: c,
        });
      return "";
    }
    if (have !== undefined && have !== c)
      return `inconsistent renaming: kernel ${k} was renamed ${have} before, now ${c}`;
    if (back !== undefined && back !== k)
      return `renaming not one-to-one: ctnat ${c} already stands for kernel ${back}, now ${k}`;
    return "";
  }
}

// ---- packets --------------------------------------------------------------------------------------

export interface RenameField {
  /** offset of the value in the packet (16-bit, or 32-bit when `wide`) */
  off: number;
  /** a 32-bit value (IPv6 fragment identification) */
  wide?: boolean;
  proto: number;
  /** the address the value belongs to, and the context (other endpoint) */
  addr: string;
  context: string;
  /** offsets of checksums to adjust incrementally (inner headers of ICMP errors) */
  adjust: number[];
}

function u16(b: Uint8Array, o: number): number {
  return (b[o] << 8) | b[o + 1];
}

function u32(b: Uint8Array, o: number): number {
  return ((b[o] << 24) | (b[o + 1] << 16) | (b[o + 2] << 8) | b[o + 3]) >>> 0;
}

/** pseudo protocol number of IPv6 fragment identifications in renamings (the fragment header's number) */
export const FRAG_ID = 44;

function fieldValue(b: Uint8Array, f: RenameField): number {
  return f.wide ? u32(b, f.off) : u16(b, f.off);
}

const ECHO_REQ_V4 = new Set([8, 13, 15, 17]);
const ECHO_REP_V4 = new Set([0, 14, 16, 18]);

/** The fields of packet `b` (layers `L`) that renaming may touch; `base` offsets inner packets. */
export function renameFields(b: Uint8Array, L: Layers, base: number, inner: boolean, out: RenameField[]): void {
  // IPv6 fragment identification: Linux draws it at random when the gateway fragments (ipv6_select_ident)
  if (!inner && L.fragHdrOff >= 0 && b.length >= L.fragHdrOff + 8) {
    out.push({ off: base + L.fragHdrOff + 4, wide: true, proto: FRAG_ID, addr: L.src, context: L.dst, adjust: [] });
  }
  const o = L.l4Off;
  if (o < 0) return;
  const at = base + o;
  switch (L.proto) {
    case PROTO_TCP:
    case PROTO_UDP:
    case PROTO_UDPLITE: {
      if (b.length < o + 4) return;
      const sp = u16(b, o);
      const dp = u16(b, o + 2);
      // inner transport checksums of an ICMP error are updated incrementally (they may be truncated)
      let adjust: number[] = [];
      if (inner) {
        const co = L.proto === PROTO_TCP ? o + 16 : o + 6;
        const zeroUdp = L.proto === PROTO_UDP && b.length >= co + 2 && u16(b, co) === 0;
        adjust = b.length >= co + 2 && !zeroUdp ? [base + co] : [];
      }
      out.push({ off: at, proto: L.proto, addr: L.src, context: `${L.dst}.${dp}`, adjust });
      out.push({ off: at + 2, proto: L.proto, addr: L.dst, context: `${L.src}.${sp}`, adjust });
      return;
    }
    case PROTO_ICMP:
    case PROTO_ICMPV6: {
      if (b.length < o + 8) return;
      const type = b[o];
      const v6 = L.proto === PROTO_ICMPV6;
      const req = v6 ? type === 128 || type === 139 : ECHO_REQ_V4.has(type);
      const rep = v6 ? type === 129 || type === 140 : ECHO_REP_V4.has(type);
      const adjust = inner ? [base + o + 2] : [];
      if (req) out.push({ off: at + 4, proto: L.proto, addr: L.src, context: L.dst, adjust });
      else if (rep) out.push({ off: at + 4, proto: L.proto, addr: L.dst, context: L.src, adjust });
      else if (!inner) {
        const err = v6 ? type >= 1 && type <= 4 : type === 3 || type === 4 || type === 5 || type === 11 || type === 12;
        if (err) {
          const ib = b.subarray(o + 8);
          const IL = layers(ib);
          if (IL) renameFields(ib, IL, base + o + 8, true, out);
        }
      }
      return;
    }
  }
}

/**
 * Compare one kernel packet with ctnat's: "" when equal (possibly after renaming), else the reason.
 * Bindings are only recorded when the packets match.
 */
export function comparePacket(k: Uint8Array, c: Uint8Array, renamer: Renamer): string {
  if (k.length === c.length && k.every((x, i) => x === c[i])) return "";
  const firstDiff = (a: Uint8Array, b: Uint8Array): number => {
    const n = Math.min(a.length, b.length);
    for (let i = 0; i < n; i++) if (a[i] !== b[i]) return i;
    return n;
  };
  const plain = (): string => {
    if (k.length !== c.length) {
      const d = firstDiff(k, c);
      return `length ${k.length} vs ${c.length}${d < Math.min(k.length, c.length) ? `; first difference at byte ${d} (${fieldAt(k, d)})` : ""}`;
    }
    const d = firstDiff(k, c);
    return `byte ${d} (${fieldAt(k, d)}): kernel 0x${k[d].toString(16).padStart(2, "0")}, ctnat 0x${c[d].toString(16).padStart(2, "0")}`;
  };
  if (k.length !== c.length || renamer.policy === "none") return plain();
  const KL = layers(k);
  const CL = layers(c);
  if (!KL || !CL) return plain();
  const fields: RenameField[] = [];
  renameFields(k, KL, 0, false, fields);
  const diffs = fields.filter((f) => fieldValue(k, f) !== fieldValue(c, f));
  if (diffs.length === 0) return plain();
  // Build ctnat's packet with the kernel's values put back, then recompute its checksums.
  const problems = checksumProblems(c);
  const r = c.slice();
  for (const f of diffs) {
    if (f.wide) {
      r.set(k.subarray(f.off, f.off + 4), f.off);
      continue;
    }
    const kv = u16(k, f.off);
    const cv = u16(c, f.off);
    r[f.off] = kv >> 8;
    r[f.off + 1] = kv & 0xff;
    for (const a of f.adjust) {
      const v = checksumAdjust(u16(r, a), cv, kv);
      r[a] = v >> 8;
      r[a + 1] = v & 0xff;
    }
  }
  const RL = layers(r)!;
  const co = RL.l4Off >= 0 ? computeL4Checksum(r, RL) : -1;
  if (co >= 0) {
    const off =
      RL.proto === PROTO_TCP
        ? RL.l4Off + 16
        : RL.proto === PROTO_ICMP || RL.proto === PROTO_ICMPV6
          ? RL.l4Off + 2
          : RL.l4Off + 6;
    const zeroUdp = RL.proto === PROTO_UDP && RL.family === 4 && u16(c, off) === 0;
    if (!zeroUdp) {
      r[off] = co >> 8;
      r[off + 1] = co & 0xff;
    }
  }
  const d = firstDiff(k, r);
  if (d < k.length) {
    return `byte ${d} (${fieldAt(k, d)}): kernel 0x${k[d].toString(16).padStart(2, "0")}, ctnat 0x${c[d].toString(16).padStart(2, "0")}${diffs.length ? " (after renaming ports/ids)" : ""}`;
  }
  if (problems) return `ctnat's packet has bad checksums: ${problems}`;
  for (const f of diffs) {
    const why = renamer.bind(f.proto, f.addr, f.context, fieldValue(k, f), fieldValue(c, f));
    if (why) return `${fieldAt(k, f.off)}: ${why}`;
  }
  return "";
}

function line(p: CapturedPacket, index: number): PacketLine {
  return { index, time: p.time, line: describe(p.l3) };
}

/**
 * maskGatewayFields: `c` with the fields Linux draws from secrets taken from `k`, for the kinds of packet
 * the gateway makes itself: the IPv4 identification of an ICMP message sent without DF (errors, echo and
 * timestamp replies: __ip_select_ident, a keyed hash), with the header checksum recomputed if ctnat's was
 * right; the IPv6 flow label of an ICMPv6 message or a TCP RST (an automatic, keyed label). Their source
 * is not always one of the gateway's addresses: NAT translates errors and RSTs about NATed flows back. A
 * forwarded packet keeps these fields, and ctnat never changes them when forwarding, so masking them
 * hides nothing ctnat could get wrong. `gw` (the gateway's addresses) widens the IPv6 rule to any packet
 * sourced from the gateway.
 */
export function maskGatewayFields(k: Uint8Array, c: Uint8Array, gw: Set<string>): Uint8Array {
  if (k.length < 28 || c.length < 28 || k[0] >> 4 !== c[0] >> 4) return c;
  if (k[0] >> 4 === 4) {
    if (k[9] !== 1 || c[9] !== 1 || (k[6] & 0x40) !== 0 || (c[6] & 0x40) !== 0) return c;
    if (k[4] === c[4] && k[5] === c[5]) return c;
    const hl = (c[0] & 0x0f) * 4;
    if (hl < 20 || hl > c.length) return c;
    const okBefore = headerSum(c, hl) === 0xffff;
    const r = c.slice();
    r[4] = k[4];
    r[5] = k[5];
    if (okBefore) {
      r[10] = 0;
      r[11] = 0;
      const x = ~headerSum(r, hl) & 0xffff;
      r[10] = x >> 8;
      r[11] = x & 0xff;
    }
    return r;
  }
  if (c.length < 40 || k.length < 40) return c;
  if ((k[1] & 0x0f) === (c[1] & 0x0f) && k[2] === c[2] && k[3] === c[3]) return c;
  const L = layers(k);
  const rst =
    L !== undefined &&
    L.proto === PROTO_TCP &&
    L.l4Off >= 0 &&
    k.length > L.l4Off + 13 &&
    (k[L.l4Off + 13] & 0x04) !== 0;
  const icmp6 = L !== undefined && L.proto === PROTO_ICMPV6;
  if (!rst && !icmp6 && !gw.has(ipv6String(k, 8))) return c;
  const r = c.slice();
  r[1] = (r[1] & 0xf0) | (k[1] & 0x0f);
  r[2] = k[2];
  r[3] = k[3];
  return r;
}

function headerSum(b: Uint8Array, hl: number): number {
  let sum = 0;
  for (let i = 0; i < hl; i += 2) sum += (b[i] << 8) | b[i + 1];
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
  return sum;
}

/** gatewayAddressesOf: the local addresses an `ip -j addr` file lists, as text. */
export function gatewayAddressesOf(addrJson: string): Set<string> {
  const out = new Set<string>();
  try {
    for (const link of JSON.parse(addrJson) as { addr_info?: { local?: string }[] }[]) {
      for (const a of link.addr_info ?? []) if (typeof a.local === "string") out.add(a.local);
    }
  } catch {
    // not JSON: no gateway addresses known
  }
  return out;
}

/** Compare two packet sequences (already filtered) position by position. */
export function compareSequence(
  name: string,
  kernel: CapturedPacket[],
  ctnat: CapturedPacket[],
  renamer: Renamer,
  gateway: Set<string> = new Set(),
): SequenceReport {
  const rep: SequenceReport = {
    name,
    kernelCount: kernel.length,
    ctnatCount: ctnat.length,
    matched: 0,
    equal: true,
  };
  const n = Math.max(kernel.length, ctnat.length);
  for (let i = 0; i < n; i++) {
    const k = kernel[i];
    const c = ctnat[i];
    let reason: string;
    if (!k) reason = "extra packet in ctnat's output";
    else if (!c) reason = "packet missing from ctnat's output";
    else reason = comparePacket(k.l3, maskGatewayFields(k.l3, c.l3, gateway), renamer);
    if (!reason) {
      rep.matched++;
      continue;
    }
    if (!rep.first) {
      // Say whether the sequences merely shifted (a packet missing or added) at this point.
      const probe = new Renamer(renamer.policy === "none" ? "none" : "any", new Set());
      if (k && c && kernel[i + 1] && !comparePacket(kernel[i + 1].l3, c.l3, probe)) {
        reason = `packet missing from ctnat's output (ctnat's next packet is the kernel's #${i + 1}); ${reason}`;
      } else if (k && c && ctnat[i + 1] && !comparePacket(k.l3, ctnat[i + 1].l3, probe)) {
        reason = `extra packet in ctnat's output (ctnat's #${i + 1} is the kernel's #${i}); ${reason}`;
      }
      rep.first = {
        index: i,
        reason,
        kernel: k ? line(k, i) : undefined,
        ctnat: c ? line(c, i) : undefined,
      };
    }
    rep.equal = false;
  }
  return rep;
}

function loadPackets(file: string, where: string, opts: CompareOptions): CapturedPacket[] {
  const all = readCaptureBytes(new Uint8Array(readFileSync(file)));
  return all.filter((p) => !p.nonIp && !isNeighbourNoise(p.l3) && !(opts.ignore?.(p.l3, where) ?? false));
}

// ---- conntrack ------------------------------------------------------------------------------------

/** One `conntrack -L` line, split into its parts. */
export interface CtEntry {
  line: string;
  /** l4 protocol name and number ("tcp", 6) */
  proto: string;
  protonum: number;
  timeout: number;
  /** TCP/SCTP/DCCP state word, "" when none */
  state: string;
  orig: [string, string][];
  reply: [string, string][];
  /** bracketed flags ([UNREPLIED], [ASSURED], [OFFLOAD]...) */
  flags: string[];
  /** other key=value fields after the tuples (mark, zone, secctx, labels...; use is left out) */
  extra: [string, string][];
}

/** Parse `conntrack -L` output (lines other than entries, like the summary, are skipped). */
export function parseConntrack(text: string): CtEntry[] {
  const out: CtEntry[] = [];
  for (const raw of text.split("\n")) {
    const line = raw.trim();
    if (!line || line.startsWith("conntrack v")) continue;
    const tok = line.split(/\s+/);
    let i = 0;
    // optional "-o extended" prefix: l3name l3num
    if ((tok[0] === "ipv4" || tok[0] === "ipv6") && /^\d+$/.test(tok[1])) i = 2;
    const proto = tok[i];
    const protonum = Number(tok[i + 1]);
    const timeout = Number(tok[i + 2]);
    i += 3;
    let state = "";
    if (i < tok.length && !tok[i].includes("=") && !tok[i].startsWith("[")) state = tok[i++];
    const e: CtEntry = { line, proto, protonum, timeout, state, orig: [], reply: [], flags: [], extra: [] };
    let part = 0; // 0 before/in orig, 1 in reply, 2 after
    for (; i < tok.length; i++) {
      const t = tok[i];
      if (t.startsWith("[")) {
        e.flags.push(t);
        continue;
      }
      const eq = t.indexOf("=");
      if (eq < 0) continue;
      const k = t.slice(0, eq);
      const v = t.slice(eq + 1);
      if (k === "src" && e.orig.length > 0) part = 1;
      const tupleKey =
        k === "src" ||
        k === "dst" ||
        k === "sport" ||
        k === "dport" ||
        k === "type" ||
        k === "code" ||
        k === "id" ||
        k === "srckey" ||
        k === "dstkey";
      if (tupleKey && part === 0) e.orig.push([k, v]);
      else if (tupleKey && part === 1) e.reply.push([k, v]);
      else {
        if (k === "zone-orig" || k === "zone-reply" || k === "packets" || k === "bytes") {
          e.extra.push([`${k}${part === 0 ? "" : ".reply"}`, v]);
          continue;
        }
        part = 2;
        if (k !== "use" && k !== "id") e.extra.push([k, v]);
      }
    }
    out.push(e);
  }
  return out;
}

function tupleString(t: [string, string][]): string {
  return t.map(([k, v]) => `${k}=${v}`).join(" ");
}

function ctKey(e: CtEntry): string {
  // the zone is part of a connection's identity: one tuple may have an entry in several zones
  const zones = e.extra.filter(([k]) => k.startsWith("zone"));
  return `${e.proto} ${tupleString(e.orig)}${zones.length ? ` ${tupleString(zones)}` : ""}`;
}

function tupleGet(t: [string, string][], k: string): string | undefined {
  return t.find(([x]) => x === k)?.[1];
}

/** Collect the kernel's NAT-chosen values from its conntrack table (for the "nat" rename policy). */
export function natChosenValues(entries: CtEntry[]): Set<string> {
  const s = new Set<string>();
  for (const e of entries) {
    const oSport = tupleGet(e.orig, "sport");
    const oDport = tupleGet(e.orig, "dport");
    const rSport = tupleGet(e.reply, "sport");
    const rDport = tupleGet(e.reply, "dport");
    const rSrc = tupleGet(e.reply, "src") ?? "";
    const rDst = tupleGet(e.reply, "dst") ?? "";
    if (oSport !== undefined && rDport !== undefined && oSport !== rDport) {
      s.add(Renamer.key(e.protonum, rDst, Number(rDport)));
    }
    if (oDport !== undefined && rSport !== undefined && oDport !== rSport) {
      s.add(Renamer.key(e.protonum, rSrc, Number(rSport)));
    }
    const oId = tupleGet(e.orig, "id");
    const rId = tupleGet(e.reply, "id");
    if (oId !== undefined && rId !== undefined && oId !== rId) s.add(Renamer.key(e.protonum, rDst, Number(rId)));
  }
  return s;
}

/** Compare two conntrack tables (kernel's and ctnat's). */
export function compareConntrack(
  kernel: CtEntry[],
  ctnat: CtEntry[],
  renamer: Renamer,
  slack = 3,
): { equal: boolean; kernelCount: number; ctnatCount: number; diffs: ConntrackDiff[] } {
  const diffs: ConntrackDiff[] = [];
  const byKey = new Map<string, CtEntry>();
  for (const e of ctnat) byKey.set(ctKey(e), e);
  const seen = new Set<string>();
  for (const k of kernel) {
    const key = ctKey(k);
    const c = byKey.get(key);
    if (!c) {
      if (k.timeout > 1)
        diffs.push({
          kind: "missing",
          key,
          kernel: k.line,
          details: ["no entry with this original tuple in ctnat's table"],
        });
      continue;
    }
    seen.add(key);
    const details: string[] = [];
    if (k.state !== c.state) details.push(`state ${k.state || "-"} vs ${c.state || "-"}`);
    const kf = [...k.flags].sort().join(" ");
    const cf = [...c.flags].sort().join(" ");
    if (kf !== cf) details.push(`flags ${kf || "-"} vs ${cf || "-"}`);
    if (Math.abs(k.timeout - c.timeout) > slack)
      details.push(`timeout ${k.timeout} vs ${c.timeout} (slack ${slack} s)`);
    const ke = tupleString(k.extra);
    const ce = tupleString(c.extra);
    if (ke !== ce) details.push(`fields "${ke}" vs "${ce}"`);
    const why = compareReplyTuple(k, c, renamer);
    if (why) details.push(why);
    if (details.length) diffs.push({ kind: "differs", key, kernel: k.line, ctnat: c.line, details });
  }
  for (const c of ctnat) {
    const key = ctKey(c);
    if (seen.has(key) || c.timeout <= 1) continue;
    if (kernel.some((k) => ctKey(k) === key)) continue;
    diffs.push({ kind: "extra", key, ctnat: c.line, details: ["not in the kernel's table"] });
  }
  return { equal: diffs.length === 0, kernelCount: kernel.length, ctnatCount: ctnat.length, diffs };
}

function compareReplyTuple(k: CtEntry, c: CtEntry, renamer: Renamer): string {
  const ks = tupleString(k.reply);
  const cs = tupleString(c.reply);
  if (ks === cs) return "";
  if (k.reply.length !== c.reply.length || k.reply.some(([key], i) => c.reply[i][0] !== key)) {
    return `reply tuple "${ks}" vs "${cs}"`;
  }
  const src = tupleGet(k.reply, "src") ?? "";
  const dst = tupleGet(k.reply, "dst") ?? "";
  for (let i = 0; i < k.reply.length; i++) {
    const [key, kv] = k.reply[i];
    const cv = c.reply[i][1];
    if (kv === cv) continue;
    let why: string;
    if (key === "dport")
      why = renamer.bind(k.protonum, dst, `${src}.${tupleGet(k.reply, "sport")}`, Number(kv), Number(cv));
    else if (key === "sport")
      why = renamer.bind(k.protonum, src, `${dst}.${tupleGet(k.reply, "dport")}`, Number(kv), Number(cv));
    else if (key === "id") why = renamer.bind(k.protonum, dst, src, Number(kv), Number(cv));
    else why = `reply ${key}=${kv} vs ${cv}`;
    if (why) return `reply tuple "${ks}" vs "${cs}": ${why}`;
  }
  return "";
}

// ---- counters -------------------------------------------------------------------------------------

export interface CounterTable {
  name: string;
  /** chain -> "[p:b]" for built-in chains' policies (user chains have none that counts) */
  policies: Map<string, string>;
  /** chain -> rules in order: [rule text, "[p:b]"] */
  rules: Map<string, [string, string][]>;
}

/** Parse `iptables-save -c` text. # comments are ignored. */
export function parseCounters(text: string): CounterTable[] {
  const tables: CounterTable[] = [];
  let cur: CounterTable | undefined;
  for (const raw of text.split("\n")) {
    const line = raw.trim();
    if (!line || line.startsWith("#")) continue;
    if (line.startsWith("*")) {
      cur = { name: line.slice(1), policies: new Map(), rules: new Map() };
      tables.push(cur);
      continue;
    }
    if (!cur || line === "COMMIT") continue;
    if (line.startsWith(":")) {
      const m = /^:(\S+)\s+(\S+)\s*(\[\d+:\d+\])?/.exec(line);
      if (m) {
        if (m[2] !== "-") cur.policies.set(m[1], `${m[2]} ${m[3] ?? "[0:0]"}`);
        if (!cur.rules.has(m[1])) cur.rules.set(m[1], []);
      }
      continue;
    }
    let counter = "[0:0]";
    let rule = line;
    const m = /^(\[\d+:\d+\])\s+(.*)$/.exec(line);
    if (m) {
      counter = m[1];
      rule = m[2];
    } else {
      // "-c p b" inside the rule (iptables-save -c of some versions)
      const c = /\s-c\s+(\d+)\s+(\d+)/.exec(line);
      if (c) {
        counter = `[${c[1]}:${c[2]}]`;
        rule = line.replace(c[0], "");
      }
    }
    rule = rule.replace(/\s+/g, " ");
    const chain = /^-A\s+(\S+)/.exec(rule)?.[1] ?? "?";
    if (!cur.rules.has(chain)) cur.rules.set(chain, []);
    cur.rules.get(chain)!.push([rule, counter]);
  }
  return tables;
}

/** Compare counters per table, chain policy and rule. */
export function compareCounters(
  kernel: CounterTable[],
  ctnat: CounterTable[],
): { equal: boolean; diffs: CounterDiff[] } {
  const diffs: CounterDiff[] = [];
  const cBy = new Map(ctnat.map((t) => [t.name, t]));
  const kBy = new Map(kernel.map((t) => [t.name, t]));
  for (const k of kernel) {
    const c = cBy.get(k.name);
    if (!c) {
      // an absent table equals a table whose counters are all zero and policies ACCEPT
      const nonZero =
        [...k.policies].some(([, v]) => !v.endsWith("[0:0]")) || [...k.rules.values()].some((r) => r.length > 0);
      if (nonZero) diffs.push({ table: k.name, chain: "*", what: "table", kernel: "present", ctnat: "absent" });
      continue;
    }
    for (const [chain, pol] of k.policies) {
      const cp = c.policies.get(chain);
      if (cp !== pol) diffs.push({ table: k.name, chain, what: "policy", kernel: pol, ctnat: cp });
    }
    const chains = new Set([...k.rules.keys(), ...c.rules.keys()]);
    for (const chain of chains) {
      const kr = k.rules.get(chain) ?? [];
      const cr = c.rules.get(chain) ?? [];
      const n = Math.max(kr.length, cr.length);
      for (let i = 0; i < n; i++) {
        const a = kr[i];
        const b = cr[i];
        if (a && b && a[0] === b[0] && a[1] === b[1]) continue;
        diffs.push({
          table: k.name,
          chain,
          what: `rule ${i + 1}: ${(a ?? b)[0]}`,
          kernel: a ? (b && a[0] !== b[0] ? `${a[1]} ${a[0]}` : a[1]) : undefined,
          ctnat: b ? (a && a[0] !== b[0] ? `${b[1]} ${b[0]}` : b[1]) : undefined,
        });
      }
    }
  }
  for (const c of ctnat) {
    if (kBy.has(c.name)) continue;
    const nonZero =
      [...c.policies].some(([, v]) => !v.endsWith("[0:0]")) ||
      [...c.rules.values()].some((r) => r.some(([, x]) => x !== "[0:0]"));
    if (nonZero)
      diffs.push({ table: c.name, chain: "*", what: "table", kernel: "absent", ctnat: "present with counters" });
  }
  return { equal: diffs.length === 0, diffs };
}

// ---- the whole comparison -------------------------------------------------------------------------

function readText(file: string): string | undefined {
  return existsSync(file) ? readFileSync(file, "utf8") : undefined;
}

/** Compare ctnat's replay outputs in `replayDir` with the kernel's recording in `fixtureDir`. */
export function compareReplay(fixtureDir: string, replayDir: string, opts: CompareOptions = {}): OracleReport {
  const kernelCt = parseConntrack(readText(join(fixtureDir, "conntrack.txt")) ?? "");
  const renamer = new Renamer(opts.rename ?? "nat", natChosenValues(kernelCt));
  for (const r of opts.renameable ?? []) {
    for (const p of r.proto === undefined
      ? [PROTO_TCP, PROTO_UDP, PROTO_UDPLITE, PROTO_ICMP, PROTO_ICMPV6]
      : [r.proto]) {
      renamer.allow(p, "*", r.value);
    }
  }
  const gateway = opts.gatewayAddresses ?? gatewayAddressesOf(readText(join(fixtureDir, "addr.json")) ?? "[]");
  const sequences: SequenceReport[] = [];
  const seq = (name: string, kFile: string, cFile: string) => {
    try {
      const k = existsSync(kFile) ? loadPackets(kFile, name, opts) : [];
      if (!existsSync(cFile)) {
        sequences.push({
          name,
          kernelCount: k.length,
          ctnatCount: 0,
          matched: 0,
          equal: k.length === 0,
          error: k.length ? `${cFile}: missing` : undefined,
          first: k.length
            ? { index: 0, reason: "ctnat wrote no capture for this interface", kernel: line(k[0], 0) }
            : undefined,
        });
        return;
      }
      sequences.push(compareSequence(name, k, loadPackets(cFile, name, opts), renamer, gateway));
    } catch (e) {
      sequences.push({ name, kernelCount: 0, ctnatCount: 0, matched: 0, equal: false, error: (e as Error).message });
    }
  };
  if (opts.packets ?? true) {
    const outDir = join(fixtureDir, "out");
    const ifaces = existsSync(outDir)
      ? readdirSync(outDir)
          .filter((f) => f.endsWith(".pcap"))
          .sort()
      : [];
    for (const f of ifaces) seq(f.slice(0, -5), join(outDir, f), join(replayDir, f));
  }
  if (opts.local ?? true) seq("local", join(fixtureDir, "local.pcap"), join(replayDir, "local.pcap"));

  let conntrack: OracleReport["conntrack"] = { equal: true, kernelCount: kernelCt.length, ctnatCount: 0, diffs: [] };
  if (opts.conntrack ?? true) {
    const text = readText(join(replayDir, "conntrack.txt"));
    if (text === undefined) {
      conntrack = {
        equal: false,
        kernelCount: kernelCt.length,
        ctnatCount: 0,
        diffs: [],
        error: "conntrack.txt missing from the replay output",
      };
    } else {
      conntrack = compareConntrack(kernelCt, parseConntrack(text), renamer, opts.timeoutSlack ?? 3);
    }
  }
  let counters: OracleReport["counters"] = { equal: true, diffs: [] };
  if (opts.counters ?? true) {
    const diffs: CounterDiff[] = [];
    const errors: string[] = [];
    for (const f of ["counters.v4", "counters.v6"]) {
      const k = readText(join(fixtureDir, f)) ?? "";
      const c = readText(join(replayDir, f));
      if (c === undefined) {
        if (parseCounters(k).length) errors.push(`${f} missing from the replay output`);
        continue;
      }
      for (const d of compareCounters(parseCounters(k), parseCounters(c)).diffs) {
        diffs.push({ ...d, table: `${f === "counters.v4" ? "ip" : "ip6"} ${d.table}` });
      }
    }
    counters = {
      equal: diffs.length === 0 && errors.length === 0,
      diffs,
      error: errors.length ? errors.join("; ") : undefined,
    };
  }
  const equal = sequences.every((s) => s.equal) && conntrack.equal && counters.equal;
  return { equal, sequences, conntrack, counters, renames: renamer.applied };
}

// ---- the readable diff ----------------------------------------------------------------------------

function pl(who: string, p: PacketLine | undefined): string {
  return p ? `    ${who} #${p.index} ${p.time.toFixed(6)} ${p.line}` : `    ${who} (none)`;
}

/** A readable account of a report: what matched, and the first difference of each part. */
export function formatReport(r: OracleReport): string {
  const out: string[] = [];
  out.push(r.equal ? "oracle: ctnat matches the kernel" : "oracle: ctnat differs from the kernel");
  for (const s of r.sequences) {
    const head = `  ${s.name}: ${s.matched}/${s.kernelCount} kernel packets matched, ctnat sent ${s.ctnatCount}`;
    if (s.equal) {
      out.push(`${head}: equal`);
      continue;
    }
    out.push(`${head}${s.error ? ` (${s.error})` : ""}`);
    if (s.first) {
      out.push(`    first difference at #${s.first.index}: ${s.first.reason}`);
      out.push(pl("kernel", s.first.kernel));
      out.push(pl("ctnat ", s.first.ctnat));
    }
  }
  const ct = r.conntrack;
  out.push(
    `  conntrack: ${ct.kernelCount} kernel entries, ${ct.ctnatCount} ctnat entries: ${ct.equal ? "equal" : "differ"}${ct.error ? ` (${ct.error})` : ""}`,
  );
  for (const d of ct.diffs) {
    out.push(`    ${d.kind}: ${d.key}: ${d.details.join("; ")}`);
    if (d.kernel) out.push(`      kernel: ${d.kernel}`);
    if (d.ctnat) out.push(`      ctnat:  ${d.ctnat}`);
  }
  out.push(`  counters: ${r.counters.equal ? "equal" : "differ"}${r.counters.error ? ` (${r.counters.error})` : ""}`);
  for (const d of r.counters.diffs) {
    out.push(`    ${d.table} ${d.chain} ${d.what}: kernel ${d.kernel ?? "(none)"}, ctnat ${d.ctnat ?? "(none)"}`);
  }
  if (r.renames.length) {
    out.push("  renamed (kernel -> ctnat):");
    for (const n of r.renames) out.push(`    ${n.context}: ${n.kernel} -> ${n.ctnat}`);
  }
  return out.join("\n");
}
