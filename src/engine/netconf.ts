/**
 * The gateway's description as `ip -j addr`, `ip -j route` and `ip -j -6 route` print it, read into
 * plain records. Pure: takes the JSON text, returns objects; the CLI reads the files.
 *
 * Errors are InputErrors naming the file and the place: a JSON syntax error by line and column, a
 * wrong shape by its JSON path (`[1].addr_info[0].prefixlen: expected a number`).
 */
import { InputError, lineColumnAt } from "../core/errors.js";
import { parseAddrInto } from "../wire/addr.js";

/** Address scopes as ip prints them (Linux RT_SCOPE_*). */
export const SCOPE: Readonly<Record<string, number>> = { global: 0, site: 200, link: 253, host: 254, nowhere: 255 };

/** NetAddr: one address of an interface. */
export interface NetAddr {
  family: 4 | 6;
  /** the local address, four int32 words */
  local: Int32Array;
  /** the peer (point-to-point) or the local address */
  address: Int32Array;
  prefixLen: number;
  /** IPv4 broadcast address, or null */
  broadcast: Int32Array | null;
  scope: number;
  secondary: boolean;
  /** IPv6 flags */
  deprecated: boolean;
  tentative: boolean;
  temporary: boolean;
  noprefixroute: boolean;
}

/** NetIface: one interface. */
export interface NetIface {
  ifindex: number;
  name: string;
  mtu: number;
  up: boolean;
  loopback: boolean;
  /** "ether", "loopback", "none" (tun), ... as ip prints link_type */
  linkType: string;
  /** link-layer address (6 bytes for Ethernet), or null */
  mac: Uint8Array | null;
  addrs: NetAddr[];
}

/** Route types as ip prints them. */
export const RouteType = {
  Unicast: 0,
  Local: 1,
  Broadcast: 2,
  Blackhole: 3,
  Unreachable: 4,
  Prohibit: 5,
  Throw: 6,
  Multicast: 7,
} as const;
const ROUTE_TYPES: Readonly<Record<string, number>> = {
  unicast: RouteType.Unicast,
  local: RouteType.Local,
  broadcast: RouteType.Broadcast,
  blackhole: RouteType.Blackhole,
  unreachable: RouteType.Unreachable,
  prohibit: RouteType.Prohibit,
  throw: RouteType.Throw,
  multicast: RouteType.Multicast,
};

/** NetRoute: one route of the main table. */
export interface NetRoute {
  family: 4 | 6;
  type: number;
  dst: Int32Array;
  prefixLen: number;
  /** next hop, or null for on-link */
  gateway: Int32Array | null;
  /** output interface name ("" when the route has none, e.g. unreachable) */
  dev: string;
  /** preferred source address, or null */
  prefsrc: Int32Array | null;
  metric: number;
  /** route MTU (`mtu` metric), 0 when not set */
  mtu: number;
  /** route hop limit (`hoplimit` metric), 0 when not set */
  hopLimit: number;
}

type Json = unknown;

function parseJson(text: string, file: string): Json {
  try {
    return JSON.parse(text);
  } catch (e) {
    const msg = (e as Error).message;
    const m = /position (\d+)/.exec(msg);
    if (m) {
      const { line, column } = lineColumnAt(text, Number(m[1]));
      throw new InputError(`invalid JSON: ${msg.replace(/ in JSON at position \d+.*$/, "")}`, { file, line, column });
    }
    throw new InputError(`invalid JSON: ${msg}`, { file });
  }
}

class Shape {
  readonly file: string;
  readonly what: string;
  constructor(file: string, what: string) {
    this.file = file;
    this.what = what;
  }
  fail(path: string, msg: string): never {
    throw new InputError(`${path}: ${msg} (expected ${this.what})`, { file: this.file });
  }
  obj(v: Json, path: string): Record<string, Json> {
    if (v === null || typeof v !== "object" || Array.isArray(v)) this.fail(path, "expected an object");
    return v as Record<string, Json>;
  }
  arr(v: Json, path: string): Json[] {
    if (!Array.isArray(v)) this.fail(path, "expected an array");
    return v;
  }
  str(v: Json, path: string): string {
    if (typeof v !== "string") this.fail(path, "expected a string");
    return v;
  }
  num(v: Json, path: string): number {
    if (typeof v !== "number" || !Number.isFinite(v)) this.fail(path, "expected a number");
    return v;
  }
  addr(v: Json, path: string, family?: number): Int32Array {
    const s = this.str(v, path);
    const out = new Int32Array(4);
    const f = parseAddrInto(out, s);
    if (f === 0) this.fail(path, `not an IP address: ${JSON.stringify(s)}`);
    if (family !== undefined && f !== family) this.fail(path, `expected an IPv${family} address, found ${s}`);
    return out;
  }
}

function parseMac(s: string): Uint8Array | null {
  const parts = s.split(":");
  if (parts.length < 2 || parts.some((p) => !/^[0-9a-fA-F]{1,2}$/.test(p))) return null;
  return Uint8Array.from(parts.map((p) => Number.parseInt(p, 16)));
}

/**
 * parseIpAddrJson: `ip -j addr` output. Interfaces keep the file's order (ifindex order as ip prints
 * them); addresses keep each interface's order (the kernel's list order, which address selection uses).
 * @throws InputError
 */
export function parseIpAddrJson(text: string, file = "addr"): NetIface[] {
  const sh = new Shape(file, "`ip -j addr` output");
  const root = sh.arr(parseJson(text, file), "(top level)");
  const out: NetIface[] = [];
  const seen = new Set<string>();
  const indexes = new Set<number>();
  root.forEach((item, i) => {
    const p = `[${i}]`;
    const o = sh.obj(item, p);
    const name = sh.str(o.ifname, `${p}.ifname`);
    if (seen.has(name)) sh.fail(`${p}.ifname`, `interface ${name} listed twice`);
    seen.add(name);
    const ifindex = sh.num(o.ifindex, `${p}.ifindex`);
    // Linux interface indexes are positive ints, one per interface
    if (!Number.isInteger(ifindex) || ifindex < 1 || ifindex > 0x7fffffff) {
      sh.fail(`${p}.ifindex`, `interface index ${ifindex} is not a positive integer`);
    }
    if (indexes.has(ifindex)) sh.fail(`${p}.ifindex`, `interface index ${ifindex} listed twice`);
    indexes.add(ifindex);
    const flags =
      o.flags === undefined ? [] : sh.arr(o.flags, `${p}.flags`).map((f, k) => sh.str(f, `${p}.flags[${k}]`));
    const linkType = o.link_type === undefined ? "ether" : sh.str(o.link_type, `${p}.link_type`);
    const mtu = o.mtu === undefined ? 1500 : sh.num(o.mtu, `${p}.mtu`);
    if (mtu < 68 || mtu > 65536 || !Number.isInteger(mtu)) sh.fail(`${p}.mtu`, `MTU ${mtu} out of range 68..65536`);
    const mac = typeof o.address === "string" ? parseMac(o.address) : null;
    // an Ethernet interface's address is its MAC (other link types print other things there)
    if (linkType === "ether" && o.address !== undefined && mac === null) {
      sh.fail(`${p}.address`, `not a link-layer address: ${JSON.stringify(o.address)}`);
    }
    const addrs: NetAddr[] = [];
    const ai = o.addr_info === undefined ? [] : sh.arr(o.addr_info, `${p}.addr_info`);
    ai.forEach((a, k) => {
      const q = `${p}.addr_info[${k}]`;
      const ao = sh.obj(a, q);
      const fam = sh.str(ao.family, `${q}.family`);
      if (fam !== "inet" && fam !== "inet6") return; // other families (e.g. "link") carry no IP address
      const family = fam === "inet" ? 4 : 6;
      const local = sh.addr(ao.local, `${q}.local`, family);
      const prefixLen = sh.num(ao.prefixlen, `${q}.prefixlen`);
      if (!Number.isInteger(prefixLen) || prefixLen < 0 || prefixLen > (family === 4 ? 32 : 128)) {
        sh.fail(`${q}.prefixlen`, `prefix length ${prefixLen} out of range`);
      }
      const scopeName = ao.scope === undefined ? "global" : sh.str(ao.scope, `${q}.scope`);
      const scope = Object.hasOwn(SCOPE, scopeName)
        ? SCOPE[scopeName]!
        : /^\d+$/.test(scopeName)
          ? Number(scopeName)
          : sh.fail(`${q}.scope`, `unknown scope ${scopeName}`);
      addrs.push({
        family,
        local,
        address: ao.address === undefined ? local : sh.addr(ao.address, `${q}.address`, family),
        prefixLen,
        broadcast: ao.broadcast === undefined ? null : sh.addr(ao.broadcast, `${q}.broadcast`, 4),
        scope,
        secondary: ao.secondary === true,
        deprecated: ao.deprecated === true,
        tentative: ao.tentative === true,
        temporary: ao.temporary === true,
        noprefixroute: ao.noprefixroute === true,
      });
    });
    out.push({
      ifindex,
      name,
      mtu,
      up: flags.includes("UP"),
      loopback: flags.includes("LOOPBACK") || linkType === "loopback",
      linkType,
      mac,
      addrs,
    });
  });
  return out;
}

/**
 * parseIpRouteJson: `ip -j route` / `ip -j -6 route` output (main table). Multipath routes take their
 * * are refused: Linux hashes flows over their next hops, and a silent choice would give wrong answers.
 * @throws InputError
 */
export function parseIpRouteJson(text: string, family: 4 | 6, file = family === 4 ? "route" : "route6"): NetRoute[] {
  const sh = new Shape(file, `\`ip -j ${family === 6 ? "-6 " : ""}route\` output`);
  const root = sh.arr(parseJson(text, file), "(top level)");
  const out: NetRoute[] = [];
  root.forEach((item, i) => {
    const p = `[${i}]`;
    const o = sh.obj(item, p);
    if (o.nexthops !== undefined) sh.fail(`${p}.nexthops`, "multipath routes are not supported");
    const typeName = o.type === undefined ? "unicast" : sh.str(o.type, `${p}.type`);
    // own properties only: "constructor" is not a route type
    const type = Object.hasOwn(ROUTE_TYPES, typeName)
      ? ROUTE_TYPES[typeName]!
      : sh.fail(`${p}.type`, `unknown route type ${typeName}`);
    const dstText = sh.str(o.dst, `${p}.dst`);
    let dst: Int32Array;
    let prefixLen: number;
    if (dstText === "default") {
      dst = new Int32Array(4);
      prefixLen = 0;
    } else {
      const slash = dstText.indexOf("/");
      dst = sh.addr(slash < 0 ? dstText : dstText.slice(0, slash), `${p}.dst`, family);
      prefixLen = slash < 0 ? (family === 4 ? 32 : 128) : Number(dstText.slice(slash + 1));
      if (!Number.isInteger(prefixLen) || prefixLen < 0 || prefixLen > (family === 4 ? 32 : 128)) {
        sh.fail(`${p}.dst`, `bad prefix length in ${dstText}`);
      }
    }
    let mtu = 0;
    let hopLimit = 0;
    if (o.metrics !== undefined) {
      for (const [k, m] of sh.arr(o.metrics, `${p}.metrics`).entries()) {
        const mo = sh.obj(m, `${p}.metrics[${k}]`);
        if (mo.mtu !== undefined) mtu = sh.num(mo.mtu, `${p}.metrics[${k}].mtu`);
        if (mo.hoplimit !== undefined) hopLimit = sh.num(mo.hoplimit, `${p}.metrics[${k}].hoplimit`);
      }
    }
    out.push({
      family,
      type,
      dst,
      prefixLen,
      gateway: o.gateway === undefined ? null : sh.addr(o.gateway, `${p}.gateway`, family),
      dev: o.dev === undefined ? "" : sh.str(o.dev, `${p}.dev`),
      prefsrc: o.prefsrc === undefined ? null : sh.addr(o.prefsrc, `${p}.prefsrc`, family),
      metric: o.metric === undefined ? 0 : sh.num(o.metric, `${p}.metric`),
      mtu,
      hopLimit,
    });
  });
  return out;
}
