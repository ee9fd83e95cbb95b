/**
 * Sysctl settings as `sysctl -a` prints them (`key = value`), read into a map. Keys use dots
 * (`net.netfilter.nf_conntrack_max`); `sysctl -a` also accepts slashes, so those are normalised.
 * Unknown keys are kept (and ignored by whoever does not know them); blank lines and `#`/`;` comments are
 * skipped. A line that is not `key = value` is an InputError with its line and column.
 */
import { InputError } from "../core/errors.js";

export type Sysctls = Map<string, string>;

/**
 * Keys ctnat reads whose values Linux keeps as integers (`sysctl -a` prints nothing else for them, and
 * writing anything else fails with EINVAL): a file saying otherwise is refused here, at its line, rather
 * than ignored or refused later without a place. net.ipv6.icmp.ratemask (a list of types) and
 * ip_local_port_range (two numbers) are checked for their own shapes.
 */
const INTEGER_KEY =
  /^net\.(netfilter\.nf_conntrack_\w+|ipv4\.(ip_forward\w*|ipfrag_\w+|icmp_\w+)|ipv6\.(conf\.all\.forwarding|icmp\.(?!ratemask$)\w+))$/;

/** parseSysctl: read `sysctl -a` text. @throws InputError for a malformed line. */
export function parseSysctl(text: string, file = ""): Sysctls {
  const out: Sysctls = new Map();
  const lines = text.split("\n");
  for (let i = 0; i < lines.length; i++) {
    const raw = lines[i]!.replace(/\r$/, "");
    const trimmed = raw.trim();
    if (trimmed === "" || trimmed.startsWith("#") || trimmed.startsWith(";")) continue;
    const eq = raw.indexOf("=");
    if (eq < 0) {
      throw new InputError(`expected "key = value", found ${JSON.stringify(trimmed.slice(0, 60))}`, {
        file,
        line: i + 1,
        column: raw.length - raw.trimStart().length + 1,
      });
    }
    const key = raw.slice(0, eq).trim().replace(/\//g, ".");
    if (key === "" || /\s/.test(key)) {
      throw new InputError(`bad sysctl key ${JSON.stringify(key)}`, { file, line: i + 1, column: 1 });
    }
    const after = raw.slice(eq + 1);
    const value = after.trim();
    const bad =
      (INTEGER_KEY.test(key) && !/^-?\d+$/.test(value)) ||
      (key === "net.ipv4.ip_local_port_range" && !/^\d+\s+\d+$/.test(value)) ||
      (key === "net.ipv6.icmp.ratemask" && !isTypeList(value));
    if (bad) {
      const what =
        key === "net.ipv4.ip_local_port_range"
          ? "two port numbers"
          : key === "net.ipv6.icmp.ratemask"
            ? "a list of ICMPv6 types like 0-1,3-127"
            : "an integer";
      throw new InputError(`${key}: expected ${what}, found ${JSON.stringify(value.slice(0, 60))}`, {
        file,
        line: i + 1,
        column: eq + 2 + (after.length - after.trimStart().length),
      });
    }
    out.set(key, value);
  }
  return out;
}

/** isTypeList: a bitmap list as Linux prints it ("0-1,3-127", or empty), numbers 0..255, ranges low-high */
function isTypeList(v: string): boolean {
  if (v === "") return true;
  for (const part of v.split(",")) {
    const m = /^(\d+)(?:-(\d+))?$/.exec(part.trim());
    if (m === null) return false;
    const a = Number(m[1]);
    const b = m[2] === undefined ? a : Number(m[2]);
    if (a > 255 || b > 255 || b < a) return false;
  }
  return true;
}

/** sysctlInt: an integer sysctl, or `dflt` when absent. @throws InputError when present but not an integer. */
export function sysctlInt(s: Sysctls, key: string, dflt: number, file = ""): number {
  const v = s.get(key);
  if (v === undefined) return dflt;
  if (!/^-?\d+$/.test(v)) throw new InputError(`${key}: expected an integer, found ${JSON.stringify(v)}`, { file });
  return Number(v);
}
