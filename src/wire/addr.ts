/**
 * IP address text <-> int32 words (the PacketInfo / Tuple form: four int32 words in network order,
 * IPv4 in word 0 with words 1..3 zero).
 *
 * `formatAddr` prints IPv6 exactly as glibc's inet_ntop does, because conntrack -L and iptables-save
 * print through it: the longest run of two or more zero groups becomes "::" (the first such run on a
 * tie; a single zero group is printed as "0"), hex digits are lower case without leading zeros, and
 * the last 32 bits print as a dotted quad when the address is IPv4-compatible (groups 0..5 zero and
 * group 6 non-zero: "::1.2.3.4"; "::0.0.0.2" prints as "::2") or IPv4-mapped ("::ffff:1.2.3.4").
 *
 * Slow path: these functions allocate strings.
 */

/** AddrSyntaxError: text that is not an IPv4 or IPv6 address (configuration input). */
export class AddrSyntaxError extends Error {
  override readonly name = "AddrSyntaxError";
  readonly text: string;
  constructor(text: string) {
    super(`not an IP address: ${JSON.stringify(text)}`);
    this.text = text;
  }
}

/** isAddrSyntaxError: type guard for AddrSyntaxError. */
export function isAddrSyntaxError(e: unknown): e is AddrSyntaxError {
  return e instanceof AddrSyntaxError;
}

/**
 * parseIpv4Text: s[start, end) as "a.b.c.d" the way inet_pton reads it (four decimal parts 0..255 of
 * 1..3 digits, no leading zero in a multi-digit part) into out[0] as an int32; false on error.
 */
function parseIpv4Text(s: string, start: number, end: number, out: number[]): boolean {
  let parts = 0;
  let val = 0;
  let digits = 0;
  let word = 0;
  for (let i = start; i <= end; i++) {
    const c = i < end ? s.charCodeAt(i) : 46;
    if (c >= 48 && c <= 57) {
      // inet_pton: no leading zero in a multi-digit part
      if (digits > 0 && val === 0) return false;
      val = val * 10 + (c - 48);
      if (++digits > 3 || val > 255) return false;
    } else if (c === 46) {
      if (digits === 0 || parts === 4) return false;
      word = (word << 8) | val;
      parts++;
      val = 0;
      digits = 0;
    } else {
      return false;
    }
  }
  if (parts !== 4) return false;
  out[0] = word | 0;
  return true;
}

/**
 * parseAddrInto: parse IPv4 dotted-quad or IPv6 text (RFC 4291 §2.2 forms, as inet_pton accepts them)
 * into `out` (four int32 words). Returns the family (4 or 6), or 0 when the text is not an address
 * (`out` is then unspecified).
 */
export function parseAddrInto(out: Int32Array, s: string): number {
  out.fill(0);
  if (s.indexOf(":") < 0) {
    const w: number[] = [0];
    if (!parseIpv4Text(s, 0, s.length, w)) return 0;
    out[0] = w[0];
    return 4;
  }
  const groups: number[] = [];
  let gap = -1;
  let i = 0;
  const n = s.length;
  if (n < 2) return 0;
  if (s.charCodeAt(0) === 58) {
    if (s.charCodeAt(1) !== 58) return 0;
    gap = 0;
    i = 2;
    if (i === n) {
      return 6;
    }
  }
  while (i < n) {
    // one group, or a trailing dotted quad
    let j = i;
    let v = 0;
    while (j < n && j - i < 5) {
      const c = s.charCodeAt(j);
      let d: number;
      if (c >= 48 && c <= 57) d = c - 48;
      else if (c >= 97 && c <= 102) d = c - 87;
      else if (c >= 65 && c <= 70) d = c - 55;
      else break;
      v = (v << 4) | d;
      j++;
    }
    if (j < n && s.charCodeAt(j) === 46) {
      // embedded IPv4 in the last 32 bits
      const w: number[] = [0];
      if (!parseIpv4Text(s, i, n, w)) return 0;
      groups.push((w[0] >>> 16) & 0xffff, w[0] & 0xffff);
      i = n;
      break;
    }
    if (j === i || j - i > 4) return 0;
    groups.push(v);
    i = j;
    if (i === n) break;
    if (s.charCodeAt(i) !== 58) return 0;
    i++;
    if (i < n && s.charCodeAt(i) === 58) {
      if (gap >= 0) return 0;
      gap = groups.length;
      i++;
    } else if (i === n) {
      return 0; // trailing single ":"
    }
  }
  if (gap < 0) {
    if (groups.length !== 8) return 0;
  } else if (groups.length > 7) {
    return 0;
  }
  const all = new Array<number>(8).fill(0);
  if (gap < 0) {
    for (let k = 0; k < 8; k++) all[k] = groups[k];
  } else {
    for (let k = 0; k < gap; k++) all[k] = groups[k];
    const tail = groups.length - gap;
    for (let k = 0; k < tail; k++) all[8 - tail + k] = groups[gap + k];
  }
  for (let k = 0; k < 4; k++) out[k] = (all[2 * k] << 16) | all[2 * k + 1];
  return 6;
}

/**
 * parseAddr: parse an address into a new Int32Array(4).
 * @throws AddrSyntaxError when the text is not an IPv4 or IPv6 address.
 */
export function parseAddr(s: string): Int32Array {
  const out = new Int32Array(4);
  if (parseAddrInto(out, s) === 0) throw new AddrSyntaxError(s);
  return out;
}

/** addrFamily: 4 or 6 for address text, 0 if it is neither. */
export function addrFamily(s: string): number {
  return parseAddrInto(new Int32Array(4), s);
}

/** formatIpv4: an int32 IPv4 address as dotted quad. */
export function formatIpv4(w: number): string {
  return `${(w >>> 24) & 0xff}.${(w >>> 16) & 0xff}.${(w >>> 8) & 0xff}.${w & 0xff}`;
}

/**
 * formatIpv6: four int32 words as glibc inet_ntop prints an IPv6 address (see the module header):
 * "fd00::1", "::", "::ffff:10.0.0.1", "::10.0.0.1", "1:0:2::3".
 */
export function formatIpv6(words: ArrayLike<number>): string {
  const g = [0, 0, 0, 0, 0, 0, 0, 0];
  for (let k = 0; k < 4; k++) {
    g[2 * k] = (words[k] >>> 16) & 0xffff;
    g[2 * k + 1] = words[k] & 0xffff;
  }
  // longest run of zero groups; the first wins a tie; runs of one are not compressed
  let bestBase = -1;
  let bestLen = 0;
  let curBase = -1;
  let curLen = 0;
  for (let k = 0; k < 8; k++) {
    if (g[k] === 0) {
      if (curBase < 0) {
        curBase = k;
        curLen = 1;
      } else {
        curLen++;
      }
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
  let out = "";
  for (let k = 0; k < 8; k++) {
    if (bestBase >= 0 && k >= bestBase && k < bestBase + bestLen) {
      if (k === bestBase) out += ":";
      continue;
    }
    if (k !== 0) out += ":";
    // IPv4-compatible (::a.b.c.d, first 96 bits zero) or IPv4-mapped (::ffff:a.b.c.d)
    if (k === 6 && bestBase === 0 && (bestLen === 6 || (bestLen === 5 && g[5] === 0xffff))) {
      out += formatIpv4(words[3] | 0);
      return out;
    }
    out += g[k].toString(16);
  }
  if (bestBase >= 0 && bestBase + bestLen === 8) out += ":";
  return out;
}

/** formatAddr: words as text for `family` 4 (dotted quad of word 0) or 6 (inet_ntop form). */
export function formatAddr(words: ArrayLike<number>, family: number): string {
  return family === 4 ? formatIpv4(words[0] | 0) : formatIpv6(words);
}
