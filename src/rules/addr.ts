/**
 * Address text for rulesets: IPv4 and IPv6 addresses, masks and prefixes, parsed into the four-int32-word
 * form PacketInfo uses (network order, word 0 = first four bytes; IPv4 uses word 0 only) and printed as
 * iptables prints them (IPv4 dotted quads, IPv6 as glibc inet_ntop does, masks as `/n` when contiguous and
 * as an address otherwise). Load time and printing only; nothing here runs per packet.
 */
import { parseAddrInto, formatIpv4 as wireFormatIpv4, formatIpv6 as wireFormatIpv6 } from "../wire/addr.js";

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

/** formatIpv4: int32 (network order) to a dotted quad (src/wire/addr.ts). */
export const formatIpv4 = wireFormatIpv4;

/** parseIpv6: text to four int32 words written into `out` (inet_pton, as iptables reads it); false when malformed. */
export function parseIpv6(s: string, out: Int32Array): boolean {
  return s.includes(":") && parseAddrInto(out, s) === 6;
}

/** formatIpv6: four int32 words to text, as glibc inet_ntop prints it (src/wire/addr.ts). */
export const formatIpv6 = wireFormatIpv6;

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
