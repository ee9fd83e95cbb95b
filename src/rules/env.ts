/**
 * What the rules engine needs from the gateway at packet time, beyond src/core's CtView, IfaceView and
 * TargetEnv: the address classifier of the addrtype match. Kept here, small, so the engine can be tested
 * with fakes.
 *
 * Hot path: implementations must not allocate.
 */

/**
 * ADDRTYPE: address type bits as the addrtype match tests them (Linux XT_ADDRTYPE_*, which are
 * `1 << RTN_*`).
 */
export const ADDRTYPE = {
  UNSPEC: 1 << 0,
  UNICAST: 1 << 1,
  LOCAL: 1 << 2,
  BROADCAST: 1 << 3,
  ANYCAST: 1 << 4,
  MULTICAST: 1 << 5,
  BLACKHOLE: 1 << 6,
  UNREACHABLE: 1 << 7,
  PROHIBIT: 1 << 8,
  THROW: 1 << 9,
  NAT: 1 << 10,
  XRESOLVE: 1 << 11,
} as const;

/** ADDRTYPE_NAMES: names in bit order, as iptables prints them. */
export const ADDRTYPE_NAMES: readonly string[] = [
  "UNSPEC",
  "UNICAST",
  "LOCAL",
  "BROADCAST",
  "ANYCAST",
  "MULTICAST",
  "BLACKHOLE",
  "UNREACHABLE",
  "PROHIBIT",
  "THROW",
  "NAT",
  "XRESOLVE",
];

/**
 * AddrTypeView: classifies an address as the kernel's routing tables would (Linux
 * inet_dev_addr_type for IPv4, the route lookup of xt_addrtype's IPv6 path).
 */
export interface AddrTypeView {
  /**
   * addrType: the ADDRTYPE bits of `addr` (four int32 words, network order) for `family` 4 or 6.
   * `ifindex` is -1 for a lookup in all tables, or the interface to limit the lookup to
   * (--limit-iface-in/out). IPv4 returns exactly one bit (the route type); IPv6 may return several
   * (e.g. UNICAST | LOCAL), as Linux's IPv6 addrtype does.
   */
  addrType(family: number, addr: Int32Array, ifindex: number): number;
}
