/**
 * Number, port and mark parsing as iptables' libxtables does it (load time only).
 */
import type { ParseCtx } from "./types.js";

/**
 * parseUint: an unsigned integer as libxtables xtables_strtoui reads it with base 0 (decimal, `0x` hex,
 * leading-zero octal), within [min, max]; null when malformed or out of range.
 */
export function parseUint(s: string, min = 0, max = 0xffffffff, base0 = true): number | null {
  let v: number;
  if (base0 && /^0[xX][0-9a-fA-F]+$/.test(s)) v = Number.parseInt(s.slice(2), 16);
  else if (base0 && /^0[0-7]+$/.test(s)) v = Number.parseInt(s.slice(1), 8);
  else if (/^[0-9]+$/.test(s)) v = Number(s);
  else return null;
  if (!Number.isFinite(v) || v < min || v > max) return null;
  return v;
}

/** uintOrFail: parseUint or a load error at the argument. */
export function uintOrFail(p: ParseCtx, s: string, what: string, min = 0, max = 0xffffffff, base0 = true): number {
  const v = parseUint(s, min, max, base0);
  if (v === null) p.failArg(`invalid ${what} \`${s}' (must be between ${min} and ${max})`);
  return v;
}

// service names iptables would resolve through /etc/services (the common ones; Debian netbase numbers)
const SERVICES: Readonly<Record<string, number>> = {
  auth: 113,
  bootpc: 68,
  bootps: 67,
  domain: 53,
  "domain-s": 853,
  epmd: 4369,
  finger: 79,
  ftp: 21,
  "ftp-data": 20,
  http: 80,
  "http-alt": 8080,
  https: 443,
  imap2: 143,
  imap: 143,
  imaps: 993,
  ipp: 631,
  "ipsec-nat-t": 4500,
  isakmp: 500,
  kerberos: 88,
  ldap: 389,
  ldaps: 636,
  mdns: 5353,
  "microsoft-ds": 445,
  "ms-sql-s": 1433,
  mysql: 3306,
  "netbios-dgm": 138,
  "netbios-ns": 137,
  "netbios-ssn": 139,
  nfs: 2049,
  ntp: 123,
  openvpn: 1194,
  pop3: 110,
  pop3s: 995,
  postgresql: 5432,
  printer: 515,
  radius: 1812,
  "radius-acct": 1813,
  rsync: 873,
  sip: 5060,
  smtp: 25,
  snmp: 161,
  "snmp-trap": 162,
  socks: 1080,
  ssh: 22,
  submission: 587,
  sunrpc: 111,
  syslog: 514,
  telnet: 23,
  tftp: 69,
  whois: 43,
  x11: 6000,
  "xmpp-client": 5222,
  www: 80,
};

/** parsePort: a port number or a service name; -1 when neither. */
export function parsePort(s: string): number {
  if (/^[0-9]+$/.test(s)) {
    const n = Number(s);
    return n <= 65535 ? n : -1;
  }
  // own properties only: "constructor" or "toString" are not services
  return Object.hasOwn(SERVICES, s) ? SERVICES[s]! : -1;
}

/** portOrFail: parsePort or a load error. */
export function portOrFail(p: ParseCtx, s: string): number {
  const v = parsePort(s);
  if (v < 0) p.failArg(`invalid port/service \`${s}' specified`);
  return v;
}

/**
 * parsePortRange: `a`, `a:b`, `a:` (to 65535) or `:b` (from 0) into out[0..1], as libxt_tcp's
 * parse_tcp_ports does. A reversed range is kept as written (it then never matches, as in Linux);
 * the tcp match refuses it, as libxt_tcp does, and the udp match keeps it, as libxt_udp does.
 */
export function parsePortRange(p: ParseCtx, s: string, out: number[]): void {
  const c = s.indexOf(":");
  if (c < 0) {
    out[0] = out[1] = portOrFail(p, s);
    return;
  }
  const a = s.slice(0, c);
  const b = s.slice(c + 1);
  out[0] = a === "" ? 0 : portOrFail(p, a);
  out[1] = b === "" ? 65535 : portOrFail(p, b);
}

/** parseMarkMask: `value[/mask]` (each base 0, 32-bit) as xtables_parse_mark_mask; mask defaults to all ones. */
export function parseMarkMask(p: ParseCtx, s: string): [number, number] {
  const slash = s.indexOf("/");
  const vs = slash < 0 ? s : s.slice(0, slash);
  const ms = slash < 0 ? null : s.slice(slash + 1);
  const v = parseUint(vs);
  if (v === null) p.failArg(`bad mark value \`${s}'`);
  let m = 0xffffffff;
  if (ms !== null) {
    const mm = parseUint(ms);
    if (mm === null) p.failArg(`bad mask \`${s}'`);
    m = mm;
  }
  return [v >>> 0, m >>> 0];
}

/** hex: `0x` + lowercase hexadecimal of a u32, as iptables prints marks. */
export function hex(v: number): string {
  return `0x${(v >>> 0).toString(16)}`;
}
