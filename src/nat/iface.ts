/**
 * The gateway's interface addresses, as NAT needs them to pick addresses the way Linux does:
 * - MASQUERADE (IPv4): `inetSelectAddr` = Linux inet_select_addr(out, nexthop, RT_SCOPE_UNIVERSE): the
 *   first primary global-scope address of the output interface in the next hop's subnet, else its first
 *   primary global-scope address, else the first suitable primary address of any interface.
 * - MASQUERADE (IPv6): `ipv6DevGetSaddr` = Linux ipv6_dev_get_saddr (RFC 6724 source address selection
 *   with Linux's rule set and default address label table).
 * - REDIRECT: `redirectAddr4` / `redirectAddr6` = the first address of the incoming interface (IPv6:
 *   the first usable one of matching scope), as nf_nat_redirect.c.
 *
 * Interfaces and their address lists must be added in the kernel's order (`ip -j addr` lists them so:
 * interfaces by ifindex, addresses in each device's list order). Slow path: used once per connection.
 */

/** IFA_F: Linux address flags (include/uapi/linux/if_addr.h). IPv6 TEMPORARY shares SECONDARY's bit. */
export const IFA_F = {
  SECONDARY: 0x01,
  TEMPORARY: 0x01,
  NODAD: 0x02,
  OPTIMISTIC: 0x04,
  DADFAILED: 0x08,
  HOMEADDRESS: 0x10,
  DEPRECATED: 0x20,
  TENTATIVE: 0x40,
  PERMANENT: 0x80,
} as const;

/** RT_SCOPE: Linux route/address scopes (ip shows global, site, link, host, nowhere). */
export const RT_SCOPE = { Universe: 0, Site: 200, Link: 253, Host: 254, Nowhere: 255 } as const;

/** IfaceAddr4: one IPv4 address of an interface. */
export class IfaceAddr4 {
  /** local address (int32, network order) */
  local = 0;
  /** peer / prefix address (`ip` "address"; equals local unless point-to-point) */
  address = 0;
  prefixLen = 32;
  scope: number = RT_SCOPE.Universe;
  flags = 0;
}

/** IfaceAddr6: one IPv6 address of an interface. */
export class IfaceAddr6 {
  readonly addr = new Int32Array(4);
  prefixLen = 128;
  flags = 0;
}

/** NatIface: an interface with its addresses. */
export class NatIface {
  ifindex = 0;
  name = "";
  readonly v4: IfaceAddr4[] = [];
  readonly v6: IfaceAddr6[] = [];
  /** net.ipv6.conf.<if>.use_tempaddr (>= 2: prefer temporary addresses as source) */
  useTempaddr = 0;
  /** net.ipv6.conf.<if>.use_oif_addrs_only */
  useOifAddrsOnly = false;
  /** net.ipv4.conf.<if>.route_localnet */
  routeLocalnet = false;
}

/**
 * NatInterfaces: every interface of the gateway, in ifindex order. The `ifindex` numbers must be the
 * ones the engine puts in Skb.inIf / Skb.outIf (any non-negative numbering; -1 means "none").
 */
export class NatInterfaces {
  readonly list: NatIface[] = [];

  /** add: a new interface (call in ifindex order). */
  add(ifindex: number, name: string): NatIface {
    const f = new NatIface();
    f.ifindex = ifindex;
    f.name = name;
    this.list.push(f);
    return f;
  }

  /** get: the interface with `ifindex`, or undefined. */
  get(ifindex: number): NatIface | undefined {
    for (const f of this.list) if (f.ifindex === ifindex) return f;
    return undefined;
  }

  /** byName: the interface called `name`, or undefined. */
  byName(name: string): NatIface | undefined {
    for (const f of this.list) if (f.name === name) return f;
    return undefined;
  }

  /** addV4: add an IPv4 address to interface `ifindex` (created on demand, named "if<N>"). */
  addV4(ifindex: number, local: number, prefixLen: number, scope = 0, flags = 0, address = local): IfaceAddr4 {
    const f = this.get(ifindex) ?? this.add(ifindex, `if${ifindex}`);
    const a = new IfaceAddr4();
    a.local = local | 0;
    a.address = address | 0;
    a.prefixLen = prefixLen;
    a.scope = scope;
    a.flags = flags;
    f.v4.push(a);
    return a;
  }

  /** addV6: add an IPv6 address (4 words, network order) to interface `ifindex`. */
  addV6(ifindex: number, addr: ArrayLike<number>, prefixLen: number, flags = 0): IfaceAddr6 {
    const f = this.get(ifindex) ?? this.add(ifindex, `if${ifindex}`);
    const a = new IfaceAddr6();
    for (let i = 0; i < 4; i++) a.addr[i] = addr[i] | 0;
    a.prefixLen = prefixLen;
    a.flags = flags;
    f.v6.push(a);
    return a;
  }

  /**
   * fromIpJson: build from the parsed output of `ip -j addr` (an array of links with `ifindex`,
   * `ifname`, `addr_info` entries with family, local, address, prefixlen, scope, and the flag booleans
   * `secondary`, `temporary`, `deprecated`, `tentative`, `optimistic`, `dadfailed`, `nodad`,
   * `home`, `permanent`). Unknown fields are ignored. @throws Error for entries without an address.
   */
  static fromIpJson(links: unknown): NatInterfaces {
    const out = new NatInterfaces();
    if (!Array.isArray(links)) throw new Error("ip -j addr: expected a JSON array of links");
    const sorted = [...links].sort((a, b) => Number(a?.ifindex ?? 0) - Number(b?.ifindex ?? 0));
    for (const l of sorted) {
      const f = out.add(Number(l.ifindex ?? 0), String(l.ifname ?? ""));
      const infos: unknown[] = Array.isArray(l.addr_info) ? l.addr_info : [];
      for (const raw of infos) {
        const ai = raw as Record<string, unknown>;
        const flags =
          (ai.secondary === true || ai.temporary === true ? IFA_F.SECONDARY : 0) |
          (ai.nodad === true ? IFA_F.NODAD : 0) |
          (ai.optimistic === true ? IFA_F.OPTIMISTIC : 0) |
          (ai.dadfailed === true ? IFA_F.DADFAILED : 0) |
          (ai.home === true ? IFA_F.HOMEADDRESS : 0) |
          (ai.deprecated === true ? IFA_F.DEPRECATED : 0) |
          (ai.tentative === true ? IFA_F.TENTATIVE : 0) |
          (ai.permanent === true ? IFA_F.PERMANENT : 0);
        const plen = Number(ai.prefixlen ?? 0);
        if (ai.family === "inet") {
          const local = parseIpv4(String(ai.local));
          const peer = typeof ai.address === "string" ? parseIpv4(ai.address) : local;
          out.addV4(f.ifindex, local, plen, parseScope(ai.scope), flags, peer);
        } else if (ai.family === "inet6") {
          out.addV6(f.ifindex, parseIpv6(String(ai.local)), plen, flags);
        }
      }
    }
    return out;
  }
}

function parseScope(s: unknown): number {
  switch (s) {
    case undefined:
    case "global":
      return RT_SCOPE.Universe;
    case "site":
      return RT_SCOPE.Site;
    case "link":
      return RT_SCOPE.Link;
    case "host":
      return RT_SCOPE.Host;
    case "nowhere":
      return RT_SCOPE.Nowhere;
    default: {
      const n = Number(s);
      if (Number.isInteger(n) && n >= 0 && n <= 255) return n;
      throw new Error(`ip -j addr: unknown scope ${JSON.stringify(s)}`);
    }
  }
}

/** parseIpv4: dotted quad to an int32 in network order. @throws Error when malformed. */
export function parseIpv4(s: string): number {
  const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(s);
  if (m === null) throw new Error(`bad IPv4 address ${JSON.stringify(s)}`);
  let w = 0;
  for (let i = 1; i <= 4; i++) {
    const b = Number(m[i]);
    if (b > 255) throw new Error(`bad IPv4 address ${JSON.stringify(s)}`);
    w = (w << 8) | b;
  }
  return w | 0;
}

/** parseIpv6: textual IPv6 (with "::" and an optional dotted IPv4 tail) to 4 words. @throws Error. */
export function parseIpv6(s: string): Int32Array {
  const bad = (): Error => new Error(`bad IPv6 address ${JSON.stringify(s)}`);
  let text = s;
  const pct = text.indexOf("%");
  if (pct >= 0) text = text.slice(0, pct);
  const groups: number[] = [];
  let tail: number[] = [];
  const dbl = text.indexOf("::");
  const parseSide = (part: string): number[] => {
    if (part === "") return [];
    const out: number[] = [];
    const items = part.split(":");
    for (let i = 0; i < items.length; i++) {
      const it = items[i];
      if (i === items.length - 1 && it.includes(".")) {
        const w = parseIpv4(it);
        out.push((w >>> 16) & 0xffff, w & 0xffff);
      } else {
        if (!/^[0-9a-fA-F]{1,4}$/.test(it)) throw bad();
        out.push(Number.parseInt(it, 16));
      }
    }
    return out;
  };
  if (dbl >= 0) {
    if (text.indexOf("::", dbl + 1) >= 0) throw bad();
    groups.push(...parseSide(text.slice(0, dbl)));
    tail = parseSide(text.slice(dbl + 2));
    if (groups.length + tail.length > 7) throw bad();
    while (groups.length + tail.length < 8) groups.push(0);
    groups.push(...tail);
  } else {
    groups.push(...parseSide(text));
    if (groups.length !== 8) throw bad();
  }
  const w = new Int32Array(4);
  for (let i = 0; i < 4; i++) w[i] = (groups[2 * i] << 16) | groups[2 * i + 1];
  return w;
}

// ---- IPv4: inet_select_addr -----------------------------------------------------------------

function inetIfaMatch(addr: number, a: IfaceAddr4): boolean {
  const mask = a.prefixLen === 0 ? 0 : (-1 << (32 - a.prefixLen)) | 0;
  return ((addr ^ a.address) & mask) === 0;
}

/** first primary address of `f` with scope != link and <= `scope` (Linux in_dev_select_addr) */
function inDevSelectAddr(f: NatIface, scope: number): number {
  for (const a of f.v4) {
    if ((a.flags & IFA_F.SECONDARY) !== 0) continue;
    if (a.scope !== RT_SCOPE.Link && a.scope <= scope) return a.local;
  }
  return 0;
}

/**
 * inetSelectAddr: Linux inet_select_addr(dev, dst, scope): the source address for reaching `dst`
 * (int32; 0 = any) through interface `ifindex`, 0 if none. MASQUERADE calls it with the route's next
 * hop (the destination itself when on-link) and scope RT_SCOPE.Universe.
 */
export function inetSelectAddr(ifaces: NatInterfaces, ifindex: number, dst: number, scope: number): number {
  const f = ifaces.get(ifindex);
  let addr = 0;
  if (f !== undefined) {
    const localnetScope = f.routeLocalnet ? RT_SCOPE.Link : RT_SCOPE.Host;
    for (const a of f.v4) {
      if ((a.flags & IFA_F.SECONDARY) !== 0) continue;
      if (Math.min(a.scope, localnetScope) > scope) continue;
      if (dst === 0 || inetIfaMatch(dst, a)) {
        addr = a.local;
        break;
      }
      if (addr === 0) addr = a.local;
    }
    if (addr !== 0) return addr;
  }
  // any other interface (the loopback device first): not link scope, within `scope`
  for (const g of ifaces.list) {
    const x = inDevSelectAddr(g, scope);
    if (x !== 0) return x;
  }
  return 0;
}

// ---- IPv6: ipv6_dev_get_saddr ---------------------------------------------------------------

/** Linux IPV6_ADDR_* type bits (include/net/ipv6.h); the scope is kept in bits 16 and up. */
export const IPV6_ADDR = {
  ANY: 0x0000,
  UNICAST: 0x0001,
  MULTICAST: 0x0002,
  LOOPBACK: 0x0010,
  LINKLOCAL: 0x0020,
  SITELOCAL: 0x0040,
  COMPATv4: 0x0080,
  SCOPE_MASK: 0x00f0,
  MAPPED: 0x1000,
} as const;

/** IPv6 scope values (RFC 4291 §2.7): interface/node-local 1, link-local 2, site-local 5, org 8, global 14. */
const SCOPE_NODELOCAL = 0x01;
const SCOPE_LINKLOCAL = 0x02;
const SCOPE_SITELOCAL = 0x05;
const SCOPE_GLOBAL = 0x0e;

/** ipv6AddrType: Linux __ipv6_addr_type: type bits with the scope in bits 16+. */
export function ipv6AddrType(a: Int32Array): number {
  const st = a[0];
  const top3 = st & 0xe0000000;
  if (top3 !== 0 && top3 !== (0xe0000000 | 0)) return IPV6_ADDR.UNICAST | (SCOPE_GLOBAL << 16);
  if ((st & 0xff000000) === (0xff000000 | 0)) {
    const sc = (st >>> 16) & 0x0f;
    let t = IPV6_ADDR.MULTICAST | (sc << 16);
    if (sc === SCOPE_NODELOCAL) t |= IPV6_ADDR.LOOPBACK;
    else if (sc === SCOPE_LINKLOCAL) t |= IPV6_ADDR.LINKLOCAL;
    else if (sc === SCOPE_SITELOCAL) t |= IPV6_ADDR.SITELOCAL;
    return t;
  }
  if ((st & 0xffc00000) === (0xfe800000 | 0)) {
    return IPV6_ADDR.LINKLOCAL | IPV6_ADDR.UNICAST | (SCOPE_LINKLOCAL << 16);
  }
  if ((st & 0xffc00000) === (0xfec00000 | 0)) {
    return IPV6_ADDR.SITELOCAL | IPV6_ADDR.UNICAST | (SCOPE_SITELOCAL << 16);
  }
  if ((st & 0xfe000000) === (0xfc000000 | 0)) return IPV6_ADDR.UNICAST | (SCOPE_GLOBAL << 16);
  if ((a[0] | a[1]) === 0) {
    if (a[2] === 0) {
      if (a[3] === 0) return IPV6_ADDR.ANY;
      if (a[3] === 1) return IPV6_ADDR.LOOPBACK | IPV6_ADDR.UNICAST | (SCOPE_LINKLOCAL << 16);
      return IPV6_ADDR.COMPATv4 | IPV6_ADDR.UNICAST | (SCOPE_GLOBAL << 16);
    }
    if (a[2] === 0x0000ffff) return IPV6_ADDR.MAPPED | (SCOPE_GLOBAL << 16);
  }
  return IPV6_ADDR.UNICAST | (SCOPE_GLOBAL << 16);
}

/** Linux __ipv6_addr_src_scope: the scope of a type, -1 for the unspecified address. */
function srcScope(type: number): number {
  return type === IPV6_ADDR.ANY ? -1 : type >>> 16;
}

/** prefix equality of the first `plen` bits */
function prefixEqual(a: Int32Array, b: Int32Array, plen: number): boolean {
  for (let i = 0; i < 4 && plen > 0; i++, plen -= 32) {
    const mask = plen >= 32 ? -1 : (-1 << (32 - plen)) | 0;
    if (((a[i] ^ b[i]) & mask) !== 0) return false;
  }
  return true;
}

/** Linux ipv6_addr_diff: index of the first differing bit, 128 when equal. */
function addrDiff(a: Int32Array, b: Int32Array): number {
  for (let i = 0; i < 4; i++) {
    const x = a[i] ^ b[i];
    if (x !== 0) return i * 32 + Math.clz32(x);
  }
  return 128;
}

/** Linux's default address label table (net/ipv6/addrlabel.c), longest prefix first. */
const LABELS: readonly { prefix: Int32Array; plen: number; addrtype: number; label: number }[] = [
  { prefix: Int32Array.of(0, 0, 0, 1), plen: 128, addrtype: IPV6_ADDR.LOOPBACK, label: 0 },
  { prefix: Int32Array.of(0, 0, 0xffff, 0), plen: 96, addrtype: IPV6_ADDR.MAPPED, label: 4 },
  { prefix: Int32Array.of(0, 0, 0, 0), plen: 96, addrtype: 0, label: 3 },
  { prefix: Int32Array.of(0x20010000, 0, 0, 0), plen: 32, addrtype: 0, label: 6 },
  { prefix: Int32Array.of(0x20010010, 0, 0, 0), plen: 28, addrtype: 0, label: 7 },
  { prefix: Int32Array.of(0x20020000, 0, 0, 0), plen: 16, addrtype: 0, label: 2 },
  { prefix: Int32Array.of(0x3ffe0000, 0, 0, 0), plen: 16, addrtype: 0, label: 12 },
  { prefix: Int32Array.of(0xfec00000 | 0, 0, 0, 0), plen: 10, addrtype: 0, label: 11 },
  { prefix: Int32Array.of(0xfc000000 | 0, 0, 0, 0), plen: 7, addrtype: 0, label: 5 },
  { prefix: Int32Array.of(0, 0, 0, 0), plen: 0, addrtype: 0, label: 1 },
];

/** ipv6AddrLabel: Linux ipv6_addr_label with the default policy table. */
export function ipv6AddrLabel(a: Int32Array, type: number): number {
  const t = type & (IPV6_ADDR.MAPPED | IPV6_ADDR.COMPATv4 | IPV6_ADDR.LOOPBACK);
  for (const e of LABELS) {
    if (e.addrtype !== 0 && e.addrtype !== t) continue;
    if (prefixEqual(a, e.prefix, e.plen)) return e.label;
  }
  return -1;
}

function isOrchid(a: Int32Array): boolean {
  return (a[0] & 0xfffffff0) === 0x20010010;
}

/** rules of Linux's source address selection, in order (CONFIG_IPV6_MIP6 off, optimistic DAD on) */
const R_INIT = 0;
const R_LOCAL = 1;
const R_SCOPE = 2;
const R_PREFERRED = 3;
const R_OIF = 4;
const R_LABEL = 5;
const R_PRIVACY = 6;
const R_ORCHID = 7;
const R_PREFIX = 8;
const R_NOT_OPTIMISTIC = 9;
const R_MAX = 10;

interface SaddrDst {
  addr: Int32Array;
  ifindex: number;
  scope: number;
  label: number;
}

function evalRule(f: NatIface, a: IfaceAddr6 | null, type: number, dst: SaddrDst, rule: number): number {
  if (rule === R_INIT) return a !== null ? 1 : 0;
  if (a === null) return 0;
  switch (rule) {
    case R_LOCAL:
      // Rule 1: prefer the destination itself
      return a.addr[0] === dst.addr[0] &&
        a.addr[1] === dst.addr[1] &&
        a.addr[2] === dst.addr[2] &&
        a.addr[3] === dst.addr[3]
        ? 1
        : 0;
    case R_SCOPE: {
      // Rule 2: prefer the smallest scope that is at least the destination's
      const s = srcScope(type);
      return s >= dst.scope ? -s : s - 128;
    }
    case R_PREFERRED: {
      // Rule 3: avoid deprecated (and optimistic, without optimistic DAD) addresses
      const preferredType = (type & (IPV6_ADDR.MAPPED | IPV6_ADDR.COMPATv4 | IPV6_ADDR.LOOPBACK)) !== 0;
      return preferredType || (a.flags & (IFA_F.DEPRECATED | IFA_F.OPTIMISTIC)) === 0 ? 1 : 0;
    }
    case R_OIF:
      // Rule 5: prefer the outgoing interface
      return dst.ifindex < 0 || dst.ifindex === f.ifindex ? 1 : 0;
    case R_LABEL:
      // Rule 6: prefer a matching label
      return ipv6AddrLabel(a.addr, type) === dst.label ? 1 : 0;
    case R_PRIVACY: {
      // Rule 7: prefer public addresses (temporary ones when use_tempaddr >= 2)
      const preftmp = f.useTempaddr >= 2 ? 1 : 0;
      return ((a.flags & IFA_F.TEMPORARY) === 0 ? 1 : 0) ^ preftmp;
    }
    case R_ORCHID:
      return isOrchid(a.addr) === isOrchid(dst.addr) ? 1 : 0;
    case R_PREFIX: {
      // Rule 8: longest matching prefix, at most the address's own prefix length
      const d = addrDiff(a.addr, dst.addr);
      return Math.min(d, a.prefixLen);
    }
    case R_NOT_OPTIMISTIC:
      return (a.flags & IFA_F.OPTIMISTIC) === 0 ? 1 : 0;
    default:
      return 0;
  }
}

/**
 * ipv6DevGetSaddr: Linux ipv6_dev_get_saddr(net, dst_dev, daddr, 0, saddr): the source address for
 * `daddr` leaving through `ifindex` (-1: none given), into `out`. Returns false if there is none.
 */
export function ipv6DevGetSaddr(ifaces: NatInterfaces, ifindex: number, daddr: Int32Array, out: Int32Array): boolean {
  const dtype = ipv6AddrType(daddr);
  const dst: SaddrDst = {
    addr: daddr,
    ifindex,
    scope: srcScope(dtype),
    label: ipv6AddrLabel(daddr, dtype),
  };
  const outIf = ifindex >= 0 ? ifaces.get(ifindex) : undefined;
  const oifOnly =
    outIf !== undefined &&
    ((dtype & IPV6_ADDR.MULTICAST) !== 0 || dst.scope <= SCOPE_LINKLOCAL || outIf.useOifAddrsOnly);
  let hiF: NatIface | null = null;
  let hiA: IfaceAddr6 | null = null;
  let hiType = 0;
  const consider = (f: NatIface): void => {
    for (const a of f.v6) {
      // tentative addresses are not assigned yet (unless optimistic)
      if ((a.flags & IFA_F.TENTATIVE) !== 0 && (a.flags & IFA_F.OPTIMISTIC) === 0) continue;
      const type = ipv6AddrType(a.addr);
      if (type === IPV6_ADDR.ANY || (type & IPV6_ADDR.MULTICAST) !== 0) continue;
      for (let r = 0; r < R_MAX; r++) {
        const hi = hiF === null ? 0 : evalRule(hiF, hiA, hiType, dst, r);
        const mine = evalRule(f, a, type, dst, r);
        if (hi > mine) break;
        if (hi < mine) {
          hiF = f;
          hiA = a;
          hiType = type;
          break;
        }
      }
    }
  };
  if (oifOnly) {
    if (outIf !== undefined) consider(outIf);
  } else {
    for (const f of ifaces.list) consider(f);
  }
  if (hiA === null) return false;
  out.set((hiA as IfaceAddr6).addr);
  return true;
}

// ---- REDIRECT ---------------------------------------------------------------------------------

/**
 * redirectAddr4: Linux nf_nat_redirect_ipv4 at PREROUTING: the first address of the incoming interface
 * (0 when it has none: the packet is dropped).
 */
export function redirectAddr4(ifaces: NatInterfaces, inIfindex: number): number {
  const f = ifaces.get(inIfindex);
  if (f === undefined || f.v4.length === 0) return 0;
  return f.v4[0].local;
}

/**
 * redirectAddr6: Linux nf_nat_redirect_ipv6 at PREROUTING: the first address of the incoming interface
 * that is not IPv4-mapped, not tentative (unless optimistic) and, when the destination has a scope flag
 * (loopback, link-local, site-local), of that scope. Into `out`; false when there is none.
 */
export function redirectAddr6(ifaces: NatInterfaces, inIfindex: number, daddr: Int32Array, out: Int32Array): boolean {
  const f = ifaces.get(inIfindex);
  if (f === undefined) return false;
  const scope = ipv6AddrType(daddr) & IPV6_ADDR.SCOPE_MASK;
  for (const a of f.v6) {
    const t = ipv6AddrType(a.addr);
    if ((t & IPV6_ADDR.MAPPED) !== 0) continue;
    if ((a.flags & IFA_F.TENTATIVE) !== 0 && (a.flags & IFA_F.OPTIMISTIC) === 0) continue;
    if (scope !== 0 && (scope & (t & IPV6_ADDR.SCOPE_MASK)) === 0) continue;
    out.set(a.addr);
    return true;
  }
  return false;
}
