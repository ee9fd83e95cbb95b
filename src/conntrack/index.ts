/**
 * ctnat conntrack: Linux nf_conntrack (6.x semantics) for IPv4 and IPv6.
 *
 * ## Packet path (what the engine calls)
 *
 *   const ct = new Conntrack({ config: ctConfigFromSysctl(sysctls), seed });
 *
 *   PREROUTING / OUTPUT, priority -200:   ct.in(skb, hook)    -> Verdict (Accept, or Drop: table full)
 *   INPUT / POSTROUTING, last priority:   ct.confirm(skb)     -> Verdict (Accept, or Drop: insert clash)
 *   packet dropped/stolen before confirm: ct.release(skb)     (frees its unconfirmed entry)
 *
 * - `in` reads `skb.pi` (parsed, reassembled packet), `skb.now` (seconds), `skb.notrack`, and sets
 *   `skb.ct` (entry id, -1 none) and `skb.ctInfo` (CtInfo: New, Established, Related, the *Reply
 *   variants, Untracked, or None = INVALID). After it, `ct.reason` is a CtReason (why INVALID, or an
 *   informational code such as TcpIgnored). A packet that already has an entry (or is UNTRACKED) is
 *   left alone, as Linux does for looped-back packets.
 * - Call `confirm` for every packet that reaches the last hook with skb.ct >= 0 (it also delivers
 *   pending [UPDATE] events of confirmed entries). On Drop the entry is already freed and skb.ct = -1.
 * - Call `release` when a packet with an unconfirmed entry is dropped (filter DROP/REJECT, NAT failure,
 *   routing failure). Calling it for any packet is safe.
 * - ICMP/ICMPv6 errors get skb.ct = the connection of the quoted packet and skb.ctInfo =
 *   CtInfo.Related (error travelling in the original direction) or CtInfo.RelatedReply; conntrack does
 *   not refresh the entry for them (as Linux). NAT then rewrites the quoted packet from the entry.
 * - An entry a packet refers to stays readable until the packet is done even if it was deleted
 *   meanwhile (a TCP RST before any reply deletes its entry at once, but the RST still carries it).
 * - Batching (optional): an engine that handles packets in batches can call
 *   `ct.prefetchBatch(pis, n)` (or `ct.prefetch(pi)` per packet) for a group of parsed packets (up to
 *   64) before running them through the hooks; the group's cache misses (index bucket, then the
 *   record's two lines) then overlap instead of stalling each packet. Better still, software
 *   pipelining: `ct.prefetchIndex(pis, n, pf)` for the next group (one CtPrefetch per group in
 *   flight) and `ct.prefetchEntries(pf)` for the group about to run, whose buckets have arrived by
 *   then. None of these changes anything in the table.
 * - `reason` after `in`: a CtReason; `ctReasonIsInvalid(reason)` tells an INVALID classification
 *   from informational codes (TcpIgnored and the other TCP "ignore" cases, accepted as Linux does).
 *
 * ## Entry ids
 *
 * `ct` is the slot index for IPv4 entries and `slot | CT_V6` for IPv6 entries (`ctFamily(ct)`,
 * `ctSlot(ct)`). Per-entry side arrays of other modules are per family, indexed by `ctSlot(ct)` and
 * sized by `ct.capacity(family)`; `setCapacityHook((family, capacity) => ...)` is called after a store
 * grows (arrays must then be enlarged, keeping their contents). Slots are reused after an entry leaves
 * the table: `setDestroyHook(ct => ...)` is called once for every entry that leaves (killed, expired,
 * early-dropped, unconfirmed entry released), before its slot can be reused.
 *
 * ## NAT support (Linux names in brackets)
 *
 * - `tuple(ct, dir, out)` / `setTuple(ct, dir, t)`: read any entry's tuples; overwrite one of an
 *   UNCONFIRMED entry [nf_conntrack_alter_reply: setTuple(ct, Dir.Reply, t)].
 * - `tupleTaken(t, ignoreCt)` [nf_conntrack_tuple_taken]; `findTuple(t)` + `foundDir`
 *   [nf_conntrack_find_get]; `kill(ct)` [nf_ct_kill]; `tcpState(ct)`, `tcpSeenEnd(ct, dir)` (for the
 *   TIME_WAIT eviction of nf_nat_used_tuple_harder).
 * - `status(ct)`, `setStatus(ct, bits)`, `clearStatus(ct, bits)` (IPS_* bits: SRC_NAT, DST_NAT,
 *   SRC_NAT_DONE, DST_NAT_DONE...); `isConfirmed(ct)`.
 * - Fast access for per-packet rewriting: `storeOf(ct)` gives the family's CtStore; the tuple of
 *   direction d starts at `ctSlot(ct) * store.stride + d * store.node` in `store.rec`: src words
 *   [0, aw), dst words [aw, 2aw), ports word `(srcPort << 16) | dstPort` at 2aw (ICMP: id << 16 |
 *   type << 8 | code); the AUX word at `ctSlot(ct) * store.stride + 2 * store.node` holds the protocol
 *   in its top byte and 24 bits for NAT below (zeroed for a new entry; NAT keeps the MASQUERADE
 *   interface there). Read-only outside setTuple and NAT's AUX bits. `store.rec` may be replaced on
 *   growth: re-read it.
 *
 * ## Rules support
 *
 * Conntrack implements CtView (status, mark/setMark, l4proto, tuple, expiresIn, tcpState).
 *
 * ## Table
 *
 * Timeouts are Linux's defaults overridden by `net.netfilter.nf_conntrack_*` sysctls
 * (`ctConfigFromSysctl`). `nf_conntrack_max` (default 262144, 0 = unlimited) is enforced with Linux's
 * early drop of non-ASSURED entries; expired entries are invisible to lookups and listings at once
 * and are reclaimed by an amortised garbage collector driven by packet time (`gcStep`, run from `in`)
 * or a full sweep (`gcAll(now)`). Output: `listEntries` (conntrack -L), `formatEvent` with
 * `setEventSink` (conntrack -E), `formatStats` (conntrack -S). `deleteTuple(t)` and `flush(filter)`
 * delete entries ([DESTROY] events).
 */

export { CtConfig, ctConfigFromSysctl, defaultCtConfig, HZ, SctpCtState, TcpCtState, toTicks } from "./config.js";
export type { CapacityHook, ConntrackOptions, DestroyHook, EventSink } from "./conntrack.js";
export { Conntrack, CT_V6, CtEvent, CtPrefetch, CtStats, ctFamily, ctSlot, zoneOfSkb } from "./conntrack.js";
export { formatEntry, formatEvent, formatStats, formatTuple, listEntries, protoName } from "./format.js";
export { invertible, invertPorts } from "./icmp.js";
export { CtReason, ctReasonIsInvalid, ctReasonName } from "./reasons.js";
export { SCTP_STATE_NAMES } from "./sctp.js";
export { CtStore } from "./store.js";
export { TCP_STATE_NAMES } from "./tcp-states.js";
