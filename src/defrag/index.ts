/**
 * ctnat defrag: IPv4/IPv6 reassembly as Linux's nf_defrag does it in front of conntrack, and output
 * fragmentation as Linux's ip_fragment / ip6_fragment do it (including the re-fragmentation of
 * reassembled packets to their original fragment sizes).
 */

export type { FragmentSink } from "./fragmenter.js";
export {
  Fragmenter,
  FragOutput,
  ipv4ExceedsMtu,
  ipv4OptionsFragment,
  ipv6FindFirstFragOpt,
  ipv6PktTooBig,
} from "./fragmenter.js";
export type { DefragOptions, ExpiredFragment } from "./reassembler.js";
export { DefragReason, DefragStats, DefragUser, DefragVerdict, FragInfo, Reassembler } from "./reassembler.js";
export { defaultTruesize, IPV4_FRAG_QUEUE_SIZE, IPV6_FRAG_QUEUE_SIZE } from "./truesize.js";
