/**
 * A small gateway for the unit tests: lo, lan0 (10.0.0.1/24, fd00:1::1/64, fe80::1/64) and wan0
 * (192.0.2.1/24, fd00:2::1/64, fe80::2/64), default routes via the wan, and helpers to parse packets into
 * a PacketContext and read back what the stack built.
 */
import { PacketType } from "../../core/skb.js";
import { parseAddr } from "../../wire/addr.js";
import { buildPacket, type PacketSpec } from "../../wire/build.js";
import { verifyIpv4HeaderChecksum, verifyL4Checksum } from "../../wire/checksum.js";
import { PacketInfo, WireStatus } from "../../wire/packet-info.js";
import { parsePacket } from "../../wire/parse.js";
import { StackConfig } from "../config.js";
import { type TableRoute, TableRoutes } from "../routes.js";
import { type PacketContext, Stack } from "../stack.js";

export const LO = 1;
export const LAN = 2;
export const WAN = 3;

export function testRoutes(extra: TableRoute[] = [], withDefault = true): TableRoutes {
  const routes: TableRoute[] = [...extra];
  if (withDefault) {
    routes.push({ dst: "default", via: "192.0.2.254", dev: WAN });
    routes.push({ dst: "default6", via: "fd00:2::fe", dev: WAN });
  }
  return new TableRoutes(
    [
      { ifindex: LO, mtu: 65536, loopback: true, addrs: ["127.0.0.1/8", "::1/128"] },
      { ifindex: LAN, mtu: 1500, addrs: ["10.0.0.1/24", "fd00:1::1/64", "fe80::1/64"] },
      { ifindex: WAN, mtu: 1500, addrs: ["192.0.2.1/24", "fd00:2::1/64", "fe80::2/64"] },
    ],
    routes,
  );
}

export class TestCtx implements PacketContext {
  readonly pi = new PacketInfo();
  inIf = LAN;
  pktType: number = PacketType.Host;
  now = 1000;
  locallyGenerated = false;
}

export interface Env {
  stack: Stack;
  config: StackConfig;
  out: Uint8Array;
}

export function env(tweak?: (c: StackConfig) => void, routes: TableRoutes = testRoutes()): Env {
  const config = new StackConfig();
  if (tweak) tweak(config);
  return { stack: new Stack(config, routes), config, out: new Uint8Array(70000) };
}

/** ctx: a context holding the parse of `spec` (or of raw bytes). */
export function ctx(
  spec: PacketSpec | Uint8Array,
  opts: Partial<Pick<TestCtx, "inIf" | "pktType" | "now" | "locallyGenerated">> = {},
): TestCtx {
  const c = new TestCtx();
  const bytes = spec instanceof Uint8Array ? spec : buildPacket(spec);
  parsePacket(c.pi, bytes, 0, bytes.length);
  Object.assign(c, opts);
  return c;
}

/** Reply: the parse of what the stack built, checked for sound headers and checksums. */
export function reply(out: Uint8Array, len: number): PacketInfo {
  const bytes = out.slice(0, len);
  const pi = new PacketInfo();
  const st = parsePacket(pi, bytes, 0, len);
  if (st !== WireStatus.Ok) throw new Error(`built packet does not parse: status ${st}`);
  if (pi.family === 4 && !verifyIpv4HeaderChecksum(pi)) throw new Error("bad IPv4 header checksum");
  if (verifyL4Checksum(pi) !== WireStatus.Ok) throw new Error("bad transport checksum");
  return pi;
}

export function a4(s: string): number {
  return parseAddr(s)[0];
}

export function a6(s: string): Int32Array {
  return parseAddr(s);
}
