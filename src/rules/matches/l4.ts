/**
 * Transport-header access for matches, with Linux's rules for fragments and truncated headers
 * (skb_header_pointer returning NULL → hotdrop).
 */
import type { PacketInfo } from "../../wire/packet-info.js";

/**
 * l4Header: absolute offset of the transport header when `need` bytes of it are in the packet, -1 when
 * they are not (the caller hotdrops). Callers check `pi.fragOff` first: non-first fragments have no
 * transport header at all.
 */
export function l4Header(pi: PacketInfo, need: number): number {
  const o = pi.l4Off;
  if (pi.status !== 0 || o <= 0) return -1;
  const end = pi.off + pi.len;
  if (o + need > end || o + need > pi.buf.length) return -1;
  return o;
}

/** portIn: Linux port_match(min, max, port, invert). */
export function portIn(min: number, max: number, port: number, inv: boolean): boolean {
  return (port >= min && port <= max) !== inv;
}

/** formatPorts: `a` or `a:b`, as the tcp/udp save functions print a range. */
export function formatPortRange(min: number, max: number): string {
  return min === max ? `${min}` : `${min}:${max}`;
}

/** printPorts: the -L text of a port range (libxt_tcp print_ports): ` spt:80`, ` dpts:!1:2`. */
export function printPorts(name: string, min: number, max: number, inv: boolean): string {
  if (min === 0 && max === 65535 && !inv) return "";
  const i = inv ? "!" : "";
  return min === max ? ` ${name}:${i}${min}` : ` ${name}s:${i}${min}:${max}`;
}
