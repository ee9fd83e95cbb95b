// ctnat: Linux netfilter (connection tracking, NAT, iptables) in pure TypeScript.
// The root export is the embedding API; each layer has its own subpath (ctnat/wire, ctnat/pcap,
// ctnat/conntrack, ctnat/nat, ctnat/rules, ctnat/defrag, ctnat/engine).

// netfilter vocabulary
export type { CtView, IfaceView, TargetEnv } from "./core/env.js";
// errors
export { InputError, isInputError } from "./core/errors.js";
export {
  CT_IS_REPLY,
  CtInfo,
  CtState,
  Dir,
  HOOK_NAMES,
  Hook,
  IPPROTO,
  IPS,
  Manip,
  NatRange,
  NatRangeFlag,
  Verdict,
} from "./core/netfilter.js";
export { PacketType, Skb } from "./core/skb.js";
export { Tuple } from "./core/tuple.js";
// the gateway as an object
export type {
  Connection,
  Endpoints,
  FlowSpec,
  GatewayOptions,
  InterfaceSpec,
  PacketTrace,
  RouteSpec,
  SentPacket,
} from "./engine/index.js";
export { createGateway, EmbeddedGateway, formatIpPacket, formatTraceText, PacketBatch } from "./engine/index.js";
export type { PacketSpec } from "./wire/index.js";
// building and printing packets
export { buildPacket, formatAddr, formatPacket, parseAddr } from "./wire/index.js";
