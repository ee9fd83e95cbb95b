/**
 * Address text for rulesets: IPv4 and IPv6 addresses, masks and prefixes, parsed into the four-int32-word
 * form PacketInfo uses (network order, word 0 = first four bytes; IPv4 uses word 0 only) and printed as
 * iptables prints them (IPv4 dotted quads, IPv6 as glibc inet_ntop does, masks as `/n` when contiguous and
 * as an address otherwise). Load time and printing only; nothing here runs per packet.
 */

/** parseIpv4: dotted quad to an int32 (network order), or null when malformed. */
export function parseIpv4(s: string): number | null {
  const parts = s.split(".");
  if (parts.length !== 4) return null;
  let v = 0;
  for (const p of parts) {
    if (!/^[0-9]{1,3}$/.test(p)) return null;
    const n = Number(p);
    if (n > 255) return null;
    v = (v << 8) | n;
  }
  return v | 0;
}

/** formatIpv4: int32 (network order) to a dotted quad. */
export function formatIpv4(w: number): string {
  return `${(w >>> 24) & 255}.${(w >>> 16) & 255}.${(w >>> 8) & 255}.${w & 255}`;
}

/** parseIpv6: text to four int32 words written into `out`; false when malformed. */
export function parseIpv6(s: string, out: Int32Array): boolean {
  const groups: number[] = [];
  let dc = -1;
  let rest = s;
  if (rest.length === 0) return false;
  // an embedded IPv4 address in the last 32 bits
  let v4: number | null = null;
  const lastColon = rest.lastIndexOf(":");
  if (lastColon >= 0 && rest.indexOf(".", lastColon) > 0) {
    v4 = parseIpv4(rest.slice(lastColon + 1));
    if (v4 === null) return false;
    rest = rest.slice(0, lastColon + 1);
    if (rest.endsWith("::")) {
      // "::a.b.c.d" or "x::a.b.c.d"
    } else if (rest.endsWith(":")) {
      rest = rest.slice(0, -1);
    }
  }
  const halves = rest.split("::");
  if (halves.length > 2) return false;
  const parseHalf = (h: string, into: number[]): boolean => {
    if (h.length === 0) return true;
    for (const g of h.split(":")) {
      if (!/^[0-9a-fA-F]{1,4}$/.test(g)) return false;
      into.push(Number.parseInt(g, 16));
    }
    return true;
  };
  const head: number[] = [];
  const tail: number[] = [];
  if (!parseHalf(halves[0]!, head)) return false;
  if (halves.length === 2) {
    dc = head.length;
    if (!parseHalf(halves[1]!, tail)) return false;
  }
  const need = v4 === null ? 8 : 6;
  if (dc < 0) {
    if (head.length !== need) return false;
    groups.push(...head);
  } else {
    const fill = need - head.length - tail.length;
    if (fill < 1) return false;
    groups.push(...head);
    for (let i = 0; i < fill; i++) groups.push(0);
    groups.push(...tail);
  }
  if (v4 !== null) {
    groups.push((v4 >>> 16) & 0xffff, v4 & 0xffff);
  }
  for (let i = 0; i < 4; i++) out[i] = (groups[2 * i]! << 16) | groups[2 * i + 1]! | 0;
  return true;
}

/** formatIpv6: four int32 words to text, as glibc inet_ntop prints it (longest zero run as `::`). */
export function formatIpv6(a: ArrayLike<number>): string {
  const w: number[] = [];
  for (let i = 0; i < 4; i++) {
    w.push((a[i]! >>> 16) & 0xffff, a[i]! & 0xffff);
  }
  let bestBase = -1;
  let bestLen = 0;
  let curBase = -1;
  let curLen = 0;
  for (let i = 0; i < 8; i++) {
    if (w[i] === 0) {
      if (curBase < 0) {
        curBase = i;
        curLen = 1;
      } else curLen++;
    } else if (curBase >= 0) {
      if (bestBase < 0 || curLen > bestLen) {
        bestBase = curBase;
        bestLen = curLen;
      }
      curBase = -1;
    }
  }
  if (curBase >= 0 && (bestBase < 0 || curLen > bestLen)) {
    bestBase = curBase;
    bestLen = curLen;
  }
  if (bestBase >= 0 && bestLen < 2) bestBase = -1;
  let s = "";
  for (let i = 0; i < 8; i++) {
    if (bestBase >= 0 && i >= bestBase && i < bestBase + bestLen) {
      if (i === bestBase) s += ":";
      continue;
    }
    if (i !== 0) s += ":";
    // an IPv4-compatible or IPv4-mapped address ends in a dotted quad
    if (i === 6 && bestBase === 0 && (bestLen === 6 || (bestLen === 5 && w[5] === 0xffff))) {
      s += formatIpv4(a[3]!);
      break;
    }
    s += w[i]!.toString(16);
  }
  if (bestBase >= 0 && bestBase + bestLen === 8) s += ":";
  return s;
}

/** prefixMask: the mask of a prefix length `len` for `family` into `out` (four words). */
export function prefixMask(family: number, len: number, out: Int32Array): void {
  out.fill(0);
  const words = family === 4 ? 1 : 4;
  for (let i = 0; i < words; i++) {
    const bits = Math.max(0, Math.min(32, len - 32 * i));
    out[i] = bits === 0 ? 0 : bits === 32 ? -1 : (~0 << (32 - bits)) | 0;
  }
}

/** maskPrefixLen: the prefix length of a contiguous mask, or -1 when the mask has holes. */
export function maskPrefixLen(family: number, m: ArrayLike<number>): number {
  const words = family === 4 ? 1 : 4;
  let len = 0;
  let ended = false;
  for (let i = 0; i < words; i++) {
    const v = m[i]! >>> 0;
    for (let b = 31; b >= 0; b--) {
      const set = ((v >>> b) & 1) === 1;
      if (set) {
        if (ended) return -1;
        len++;
      } else ended = true;
    }
  }
  return len;
}

/** formatAddr: an address of `family` as text. */
export function formatAddr(family: number, a: ArrayLike<number>): string {
  return family === 4 ? formatIpv4(a[0]!) : formatIpv6(a);
}

/** parseAddr: an address of `family` into `out` (four words, unused words zero); false when malformed. */
export function parseAddr(family: number, s: string, out: Int32Array): boolean {
  out.fill(0);
  if (family === 4) {
    const v = parseIpv4(s);
    if (v === null) return false;
    out[0] = v;
    return true;
  }
  return parseIpv6(s, out);
}

/**
 * parseAddrMask: `addr[/mask]` as iptables -s/-d accept it: the mask is a prefix length or (IPv4 and
 * IPv6 alike) an address-form mask; without a mask the full length. The address is masked as iptables
 * masks it. Returns an error reason or null.
 */
export function parseAddrMask(family: number, s: string, addr: Int32Array, mask: Int32Array): string | null {
  const slash = s.indexOf("/");
  const a = slash < 0 ? s : s.slice(0, slash);
  const m = slash < 0 ? null : s.slice(slash + 1);
  if (!parseAddr(family, a, addr)) {
    return `host/network \`${a}' not found (ctnat accepts numeric addresses only)`;
  }
  const maxLen = family === 4 ? 32 : 128;
  if (m === null) {
    prefixMask(family, maxLen, mask);
  } else if (/^[0-9]+$/.test(m)) {
    const n = Number(m);
    if (n > maxLen) return `invalid mask \`${m}' specified`;
    prefixMask(family, n, mask);
  } else if (!parseAddr(family, m, mask)) {
    return `invalid mask \`${m}' specified`;
  }
  for (let i = 0; i < 4; i++) addr[i] = addr[i]! & mask[i]!;
  return null;
}

/** formatMaskSuffix: `/n` for a contiguous mask, `/a.b.c.d` (or an IPv6 address) otherwise. */
export function formatMaskSuffix(family: number, mask: ArrayLike<number>): string {
  const len = maskPrefixLen(family, mask);
  if (len >= 0) return `/${len}`;
  return `/${formatAddr(family, mask)}`;
}

/** isZeroAddr: all four words zero. */
export function isZeroAddr(a: ArrayLike<number>): boolean {
  return a[0] === 0 && a[1] === 0 && a[2] === 0 && a[3] === 0;
}
