/**
 * Reading IP sets: the text `ipset save` prints (`create NAME TYPE options` and `add NAME ELEMENT
 * options` lines, which is also what `ipset restore` reads), or the `ipset list` listing (Name:, Type:,
 * Header:, Members: blocks), into an IpsetRegistry. Every error is an IpsetError with file, line and
 * column. Load time only.
 *
 * Elements are read as ipset reads them: addresses, `a.b.c.d/len` and `a.b.c.d-e.f.g.h` ranges (expanded
 * per address for hash:ip, at its netmask's step; split into prefixes for the net types), ports as
 * `[proto:]port[-port]` (tcp by default; ICMP as `icmp:type/code` or its ipset name), with the options
 * timeout, nomatch, packets, bytes, comment and skb* (the last ones kept in the text only).
 */
import { InputError } from "../../core/errors.js";
import { parseIpv4, parseIpv6 } from "../addr.js";
import { tokenizeLine } from "../lexer.js";
import { parseProtocol } from "../proto.js";
import { parsePort } from "../util.js";
import { BitmapPortSet, HashSet, type IpSet, ListSet, SET_TYPE_NAMES, SetKind, UnsupportedSet } from "./sets.js";

/** IpsetError: a set file could not be read (file, line, column; one line). */
export class IpsetError extends InputError {
  override readonly name: string = "IpsetError";
  readonly reason: string;
  constructor(reason: string, file: string, line: number, column: number) {
    super(reason, { file, line, column });
    this.reason = reason;
  }
}

/** IpsetRegistry: the sets of one network namespace by name (the `--ipsets` input). */
export class IpsetRegistry {
  readonly sets: Map<string, IpSet> = new Map();
  /** the file the sets came from (messages) */
  file = "";
  private anchored = false;
  /** get: a set by name, or undefined. */
  get(name: string): IpSet | undefined {
    return this.sets.get(name);
  }
  /**
   * touch: the first use of the sets at time `now` (seconds) starts the clock of the loaded timeouts.
   * Hot path: a flag test after the first call.
   */
  touch(now: number): void {
    if (this.anchored) return;
    this.anchored = true;
    for (const s of this.sets.values()) s.anchor(now);
  }
}

// ipset's names for ICMP and ICMPv6 type/code pairs
const ICMP_NAMES: readonly [string, number][] = [
  ["echo-reply", 0x0000],
  ["pong", 0x0000],
  ["network-unreachable", 0x0300],
  ["host-unreachable", 0x0301],
  ["protocol-unreachable", 0x0302],
  ["port-unreachable", 0x0303],
  ["fragmentation-needed", 0x0304],
  ["source-route-failed", 0x0305],
  ["network-unknown", 0x0306],
  ["host-unknown", 0x0307],
  ["network-prohibited", 0x0309],
  ["host-prohibited", 0x030a],
  ["TOS-network-unreachable", 0x030b],
  ["TOS-host-unreachable", 0x030c],
  ["communication-prohibited", 0x030d],
  ["host-precedence-violation", 0x030e],
  ["precedence-cutoff", 0x030f],
  ["source-quench", 0x0400],
  ["network-redirect", 0x0500],
  ["host-redirect", 0x0501],
  ["TOS-network-redirect", 0x0502],
  ["TOS-host-redirect", 0x0503],
  ["echo-request", 0x0800],
  ["ping", 0x0800],
  ["router-advertisement", 0x0900],
  ["router-solicitation", 0x0a00],
  ["ttl-zero-during-transit", 0x0b00],
  ["ttl-zero-during-reassembly", 0x0b01],
  ["ip-header-bad", 0x0c00],
  ["required-option-missing", 0x0c01],
  ["timestamp-request", 0x0d00],
  ["timestamp-reply", 0x0e00],
  ["address-mask-request", 0x1100],
  ["address-mask-reply", 0x1200],
];
const ICMP6_NAMES: readonly [string, number][] = [
  ["no-route", 0x0100],
  ["communication-prohibited", 0x0101],
  ["address-unreachable", 0x0103],
  ["port-unreachable", 0x0104],
  ["packet-too-big", 0x0200],
  ["ttl-zero-during-transit", 0x0300],
  ["ttl-zero-during-reassembly", 0x0301],
  ["bad-header", 0x0400],
  ["unknown-header-type", 0x0401],
  ["unknown-option", 0x0402],
  ["echo-request", 0x8000],
  ["ping", 0x8000],
  ["echo-reply", 0x8100],
  ["pong", 0x8100],
  ["router-solicitation", 0x8500],
  ["router-advertisement", 0x8600],
  ["neighbour-solicitation", 0x8700],
  ["neighbour-advertisement", 0x8800],
  ["redirect", 0x8900],
];

/** type names by what ipset accepts (its short aliases included) */
const TYPE_ALIASES: Readonly<Record<string, number>> = {
  "hash:ip": SetKind.HashIp,
  iphash: SetKind.HashIp,
  "hash:net": SetKind.HashNet,
  nethash: SetKind.HashNet,
  "hash:ip,port": SetKind.HashIpPort,
  ipporthash: SetKind.HashIpPort,
  "hash:net,port": SetKind.HashNetPort,
  "hash:ip,port,ip": SetKind.HashIpPortIp,
  ipportiphash: SetKind.HashIpPortIp,
  "hash:ip,port,net": SetKind.HashIpPortNet,
  ipportnethash: SetKind.HashIpPortNet,
  "bitmap:port": SetKind.BitmapPort,
  portmap: SetKind.BitmapPort,
  "list:set": SetKind.ListSet,
  setlist: SetKind.ListSet,
};

/** Word: a token with its column. */
interface Word {
  text: string;
  col: number;
}

/** the pending `add` lines of one set (applied after all sets exist: list:set refers to others) */
interface PendingAdd {
  set: IpSet;
  words: Word[];
  line: number;
}

class Reader {
  readonly file: string;
  readonly reg = new IpsetRegistry();
  /** current line (1-based) */
  line = 0;
  private readonly adds: PendingAdd[] = [];
  private seed = 0x1bad5eed;
  constructor(file: string) {
    this.file = file;
    this.reg.file = file;
  }
  fail(reason: string, col: number): never {
    throw new IpsetError(reason, this.file, this.line, col);
  }

  /** create: one `create NAME TYPE opts` (or the Name/Type/Header of a listing) */
  create(name: Word, type: Word, opts: Word[]): IpSet {
    if (name.text.length === 0 || name.text.length > 31)
      this.fail(`bad set name '${name.text}' (1 to 31 characters)`, name.col);
    if (this.reg.sets.has(name.text)) this.fail(`set '${name.text}' is created twice`, name.col);
    const kind = TYPE_ALIASES[type.text.toLowerCase()];
    let family = 4;
    let timeout = -1;
    let counters = false;
    let maxelem = 65536;
    let netmask = -1;
    let range: [number, number] | null = null;
    let size = 8;
    for (let i = 0; i < opts.length; i++) {
      const o = opts[i]!;
      const val = (): Word => {
        const v = opts[++i];
        if (v === undefined) this.fail(`option '${o.text}' needs a value`, o.col);
        return v;
      };
      const num = (max = 0xffffffff): number => {
        const v = val();
        const n = /^(0x[0-9a-f]+|[0-9]+)$/i.test(v.text) ? Number(v.text) : Number.NaN;
        if (!(n >= 0 && n <= max)) this.fail(`bad value '${v.text}' for '${o.text}'`, v.col);
        return n;
      };
      switch (o.text) {
        case "family": {
          const v = val();
          if (v.text === "inet" || v.text === "ipv4") family = 4;
          else if (v.text === "inet6" || v.text === "ipv6") family = 6;
          else this.fail(`unknown family '${v.text}' (inet or inet6)`, v.col);
          break;
        }
        case "-4":
          family = 4;
          break;
        case "-6":
          family = 6;
          break;
        case "timeout":
          timeout = num(2147483);
          break;
        case "counters":
          counters = true;
          break;
        case "maxelem":
          maxelem = num();
          break;
        case "netmask":
          netmask = num(128);
          break;
        case "range": {
          const v = val();
          const m = /^([0-9a-z-]+?)-([0-9a-z-]+)$/i.exec(v.text);
          const a = m === null ? -1 : parsePort(m[1]!);
          const b = m === null ? -1 : parsePort(m[2]!);
          if (a < 0 || b < 0 || a > b) this.fail(`bad port range '${v.text}'`, v.col);
          range = [a, b];
          break;
        }
        case "size":
          size = num(65536);
          break;
        case "hashsize":
        case "bucketsize":
        case "initval":
        case "probes":
        case "resize":
          val();
          break;
        case "comment":
        case "skbinfo":
        case "forceadd":
        case "-exist":
          break;
        case "markmask":
        case "bitmask":
          val();
          if (kind !== undefined) this.fail(`option '${o.text}' is not implemented by ctnat`, o.col);
          break;
        default:
          if (kind !== undefined) this.fail(`unknown option '${o.text}' for a ${type.text} set`, o.col);
      }
    }
    let set: IpSet;
    if (kind === undefined) {
      set = new UnsupportedSet(name.text, type.text, family);
    } else if (kind === SetKind.BitmapPort) {
      if (range === null) this.fail("bitmap:port needs a range (range FROM-TO)", type.col);
      set = new BitmapPortSet(name.text, range[0], range[1]);
    } else if (kind === SetKind.ListSet) {
      set = new ListSet(name.text, size);
    } else {
      const h = new HashSet(name.text, kind, family, this.seed++);
      if (netmask >= 0) {
        if (kind !== SetKind.HashIp) this.fail(`option 'netmask' is not valid for a ${type.text} set`, type.col);
        if (netmask < 1 || netmask > (family === 4 ? 32 : 128)) this.fail(`bad netmask ${netmask}`, type.col);
        h.netmask = netmask;
      }
      set = h;
    }
    if (timeout >= 0) {
      set.withTimeout = true;
      set.timeout = timeout;
    }
    set.withCounters = counters;
    set.maxelem = maxelem;
    set.line = this.line;
    this.reg.sets.set(set.name, set);
    return set;
  }

  queueAdd(set: IpSet, words: Word[]): void {
    this.adds.push({ set, words, line: this.line });
  }

  finish(): IpsetRegistry {
    for (const a of this.adds) {
      this.line = a.line;
      this.add(a.set, a.words);
    }
    return this.reg;
  }

  /** add: one element (and its options) to `set` */
  private add(set: IpSet, words: Word[]): void {
    const elem = words[0];
    if (elem === undefined) this.fail("add needs an element", 1);
    let timeout = -1;
    let nomatch = false;
    let packets = 0;
    let bytes = 0;
    for (let i = 1; i < words.length; i++) {
      const o = words[i]!;
      const val = (): Word => {
        const v = words[++i];
        if (v === undefined) this.fail(`option '${o.text}' needs a value`, o.col);
        return v;
      };
      const num = (): number => {
        const v = val();
        if (!/^[0-9]+$/.test(v.text)) this.fail(`bad value '${v.text}' for '${o.text}'`, v.col);
        return Number(v.text);
      };
      switch (o.text) {
        case "timeout":
          timeout = num();
          if (!set.withTimeout) this.fail(`set '${set.name}' was created without timeout support`, o.col);
          break;
        case "nomatch":
          if (!set.hasNomatch) this.fail(`the ${set.typeName} type has no nomatch elements`, o.col);
          nomatch = true;
          break;
        case "packets":
          packets = num();
          break;
        case "bytes":
          bytes = num();
          break;
        case "comment":
        case "skbmark":
        case "skbprio":
        case "skbqueue":
        case "before":
        case "after":
          val();
          break;
        case "-exist":
          break;
        default:
          this.fail(`unknown element option '${o.text}'`, o.col);
      }
    }
    const t = timeout >= 0 ? timeout : set.withTimeout ? set.timeout : 0;
    if (set instanceof UnsupportedSet) return;
    if (set instanceof ListSet) {
      const m = this.reg.get(elem.text);
      if (m === undefined)
        this.fail(`set '${elem.text}' does not exist (a member of list:set '${set.name}')`, elem.col);
      if (m instanceof ListSet) this.fail("a list:set cannot contain a list:set", elem.col);
      if (set.members.includes(m)) return;
      if (set.members.length >= set.size_) this.fail(`list:set '${set.name}' is full (size ${set.size_})`, elem.col);
      const i = set.members.length;
      set.members.push(m);
      set.ext.expires[i] = t;
      set.ext.packets[i] = packets;
      set.ext.bytes[i] = bytes;
      return;
    }
    if (set instanceof BitmapPortSet) {
      const r = this.portRange(elem, elem.text, false);
      for (let p = r[0]; p <= r[1]; p++) {
        if (p < set.first || p > set.last) this.fail(`port ${p} is outside the range of set '${set.name}'`, elem.col);
        const i = p - set.first;
        set.present[i] = 1;
        set.ext.expires[i] = t;
        set.ext.packets[i] = packets;
        set.ext.bytes[i] = bytes;
      }
      return;
    }
    const h = set as HashSet;
    const parts = elem.text.split(",");
    if (parts.length !== h.dimension) {
      this.fail(
        `element '${elem.text}' has ${parts.length} part(s); a ${h.typeName} element has ${h.dimension}`,
        elem.col,
      );
    }
    // each part as a list of alternatives: [words..., prefix length] for addresses, port words
    const a1 = this.addrPart(h, elem, parts[0]!, h.kind === SetKind.HashNet || h.kind === SetKind.HashNetPort);
    const ports = parts.length > 1 ? this.portPart(h, elem, parts[1]!) : [0];
    const a3 =
      parts.length > 2 ? this.addrPart(h, elem, parts[2]!, h.kind === SetKind.HashIpPortNet) : [new Int32Array(0)];
    const k = new Int32Array(h.kw);
    const aw = h.aw;
    let n = 0;
    for (const x of a1) {
      for (const p of ports) {
        for (const z of a3) {
          if (++n > h.maxelem) this.fail(`element '${elem.text}' expands beyond maxelem ${h.maxelem}`, elem.col);
          for (let w = 0; w < aw; w++) k[w] = x[w]!;
          switch (h.kind) {
            case SetKind.HashNet:
              k[aw] = x[4]!;
              break;
            case SetKind.HashIpPort:
              k[aw] = p;
              break;
            case SetKind.HashNetPort:
              k[aw] = p;
              k[aw + 1] = x[4]!;
              break;
            case SetKind.HashIpPortIp:
              k[aw] = p;
              for (let w = 0; w < aw; w++) k[aw + 1 + w] = z[w]!;
              break;
            case SetKind.HashIpPortNet:
              k[aw] = p;
              for (let w = 0; w < aw; w++) k[aw + 1 + w] = z[w]!;
              k[2 * aw + 1] = z[4]!;
              break;
          }
          let i = h.find(k);
          if (i < 0) i = h.insert(k, nomatch);
          else h.setNomatch(i, nomatch);
          h.ext.expires[i] = t;
          h.ext.packets[i] = packets;
          h.ext.bytes[i] = bytes;
        }
      }
    }
    if (h.count > h.maxelem) this.fail(`set '${h.name}' holds more than maxelem ${h.maxelem} elements`, elem.col);
  }

  /**
   * addrPart: an address part as a list of [4 address words, prefix length]: for `net` parts a prefix
   * (ranges split into prefixes); for host parts each address (hash:ip: at its netmask).
   */
  private addrPart(h: HashSet, elem: Word, s: string, net: boolean): Int32Array[] {
    const fam = h.family;
    const host = fam === 4 ? 32 : 128;
    const out: Int32Array[] = [];
    const bad = (): never => this.fail(`bad address '${s}' in element '${elem.text}'`, elem.col);
    const one = (text: string): Int32Array => {
      const a = new Int32Array(5);
      if (fam === 4) {
        const v = parseIpv4(text);
        if (v === null) bad();
        a[0] = v!;
      } else if (!parseIpv6(text, a)) bad();
      return a;
    };
    const masked = (a: Int32Array, len: number): Int32Array => {
      const r = new Int32Array(5);
      for (let w = 0; w < 4; w++) {
        const bits = Math.max(0, Math.min(32, len - 32 * w));
        r[w] = a[w]! & (bits === 0 ? 0 : bits === 32 ? -1 : (~0 << (32 - bits)) | 0);
      }
      r[4] = len;
      return r;
    };
    const dash = fam === 4 ? s.indexOf("-") : -1;
    const slash = s.indexOf("/");
    const step = h.kind === SetKind.HashIp ? h.netmask : host;
    if (dash >= 0) {
      const lo = one(s.slice(0, dash))[0]! >>> 0;
      const hi = one(s.slice(dash + 1))[0]! >>> 0;
      if (lo > hi) bad();
      if (net) {
        // split into the largest aligned prefixes, as ipset's range_to_cidr does
        let a = lo;
        while (a <= hi) {
          let len = 32;
          while (len > 1) {
            const size = 2 ** (32 - (len - 1));
            if (a % size !== 0 || a + size - 1 > hi) break;
            len--;
          }
          const x = new Int32Array(5);
          x[0] = a | 0;
          out.push(masked(x, len));
          a += 2 ** (32 - len);
        }
        return out;
      }
      const inc = 2 ** (32 - step);
      for (let a = lo - (lo % inc); a <= hi; a += inc) {
        const x = new Int32Array(5);
        x[0] = a | 0;
        out.push(masked(x, step));
        if (out.length > h.maxelem) this.fail(`element '${elem.text}' expands beyond maxelem ${h.maxelem}`, elem.col);
      }
      return out;
    }
    const a = one(slash < 0 ? s : s.slice(0, slash));
    let len = host;
    if (slash >= 0) {
      const t = s.slice(slash + 1);
      if (!/^[0-9]+$/.test(t) || Number(t) > host) bad();
      len = Number(t);
    }
    if (net) {
      // ipset: a zero prefix length is not valid for the net types
      if (len === 0) this.fail(`The value of the CIDR parameter of the IP address is invalid ('${s}')`, elem.col);
      return [masked(a, len)];
    }
    if (len >= step || fam === 6) {
      if (fam === 6 && len < step)
        this.fail(`IPv6 networks are not supported as ${h.typeName} elements ('${s}')`, elem.col);
      return [masked(a, step)];
    }
    // a prefix in a host part: each address (hash:ip: each netmask-sized block)
    const base = masked(a, len)[0]! >>> 0;
    const count = 2 ** (step - len);
    if (count > h.maxelem) this.fail(`element '${elem.text}' expands beyond maxelem ${h.maxelem}`, elem.col);
    for (let i = 0; i < count; i++) {
      const x = new Int32Array(5);
      x[0] = (base + i * 2 ** (32 - step)) | 0;
      x[4] = step;
      out.push(x);
    }
    return out;
  }

  /** portPart: `[proto:]port[-port]` as (proto << 16) | port words */
  private portPart(h: HashSet, elem: Word, s: string): number[] {
    const colon = s.indexOf(":");
    let proto = 6;
    let rest = s;
    if (colon >= 0) {
      const name = s.slice(0, colon).toLowerCase();
      rest = s.slice(colon + 1);
      proto = name === "icmpv6" ? 58 : parseProtocol(name);
      if (proto <= 0) this.fail(`unknown protocol '${name}' in element '${elem.text}'`, elem.col);
    }
    if (proto === 1 || proto === 58) {
      if (proto !== (h.family === 4 ? 1 : 58))
        this.fail(`ICMP of the other family in element '${elem.text}'`, elem.col);
      const names = proto === 1 ? ICMP_NAMES : ICMP6_NAMES;
      const e = names.find(([n]) => n.toLowerCase() === rest.toLowerCase());
      if (e !== undefined) return [(proto << 16) | e[1]];
      const m = /^([0-9]+)\/([0-9]+)$/.exec(rest);
      if (m === null || Number(m[1]) > 255 || Number(m[2]) > 255) this.fail(`bad ICMP type/code '${rest}'`, elem.col);
      return [(proto << 16) | (Number(m[1]) << 8) | Number(m[2])];
    }
    const withPorts = proto === 6 || proto === 17 || proto === 132 || proto === 136;
    const r = this.portRange(elem, rest, true);
    if (!withPorts && (r[0] !== 0 || r[1] !== 0)) {
      this.fail(`protocol ${proto} has no ports: its port must be 0 ('${s}')`, elem.col);
    }
    const out: number[] = [];
    for (let p = r[0]; p <= r[1]; p++) out.push((proto << 16) | p);
    return out;
  }

  private portRange(elem: Word, s: string, names: boolean): [number, number] {
    const dash = s.indexOf("-");
    const a = dash < 0 ? s : s.slice(0, dash);
    const b = dash < 0 ? s : s.slice(dash + 1);
    const pa = names ? parsePort(a) : /^[0-9]+$/.test(a) ? Number(a) : -1;
    const pb = names ? parsePort(b) : /^[0-9]+$/.test(b) ? Number(b) : -1;
    if (pa < 0 || pb < 0 || pa > 65535 || pb > 65535 || pa > pb)
      this.fail(`bad port '${s}' in element '${elem.text}'`, elem.col);
    return [pa, pb];
  }
}

function words(line: string): Word[] {
  return tokenizeLine(line).map((t) => ({ text: t.text, col: t.column }));
}

/**
 * parseIpsets: the sets of an `ipset save` (or `ipset list`) text. Sets of types ctnat does not
 * implement are kept by name (a rule using one is refused when the ruleset loads). @throws IpsetError
 */
export function parseIpsets(text: string, file = "<ipsets>"): IpsetRegistry {
  const r: Reader = new Reader(file);
  const lines = text.split("\n");
  const listing = lines.some((l) => /^Name: /.test(l));
  if (listing) return parseListing(r, lines);
  for (let ln = 0; ln < lines.length; ln++) {
    r.line = ln + 1;
    let raw = lines[ln]!;
    if (raw.endsWith("\r")) raw = raw.slice(0, -1);
    let w = words(raw);
    if (w.length > 0 && w[0]!.text === "-exist") w = w.slice(1);
    if (w.length === 0 || w[0]!.text.startsWith("#")) continue;
    const cmd = w[0]!.text;
    if (cmd === "COMMIT") continue;
    if (cmd === "create" || cmd === "-N" || cmd === "n") {
      if (w.length < 3) r.fail("create needs a set name and a type", w[0]!.col);
      r.create(w[1]!, w[2]!, w.slice(3));
      continue;
    }
    if (cmd === "add" || cmd === "-A" || cmd === "a") {
      if (w.length < 3) r.fail("add needs a set name and an element", w[0]!.col);
      const set = r.reg.get(w[1]!.text);
      if (set === undefined) r.fail(`set '${w[1]!.text}' does not exist (add before create)`, w[1]!.col);
      r.queueAdd(set, w.slice(2));
      continue;
    }
    if (cmd === "flush" || cmd === "destroy" || cmd === "-F" || cmd === "-X") {
      r.fail(`'${cmd}' is not a line of an ipset save text`, w[0]!.col);
    }
    r.fail(`unknown command '${cmd}' (expected create or add)`, w[0]!.col);
  }
  return r.finish();
}

/** parseListing: the `ipset list` form */
function parseListing(r: Reader, lines: string[]): IpsetRegistry {
  let name: Word | null = null;
  let type: Word | null = null;
  let set: IpSet | null = null;
  let members = false;
  for (let ln = 0; ln < lines.length; ln++) {
    r.line = ln + 1;
    let raw = lines[ln]!;
    if (raw.endsWith("\r")) raw = raw.slice(0, -1);
    if (raw.trim() === "") {
      members = false;
      continue;
    }
    const m = /^([A-Za-z ]+):\s*(.*)$/.exec(raw);
    if (!members && m !== null) {
      const key = m[1]!;
      const val = m[2]!;
      const col = raw.indexOf(val) + 1;
      switch (key) {
        case "Name":
          name = { text: val, col };
          type = null;
          set = null;
          break;
        case "Type":
          type = { text: val, col };
          break;
        case "Header":
          if (name === null || type === null) r.fail("Header: before Name: and Type:", 1);
          set = r.create(
            name,
            type,
            words(val).map((x) => ({ text: x.text, col: x.col + col - 1 })),
          );
          break;
        case "Members":
          if (set === null) {
            if (name === null || type === null) r.fail("Members: before Name: and Type:", 1);
            set = r.create(name, type, []);
          }
          members = true;
          break;
        default:
          break;
      }
      continue;
    }
    if (!members || set === null) r.fail(`unexpected line '${raw}'`, 1);
    r.queueAdd(set, words(raw));
  }
  return r.finish();
}

export { SET_TYPE_NAMES };
