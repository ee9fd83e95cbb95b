/**
 * Reassembler: IPv4 and IPv6 fragment reassembly as Linux's connection tracking does it before
 * conntrack sees a packet (nf_defrag_ipv4 -> ip_defrag, nf_defrag_ipv6 -> nf_ct_frag6_gather), at
 * PREROUTING and OUTPUT.
 *
 * What it reproduces (Linux 6.x; checked live, see test/fixtures/defrag):
 * - Queues keyed by (src, dst, id, protocol, user) for IPv4 and (src, dst, id, user, iif for
 *   link-local/multicast destinations) for IPv6; `user` separates PREROUTING from OUTPUT (Linux
 *   IP_DEFRAG_CONNTRACK_IN/OUT + zone).
 * - Insertion as inet_frag_queue_insert: fragments appended at the end extend the last "run" of
 *   adjacent fragments; a fragment entirely inside one run is a duplicate (dropped, queue kept); any
 *   other overlap drops the whole queue (RFC 5722 for IPv6; Linux applies it to IPv4 too).
 * - IPv4 (ip_frag_queue): a second last fragment with a different end, bytes beyond a known end, or a
 *   zero-length fragment drop the whole queue; a non-last fragment's length is cut to a multiple of 8;
 *   the ipfrag_max_dist check (64 fragments from the same source in between) restarts a queue.
 * - IPv6 (nf_ct_frag6_queue): inconsistent ends and zero-length fragments drop only that fragment; a
 *   non-last fragment whose end is not a multiple of 8 kills the queue and the packet continues
 *   unreassembled; so do a first fragment without the whole upper-layer header (RFC 8200 §4.5) and a
 *   jumbogram.
 * - The reassembled packet: the offset-0 fragment's header (IPv4 options, IPv6 unfragmentable part),
 *   the data in order, ECN combined as RFC 3168 §5.3 (ip_frag_ecn_table: not-ECT mixed with ECT/CE
 *   drops the datagram, CE with ECT gives CE), IPv4 total length and DF (set only when the largest
 *   fragment had DF: IPSKB_FRAG_PMTU), checksum recomputed; the IPv6 fragment header removed and the
 *   payload length fixed. `info` keeps what Linux keeps for re-fragmenting on output (frag_max_size,
 *   the original fragment lengths): see fragmenter.ts.
 * - Memory accounting and limits: queue size + truesize per fragment against the high threshold (no
 *   new fragment is accepted while above it; Linux no longer prunes to the low threshold). The memory
 *   really held follows the charge: a queue packs its fragments' bytes in arrival order (an 8-byte
 *   fragment at offset 65000 costs 8 bytes, not 64 KiB), and a freed queue returns its data buffer to a
 *   bounded set of spares (bytesUsed() measures it).
 * - Timeouts: net.ipv4.ipfrag_time (30 s), net.netfilter.nf_conntrack_frag6_timeout (60 s), counted
 *   from the queue's creation. Expired queues are reported (with their first fragment, if it came) so
 *   the caller can send what Linux sends: ICMPv6 time exceeded for IPv6 (the nf queue does), ICMP only
 *   for IPv4 datagrams addressed to the gateway itself.
 *
 * Time is an argument (seconds, fractional). Per fragment nothing is allocated once the pools are warm:
 * queues, their run/piece arrays and data buffers are reused; reassembly copies the data once.
 */
import { internetChecksum } from "../wire/checksum.js";
import {
  IPPROTO_AH,
  IPPROTO_DSTOPTS,
  IPPROTO_FRAGMENT,
  IPPROTO_HOPOPTS,
  IPPROTO_ICMPV6,
  IPPROTO_NONE,
  IPPROTO_ROUTING,
  IPPROTO_TCP,
  IPPROTO_UDP,
} from "../wire/ip-protocol.js";
import type { PacketInfo } from "../wire/packet-info.js";
import { defaultTruesize, IPV4_FRAG_QUEUE_SIZE, IPV6_FRAG_QUEUE_SIZE } from "./truesize.js";

/** DefragVerdict: what happens to the packet given to defragIpv4 / defragIpv6. */
export const DefragVerdict = {
  /** not a fragment, or one Linux lets through unreassembled: continue with the packet unchanged */
  Accept: 0,
  /** queued (or silently absorbed): the packet goes no further (NF_STOLEN) */
  Stolen: 1,
  /** the datagram is complete: continue with `reassembled` (length `reassembledLen`) instead */
  Reassembled: 2,
  /** dropped (counted in stats) */
  Drop: 3,
} as const;
export type DefragVerdict = (typeof DefragVerdict)[keyof typeof DefragVerdict];

/** DefragReason: why (set with every verdict in `lastReason`). */
export const DefragReason = {
  None: 0,
  NotFragment: 1,
  Queued: 2,
  Complete: 3,
  Duplicate: 4,
  Overlap: 5,
  /** a last fragment disagreeing with the known end, or data beyond the end */
  BadEnd: 6,
  ZeroLength: 7,
  /** reassembled datagram longer than 65535 */
  TooBig: 8,
  /** not-ECT mixed with ECT/CE */
  Ecn: 9,
  /** memory above the high threshold */
  NoMemory: 10,
  /** IPv6: a non-last fragment whose end is not a multiple of 8 (queue killed, packet passes) */
  NotMultipleOf8: 11,
  /** IPv6: a first fragment without the whole upper-layer header (packet passes) */
  TruncatedFirst: 12,
  /** the packet cannot be read (bad headers) */
  Malformed: 13,
} as const;
export type DefragReason = (typeof DefragReason)[keyof typeof DefragReason];

/** DefragUser: Linux ip_defrag_users for conntrack (the zone id is added to these). */
export const DefragUser = {
  /** IP_DEFRAG_CONNTRACK_IN: PREROUTING */
  ConntrackIn: 1,
  /** IP_DEFRAG_CONNTRACK_OUT: OUTPUT */
  ConntrackOut: 2,
} as const;

/** Counters, named after Linux's IPSTATS_MIB_REASM* where there is one. */
export class DefragStats {
  reasmReqds = 0;
  reasmOks = 0;
  reasmFails = 0;
  reasmTimeout = 0;
  reasmOverlaps = 0;
  dupFrags = 0;
  /** fragments refused because memory was above the high threshold */
  memDrops = 0;
}

/** Options: the sysctls that shape reassembly (Linux defaults). */
export interface DefragOptions {
  /** net.ipv4.ipfrag_high_thresh (4 MiB) */
  ipv4HighThresh?: number;
  /** net.ipv4.ipfrag_low_thresh (3 MiB; kept for completeness, Linux no longer prunes to it) */
  ipv4LowThresh?: number;
  /** net.ipv4.ipfrag_time, seconds (30) */
  ipv4TimeSec?: number;
  /** net.ipv4.ipfrag_max_dist (64; 0 disables the check) */
  ipv4MaxDist?: number;
  /** net.netfilter.nf_conntrack_frag6_high_thresh (4 MiB) */
  ipv6HighThresh?: number;
  /** net.netfilter.nf_conntrack_frag6_low_thresh (3 MiB) */
  ipv6LowThresh?: number;
  /** net.netfilter.nf_conntrack_frag6_timeout, seconds (60) */
  ipv6TimeSec?: number;
  /** truesize of a received frame of `frameLen` bytes (default: see truesize.ts) */
  truesize?: (frameLen: number) => number;
  /** link-layer header bytes added to the IP length for truesize (14: Ethernet) */
  linkHeaderLen?: number;
  /** hash seed (any int; queues are found by key comparison, the seed only spreads buckets) */
  seed?: number;
}

/**
 * FragInfo: what a reassembled packet remembers about its fragments, for output (Linux IPCB/IP6CB
 * frag_max_size, IPSKB_FRAG_PMTU, and the frag_list geometry that lets ip_do_fragment /
 * ip6_fragment send the original fragment boundaries again).
 */
export class FragInfo {
  family = 0;
  /** largest fragment seen, bytes: IPv4 header + data of that fragment; IPv6 40 + its payload length */
  fragMaxSize = 0;
  /** IPv4: the largest fragment had DF (IPSKB_FRAG_PMTU; the reassembled header then has DF) */
  pmtu = false;
  /** header bytes before the data in the reassembled packet (IPv4 IHL * 4; IPv6 the unfragmentable part) */
  headLen = 0;
  /** data length of each original fragment in offset order (the first is the offset-0 fragment) */
  pieceLen: Int32Array = new Int32Array(16);
  pieceCount = 0;

  clear(): void {
    this.family = 0;
    this.fragMaxSize = 0;
    this.pmtu = false;
    this.headLen = 0;
    this.pieceCount = 0;
  }

  /** copyFrom: take another FragInfo's values. */
  copyFrom(o: FragInfo): void {
    this.family = o.family;
    this.fragMaxSize = o.fragMaxSize;
    this.pmtu = o.pmtu;
    this.headLen = o.headLen;
    if (this.pieceLen.length < o.pieceCount) this.pieceLen = new Int32Array(o.pieceLen.length);
    this.pieceLen.set(o.pieceLen.subarray(0, o.pieceCount));
    this.pieceCount = o.pieceCount;
  }

  /**
   * pullHead: model `pskb_may_pull(skb, n)` on the reassembled packet: when NAT (or anything else)
   * needs the first `needData` bytes of the fragmentable data in the head, Linux moves them out of the
   * following fragments, changing the geometry the output fast path sees.
   */
  pullHead(needData: number): void {
    if (this.pieceCount === 0 || this.pieceLen[0] >= needData) return;
    let want = needData - this.pieceLen[0];
    let i = 1;
    while (want > 0 && i < this.pieceCount) {
      const take = Math.min(want, this.pieceLen[i]);
      this.pieceLen[i] -= take;
      this.pieceLen[0] += take;
      want -= take;
      if (this.pieceLen[i] === 0) i++;
    }
    // drop emptied pieces
    let w = 1;
    for (let r = 1; r < this.pieceCount; r++) if (this.pieceLen[r] > 0) this.pieceLen[w++] = this.pieceLen[r];
    this.pieceCount = w;
  }
}

const FIRST_IN = 1;
const LAST_IN = 2;

/** ip_frag_ecn_table: index = OR of (1 << (tos & 3)) over the fragments; 0xff = drop */
const ECN_TABLE = new Uint8Array(16);
{
  const NOT_ECT = 1;
  const ECT_1 = 2;
  const ECT_0 = 4;
  const CE = 8;
  ECN_TABLE[CE | ECT_0] = 3;
  ECN_TABLE[CE | ECT_1] = 3;
  ECN_TABLE[CE | ECT_0 | ECT_1] = 3;
  for (let i = 0; i < 16; i++) if ((i & NOT_ECT) !== 0 && (i & ~NOT_ECT) !== 0) ECN_TABLE[i] = 0xff;
}

class FragQueue {
  /** index in the queue pool */
  idx = -1;
  used = false;
  /** next queue in the hash chain, -1 end */
  next = -1;
  family = 0;
  readonly src = new Int32Array(4);
  readonly dst = new Int32Array(4);
  id = 0;
  proto = 0;
  user = 0;
  keyIif = 0;
  /** interface of the last fragment (Linux qp->iif), for ICMP on expiry */
  iif = 0;
  expires = 0;
  flags = 0;
  /** total datagram data length as far as known (Linux q.len) */
  len = 0;
  /** data bytes queued (Linux q.meat) */
  meat = 0;
  maxSize = 0;
  maxDfSize = 0;
  ecn = 0;
  /** truesize charged for the queued fragments */
  mem = 0;
  /** IPv4 inet_peer rid snapshot */
  rid = 0;
  // runs of adjacent fragments, sorted by start
  runStart = new Int32Array(8);
  runLen = new Int32Array(8);
  runCount = 0;
  lastRun = -1;
  /** end of fragments_tail (the fragment with the highest end), -1 when empty */
  tailEnd = -1;
  // fragments, sorted by offset; pPos: where each one's bytes are in `data`
  pOff = new Int32Array(8);
  pLen = new Int32Array(8);
  pPos = new Int32Array(8);
  pCount = 0;
  /**
   * the fragments' bytes, packed in arrival order (data[0, dataLen)): memory follows what was queued
   * (and charged), not the offsets the fragments claim
   */
  data: Uint8Array = NO_DATA;
  dataLen = 0;
  /** the offset-0 fragment's header: IPv4 header; IPv6 everything up to and including the fragment header */
  hdr: Uint8Array = new Uint8Array(64);
  hdrLen = 0;
  /** IPv6: offset (from the IPv6 header) of the next-header byte that names the fragment header */
  nhOff = 0;

  reset(): void {
    this.next = -1;
    this.flags = 0;
    this.len = 0;
    this.meat = 0;
    this.maxSize = 0;
    this.maxDfSize = 0;
    this.ecn = 0;
    this.mem = 0;
    this.rid = 0;
    this.iif = 0;
    this.runCount = 0;
    this.lastRun = -1;
    this.tailEnd = -1;
    this.pCount = 0;
    this.dataLen = 0;
    this.hdrLen = 0;
    this.nhOff = 0;
  }

  /** footprint: bytes held by the queue's growable buffers */
  footprint(): number {
    return this.data.length + this.hdr.length + 4 * (this.pOff.length * 3 + this.runStart.length * 2);
  }

  /**
   * shrinkIndexes: the header copy and the piece / run arrays back to their initial sizes when a
   * pathological datagram (thousands of fragments, kilobytes of IPv6 headers) made them grow, so that
   * a pooled queue reused for a small datagram holds no more than a small one needs
   */
  shrinkIndexes(): void {
    if (this.hdr.length > 256) this.hdr = new Uint8Array(64);
    if (this.pOff.length > 64) {
      this.pOff = new Int32Array(8);
      this.pLen = new Int32Array(8);
      this.pPos = new Int32Array(8);
    }
    if (this.runStart.length > 64) {
      this.runStart = new Int32Array(8);
      this.runLen = new Int32Array(8);
    }
  }
}

/** a queue's data buffer before its first fragment (allocated at the first store, to fit it) */
const NO_DATA = new Uint8Array(0);
/** smallest data buffer allocated */
const QUEUE_DATA_MIN = 64;
/**
 * bytes of data buffers kept for reuse between datagrams (so that reassembly does not allocate once
 * warm); buffers beyond it are left to the garbage collector
 */
const SPARE_BYTES_MAX = 1024 * 1024;
/** spare buffers by size: slot k holds buffers of 2^k bytes (64 B .. 128 KiB) */
const SPARE_SLOTS = 18;

/** ExpiredFragment: what expire() reports for a queue that timed out. */
export interface ExpiredFragment {
  family: number;
  /** the time the queue expired */
  at: number;
  user: number;
  /** interface the last fragment came in on */
  iif: number;
  /**
   * the first fragment as queued (header + its data), when it arrived; Linux quotes it in ICMPv6 time
   * exceeded (IPv6 always; IPv4 only for datagrams addressed to the host itself). Empty otherwise.
   */
  firstFragment: Uint8Array;
}

const INSERT_OK = 0;
const INSERT_DUP = 1;
const INSERT_OVERLAP = 2;

export class Reassembler {
  readonly stats = new DefragStats();
  ipv4HighThresh: number;
  ipv4LowThresh: number;
  ipv4TimeSec: number;
  ipv4MaxDist: number;
  ipv6HighThresh: number;
  ipv6LowThresh: number;
  ipv6TimeSec: number;
  readonly truesize: (frameLen: number) => number;
  readonly linkHeaderLen: number;
  /** memory charged per family (Linux frag_mem_limit of each fqdir) */
  memV4 = 0;
  memV6 = 0;

  /** result of a Reassembled verdict: the packet, valid until the next call */
  reassembled: Uint8Array = new Uint8Array(65536 + 64);
  reassembledLen = 0;
  /** result of a Reassembled verdict: output geometry */
  readonly info = new FragInfo();
  /** why the last verdict was given */
  lastReason: number = DefragReason.None;

  private queues: FragQueue[] = [];
  private free: number[] = [];
  private buckets = new Int32Array(1024).fill(-1);
  private readonly seed: number;
  private nextExpiry = Number.POSITIVE_INFINITY;
  private active = 0;
  /** data buffers kept for reuse, by size (see SPARE_BYTES_MAX) */
  private readonly spares: Uint8Array[][] = [];
  private spareBytes = 0;
  /**
   * IPv4 inet_peer rid counters by source address, kept while a queue from that source lives (the count
   * of live queues is peerRefs): only differences between fragments of one queue matter, so a source
   * with no queue can be forgotten, and a flood from random sources cannot grow the map without bound
   */
  private readonly peerRid = new Map<number, number>();
  private readonly peerRefs = new Map<number, number>();

  constructor(opts: DefragOptions = {}) {
    this.ipv4HighThresh = opts.ipv4HighThresh ?? 4 * 1024 * 1024;
    this.ipv4LowThresh = opts.ipv4LowThresh ?? 3 * 1024 * 1024;
    this.ipv4TimeSec = opts.ipv4TimeSec ?? 30;
    this.ipv4MaxDist = opts.ipv4MaxDist ?? 64;
    this.ipv6HighThresh = opts.ipv6HighThresh ?? 4 * 1024 * 1024;
    this.ipv6LowThresh = opts.ipv6LowThresh ?? 3 * 1024 * 1024;
    this.ipv6TimeSec = opts.ipv6TimeSec ?? 60;
    this.truesize = opts.truesize ?? defaultTruesize;
    this.linkHeaderLen = opts.linkHeaderLen ?? 14;
    this.seed = (opts.seed ?? 0x9e3779b9) | 0;
    for (let k = 0; k < SPARE_SLOTS; k++) this.spares.push([]);
  }

  /** queueCount: queues currently waiting. */
  get queueCount(): number {
    return this.active;
  }

  /** peerCount: IPv4 sources whose fragment counter (inet_peer rid) is kept: those with a live queue. */
  get peerCount(): number {
    return this.peerRid.size;
  }

  /**
   * bytesUsed: bytes held by the queues' buffers (live and pooled) and the output buffer: the memory
   * reassembly really costs, next to the truesize Linux charges (memV4 / memV6). For measurements.
   */
  bytesUsed(): number {
    let n = this.reassembled.length + this.buckets.byteLength + this.spareBytes;
    for (const q of this.queues) n += q.footprint();
    return n;
  }

  // ---- IPv4 ---------------------------------------------------------------------------------

  /**
   * defragIpv4: Linux ipv4_conntrack_defrag for one packet. `pi` must be parsed (parsePacket); `user`
   * is DefragUser.ConntrackIn/Out plus the zone id; `iif` the input interface index.
   */
  defragIpv4(pi: PacketInfo, now: number, user: number, iif: number, expired?: (e: ExpiredFragment) => void): number {
    if (pi.family !== 4 || !pi.isFragment || pi.ipHeaderLen < 20 || pi.len < pi.ipHeaderLen) {
      this.lastReason = pi.isFragment ? DefragReason.Malformed : DefragReason.NotFragment;
      return DefragVerdict.Accept;
    }
    if (now >= this.nextExpiry) this.expire(now, expired);
    const st = this.stats;
    st.reasmReqds++;
    // inet_frag_find: nothing is found or created above the high threshold
    if (this.ipv4HighThresh === 0 || this.memV4 > this.ipv4HighThresh) {
      st.reasmFails++;
      st.memDrops++;
      this.lastReason = DefragReason.NoMemory;
      return DefragVerdict.Drop;
    }
    let q = this.find(4, pi.src, pi.dst, pi.ipId, pi.proto, user, 0);
    if (q === null) {
      q = this.create(4, pi.src, pi.dst, pi.ipId, pi.proto, user, 0, now + this.ipv4TimeSec);
      const key = pi.src[0];
      this.peerRefs.set(key, (this.peerRefs.get(key) ?? 0) + 1);
    }
    // ip_frag_too_far: more than max_dist fragments from this source since this queue's last one
    if (this.ipv4MaxDist > 0) {
      const key = pi.src[0];
      const end = ((this.peerRid.get(key) ?? 0) + 1) >>> 0;
      this.peerRid.set(key, end);
      const start = q.rid;
      q.rid = end;
      if (q.tailEnd >= 0 && (end - start) >>> 0 > this.ipv4MaxDist) {
        st.reasmFails++;
        // ip_frag_reinit: purge and restart the timer (max_size / max_df_size survive)
        this.memV4 -= q.mem;
        q.mem = 0;
        q.flags = 0;
        q.len = 0;
        q.meat = 0;
        q.runCount = 0;
        q.lastRun = -1;
        q.tailEnd = -1;
        q.pCount = 0;
        q.dataLen = 0;
        q.iif = 0;
        q.ecn = 0;
        q.hdrLen = 0;
        q.expires = now + this.ipv4TimeSec;
        if (q.expires < this.nextExpiry) this.nextExpiry = q.expires;
      }
    }
    const b = pi.buf;
    const o = pi.off;
    const ihl = pi.ipHeaderLen;
    const offset = pi.fragOff;
    let end = offset + pi.len - ihl;
    const ecn = 1 << (pi.tos & 3);
    if (!pi.moreFrags) {
      // the final fragment: an end before data already seen, or a second different end, is corrupt
      if (end < q.len || ((q.flags & LAST_IN) !== 0 && end !== q.len)) return this.killV4(q, DefragReason.BadEnd);
      q.flags |= LAST_IN;
      q.len = end;
    } else {
      end &= ~7;
      if (end > q.len) {
        if ((q.flags & LAST_IN) !== 0) return this.killV4(q, DefragReason.BadEnd);
        q.len = end;
      }
    }
    if (end === offset) return this.killV4(q, DefragReason.ZeroLength);
    const dataLen = end - offset;
    const ins = this.insert(q, offset, end);
    if (ins === INSERT_DUP) {
      st.dupFrags++;
      this.lastReason = DefragReason.Duplicate;
      return DefragVerdict.Drop;
    }
    if (ins === INSERT_OVERLAP) {
      st.reasmOverlaps++;
      return this.killV4(q, DefragReason.Overlap);
    }
    this.store(q, b, o + ihl, dataLen);
    q.iif = iif;
    q.meat += dataLen;
    q.ecn |= ecn;
    const ts = this.truesize(pi.len + this.linkHeaderLen);
    q.mem += ts;
    this.memV4 += ts;
    if (offset === 0) {
      q.flags |= FIRST_IN;
      this.saveHeader(q, b, o, ihl);
    }
    const fragsize = dataLen + ihl;
    if (fragsize > q.maxSize) q.maxSize = fragsize;
    if (pi.dontFrag && fragsize > q.maxDfSize) q.maxDfSize = fragsize;
    if (q.flags === (FIRST_IN | LAST_IN) && q.meat === q.len) return this.reasmV4(q);
    this.lastReason = DefragReason.Queued;
    return DefragVerdict.Stolen;
  }

  private killV4(q: FragQueue, reason: number): number {
    this.stats.reasmFails++;
    this.destroy(q);
    this.lastReason = reason;
    return DefragVerdict.Drop;
  }

  private reasmV4(q: FragQueue): number {
    const st = this.stats;
    const ecn = ECN_TABLE[q.ecn];
    const ihl = q.hdrLen;
    const total = ihl + q.len;
    if (ecn === 0xff) {
      st.reasmFails++;
      this.destroy(q);
      this.lastReason = DefragReason.Ecn;
      return DefragVerdict.Drop;
    }
    if (total > 65535) {
      st.reasmFails++;
      this.destroy(q);
      this.lastReason = DefragReason.TooBig;
      return DefragVerdict.Drop;
    }
    const out = this.outBuffer(total);
    out.set(q.hdr.subarray(0, ihl), 0);
    this.copyData(q, out, ihl);
    out[2] = total >>> 8;
    out[3] = total & 0xff;
    out[1] |= ecn;
    // DF only when the largest fragment had DF (IPSKB_FRAG_PMTU), so that re-fragmenting never sends
    // a DF fragment larger than the sender's
    const pmtu = q.maxDfSize === q.maxSize;
    out[6] = pmtu ? 0x40 : 0;
    out[7] = 0;
    out[10] = 0;
    out[11] = 0;
    const c = internetChecksum(out, 0, ihl);
    out[10] = c >>> 8;
    out[11] = c & 0xff;
    this.reassembledLen = total;
    this.fillInfo(q, 4, Math.max(q.maxDfSize, q.maxSize), pmtu);
    st.reasmOks++;
    this.destroy(q);
    this.lastReason = DefragReason.Complete;
    return DefragVerdict.Reassembled;
  }

  // ---- IPv6 ---------------------------------------------------------------------------------

  /**
   * defragIpv6: Linux ipv6_defrag -> nf_ct_frag6_gather for one packet (`pi` parsed). Packets without
   * a fragment header are accepted unchanged.
   */
  defragIpv6(pi: PacketInfo, now: number, user: number, iif: number, expired?: (e: ExpiredFragment) => void): number {
    if (pi.family !== 6 || pi.len < 40) {
      this.lastReason = DefragReason.NotFragment;
      return DefragVerdict.Accept;
    }
    const b = pi.buf;
    const o = pi.off;
    const plen = (b[o + 4] << 8) | b[o + 5];
    // a jumbogram cannot carry a fragment header
    if (plen === 0) {
      this.lastReason = DefragReason.NotFragment;
      return DefragVerdict.Accept;
    }
    // find_prev_fhdr: walk the extension headers up to the fragment header
    let nh = b[o + 6];
    let nhOff = 6;
    let p = 40;
    const len = pi.len;
    while (nh !== IPPROTO_FRAGMENT) {
      if (nh !== IPPROTO_HOPOPTS && nh !== IPPROTO_ROUTING && nh !== IPPROTO_DSTOPTS && nh !== IPPROTO_AH) {
        this.lastReason = DefragReason.NotFragment;
        return DefragVerdict.Accept;
      }
      if (p + 2 > len) {
        this.lastReason = DefragReason.NotFragment;
        return DefragVerdict.Accept;
      }
      const hl = nh === IPPROTO_AH ? (b[o + p + 1] + 2) << 2 : (b[o + p + 1] + 1) << 3;
      nhOff = p;
      nh = b[o + p];
      p += hl;
    }
    if (p > len) {
      this.lastReason = DefragReason.NotFragment;
      return DefragVerdict.Accept;
    }
    const fh = p;
    if (fh + 8 > len) {
      // pskb_may_pull of the fragment header fails
      this.lastReason = DefragReason.Malformed;
      return DefragVerdict.Drop;
    }
    if (this.firstFragmentTruncated(b, o, fh, len)) {
      this.lastReason = DefragReason.TruncatedFirst;
      return DefragVerdict.Accept;
    }
    if (now >= this.nextExpiry) this.expire(now, expired);
    const st = this.stats;
    st.reasmReqds++;
    if (this.ipv6HighThresh === 0 || this.memV6 > this.ipv6HighThresh) {
      st.reasmFails++;
      st.memDrops++;
      this.lastReason = DefragReason.NoMemory;
      return DefragVerdict.Drop;
    }
    const id = (b[o + fh + 4] << 24) | (b[o + fh + 5] << 16) | (b[o + fh + 6] << 8) | b[o + fh + 7];
    // the input interface is part of the key only for link-local and multicast destinations
    const d0 = pi.dst[0];
    const scoped = d0 >>> 24 === 0xff || (d0 & 0xffc00000) === (0xfe800000 | 0);
    const keyIif = scoped ? iif : 0;
    let q = this.find(6, pi.src, pi.dst, id, 0, user, keyIif);
    if (q === null) q = this.create(6, pi.src, pi.dst, id, 0, user, keyIif, now + this.ipv6TimeSec);
    const fo = (b[o + fh + 2] << 8) | b[o + fh + 3];
    const offset = fo & 0xfff8;
    const end = offset + plen - (fh - 40 + 8);
    if (end > 65535) {
      this.lastReason = DefragReason.TooBig;
      return DefragVerdict.Drop;
    }
    const ecn = 1 << ((b[o + 1] >> 4) & 0x0f & 3);
    if ((fo & 1) === 0) {
      if (end < q.len || ((q.flags & LAST_IN) !== 0 && end !== q.len)) {
        this.lastReason = DefragReason.BadEnd;
        return DefragVerdict.Drop;
      }
      q.flags |= LAST_IN;
      q.len = end;
    } else {
      if ((end & 7) !== 0) {
        // RFC 8200 §4.5 wants a parameter problem; Linux conntrack kills the queue and lets the
        // fragment through unreassembled
        this.destroy(q);
        this.lastReason = DefragReason.NotMultipleOf8;
        return DefragVerdict.Accept;
      }
      if (end > q.len) {
        if ((q.flags & LAST_IN) !== 0) {
          this.lastReason = DefragReason.BadEnd;
          return DefragVerdict.Drop;
        }
        q.len = end;
      }
    }
    if (end === offset) {
      this.lastReason = DefragReason.ZeroLength;
      return DefragVerdict.Drop;
    }
    const dataLen = end - offset;
    const ins = this.insert(q, offset, end);
    if (ins === INSERT_DUP) {
      // duplicates are absorbed as if queued
      st.dupFrags++;
      this.lastReason = DefragReason.Duplicate;
      return DefragVerdict.Stolen;
    }
    if (ins === INSERT_OVERLAP) {
      st.reasmOverlaps++;
      st.reasmFails++;
      this.destroy(q);
      this.lastReason = DefragReason.Overlap;
      return DefragVerdict.Drop;
    }
    this.store(q, b, o + fh + 8, dataLen);
    q.iif = iif;
    q.meat += dataLen;
    q.ecn |= ecn;
    if (plen > q.maxSize) q.maxSize = plen;
    const ts = this.truesize(pi.len + this.linkHeaderLen);
    q.mem += ts;
    this.memV6 += ts;
    if (offset === 0) {
      q.flags |= FIRST_IN;
      q.nhOff = nhOff;
      this.saveHeader(q, b, o, fh + 8);
    }
    if (q.flags === (FIRST_IN | LAST_IN) && q.meat === q.len) return this.reasmV6(q);
    this.lastReason = DefragReason.Queued;
    return DefragVerdict.Stolen;
  }

  /** ipv6frag_thdr_truncated: a first fragment must hold the upper-layer header (RFC 8200 §4.5). */
  private firstFragmentTruncated(b: Uint8Array, o: number, fh: number, len: number): boolean {
    // ipv6_skip_exthdr from the fragment header
    let nh = IPPROTO_FRAGMENT;
    let p = fh;
    for (;;) {
      if (nh === IPPROTO_NONE) return false;
      if (
        nh !== IPPROTO_HOPOPTS &&
        nh !== IPPROTO_ROUTING &&
        nh !== IPPROTO_DSTOPTS &&
        nh !== IPPROTO_AH &&
        nh !== IPPROTO_FRAGMENT
      )
        break;
      if (p + 2 > len) return false;
      let hl: number;
      if (nh === IPPROTO_FRAGMENT) {
        if (p + 4 > len) return false;
        if ((((b[o + p + 2] << 8) | b[o + p + 3]) & 0xfff8) !== 0) return false;
        hl = 8;
      } else if (nh === IPPROTO_AH) hl = (b[o + p + 1] + 2) << 2;
      else hl = (b[o + p + 1] + 1) << 3;
      nh = b[o + p];
      p += hl;
    }
    const need = nh === IPPROTO_TCP ? 20 : nh === IPPROTO_UDP ? 8 : nh === IPPROTO_ICMPV6 ? 8 : 1;
    return p + need > len;
  }

  private reasmV6(q: FragQueue): number {
    const st = this.stats;
    const ecn = ECN_TABLE[q.ecn];
    const unfrag = q.hdrLen - 8; // header bytes without the fragment header
    const payload = unfrag - 40 + q.len;
    if (ecn === 0xff || payload > 65535) {
      // Linux absorbs the packet (the queue is killed)
      st.reasmFails++;
      this.destroy(q);
      this.lastReason = ecn === 0xff ? DefragReason.Ecn : DefragReason.TooBig;
      return DefragVerdict.Stolen;
    }
    const total = unfrag + q.len;
    const out = this.outBuffer(total);
    out.set(q.hdr.subarray(0, unfrag), 0);
    // the header before the fragment header now names what the fragment header named
    out[q.nhOff] = q.hdr[unfrag];
    this.copyData(q, out, unfrag);
    out[4] = payload >>> 8;
    out[5] = payload & 0xff;
    // traffic class |= ecn (ipv6_change_dsfield(hdr, 0xff, ecn))
    out[1] |= ecn << 4;
    this.reassembledLen = total;
    this.fillInfo(q, 6, 40 + q.maxSize, false);
    st.reasmOks++;
    this.destroy(q);
    this.lastReason = DefragReason.Complete;
    return DefragVerdict.Reassembled;
  }

  // ---- timers -------------------------------------------------------------------------------

  /**
   * expire: drop every queue whose timer ran out by `now` (Linux ip_expire / nf_ct_frag6_expire),
   * reporting each through `sink` in expiry order. Called automatically by defragIpv4/6; call it also
   * when time passes without fragments. Returns the number of queues expired.
   */
  expire(now: number, sink?: (e: ExpiredFragment) => void): number {
    if (now < this.nextExpiry) return 0;
    const due: FragQueue[] = [];
    let next = Number.POSITIVE_INFINITY;
    for (const q of this.queues) {
      if (!q.used) continue;
      if (q.expires <= now) due.push(q);
      else if (q.expires < next) next = q.expires;
    }
    due.sort((a, b) => a.expires - b.expires);
    for (const q of due) {
      this.stats.reasmFails++;
      this.stats.reasmTimeout++;
      if (sink !== undefined) {
        let first = new Uint8Array(0);
        if ((q.flags & FIRST_IN) !== 0 && q.pCount > 0 && q.pOff[0] === 0) {
          const dl = q.pLen[0];
          first = new Uint8Array(q.hdrLen + dl);
          first.set(q.hdr.subarray(0, q.hdrLen), 0);
          first.set(q.data.subarray(q.pPos[0], q.pPos[0] + dl), q.hdrLen);
        }
        sink({ family: q.family, at: q.expires, user: q.user, iif: q.iif, firstFragment: first });
      }
      this.destroy(q);
    }
    this.nextExpiry = next;
    return due.length;
  }

  // ---- queue table --------------------------------------------------------------------------

  private hash(
    family: number,
    src: Int32Array,
    dst: Int32Array,
    id: number,
    proto: number,
    user: number,
    iif: number,
  ): number {
    let h = this.seed ^ family;
    const n = family === 4 ? 1 : 4;
    for (let i = 0; i < n; i++) {
      h = Math.imul(h ^ src[i], 0x85ebca6b);
      h = Math.imul(h ^ dst[i], 0xc2b2ae35);
    }
    h = Math.imul(h ^ id, 0x27d4eb2f);
    h = Math.imul(h ^ ((proto << 16) ^ user ^ (iif << 8)), 0x165667b1);
    h ^= h >>> 15;
    return h & (this.buckets.length - 1);
  }

  private find(
    family: number,
    src: Int32Array,
    dst: Int32Array,
    id: number,
    proto: number,
    user: number,
    iif: number,
  ): FragQueue | null {
    let i = this.buckets[this.hash(family, src, dst, id, proto, user, iif)];
    const n = family === 4 ? 1 : 4;
    while (i >= 0) {
      const q = this.queues[i];
      if (q.family === family && q.id === id && q.proto === proto && q.user === user && q.keyIif === iif) {
        let same = true;
        for (let k = 0; k < n; k++) {
          if (q.src[k] !== src[k] || q.dst[k] !== dst[k]) {
            same = false;
            break;
          }
        }
        if (same) return q;
      }
      i = q.next;
    }
    return null;
  }

  private create(
    family: number,
    src: Int32Array,
    dst: Int32Array,
    id: number,
    proto: number,
    user: number,
    iif: number,
    expires: number,
  ): FragQueue {
    let idx: number;
    let q: FragQueue;
    if (this.free.length > 0) {
      idx = this.free.pop()!;
      q = this.queues[idx];
    } else {
      idx = this.queues.length;
      q = new FragQueue();
      q.idx = idx;
      this.queues.push(q);
    }
    q.reset();
    q.used = true;
    q.family = family;
    q.src.set(src);
    q.dst.set(dst);
    q.id = id;
    q.proto = proto;
    q.user = user;
    q.keyIif = iif;
    q.expires = expires;
    if (expires < this.nextExpiry) this.nextExpiry = expires;
    if (family === 4) this.memV4 += IPV4_FRAG_QUEUE_SIZE;
    else this.memV6 += IPV6_FRAG_QUEUE_SIZE;
    const h = this.hash(family, src, dst, id, proto, user, iif);
    q.next = this.buckets[h];
    this.buckets[h] = idx;
    this.active++;
    if (this.active > this.buckets.length) this.rehash(this.buckets.length * 2);
    return q;
  }

  private destroy(q: FragQueue): void {
    if (!q.used) return;
    const idx = q.idx;
    const h = this.hash(q.family, q.src, q.dst, q.id, q.proto, q.user, q.keyIif);
    let i = this.buckets[h];
    let prev = -1;
    while (i >= 0 && i !== idx) {
      prev = i;
      i = this.queues[i].next;
    }
    if (i === idx) {
      if (prev < 0) this.buckets[h] = q.next;
      else this.queues[prev].next = q.next;
    }
    if (q.family === 4) {
      this.memV4 -= q.mem + IPV4_FRAG_QUEUE_SIZE;
      const key = q.src[0];
      const refs = (this.peerRefs.get(key) ?? 1) - 1;
      if (refs > 0) this.peerRefs.set(key, refs);
      else {
        this.peerRefs.delete(key);
        this.peerRid.delete(key);
      }
    } else this.memV6 -= q.mem + IPV6_FRAG_QUEUE_SIZE;
    q.used = false;
    q.mem = 0;
    // a freed queue keeps no data: its buffer goes back to the spares, sized by what it held, so that
    // a queue reused for a small datagram (and held open) cannot pin the memory of a large one
    this.giveSpare(q.data);
    q.data = NO_DATA;
    q.dataLen = 0;
    q.shrinkIndexes();
    this.free.push(idx);
    this.active--;
  }

  private rehash(size: number): void {
    this.buckets = new Int32Array(size).fill(-1);
    for (let i = 0; i < this.queues.length; i++) {
      const q = this.queues[i];
      if (!q.used) continue;
      const h = this.hash(q.family, q.src, q.dst, q.id, q.proto, q.user, q.keyIif);
      q.next = this.buckets[h];
      this.buckets[h] = i;
    }
  }

  // ---- fragment placement (inet_frag_queue_insert) --------------------------------------------

  private insert(q: FragQueue, offset: number, end: number): number {
    if (q.tailEnd < 0) {
      this.addRun(q, q.runCount, offset, end - offset);
      q.lastRun = q.runCount - 1;
      q.tailEnd = end;
    } else if (q.tailEnd < end) {
      // the common case: at the end
      if (offset < q.tailEnd) return INSERT_OVERLAP;
      if (offset === q.tailEnd) q.runLen[q.lastRun] += end - offset;
      else {
        this.addRun(q, q.runCount, offset, end - offset);
        q.lastRun = q.runCount - 1;
      }
      q.tailEnd = end;
    } else {
      // somewhere before the tail: inside one run is a duplicate, touching any other way an overlap
      let lo = 0;
      let hi = q.runCount;
      while (lo < hi) {
        const mid = (lo + hi) >>> 1;
        if (q.runStart[mid] + q.runLen[mid] <= offset) lo = mid + 1;
        else hi = mid;
      }
      // runs[lo] is the first run ending after offset
      if (lo < q.runCount && q.runStart[lo] < end) {
        const s = q.runStart[lo];
        if (offset >= s && end <= s + q.runLen[lo]) return INSERT_DUP;
        return INSERT_OVERLAP;
      }
      this.addRun(q, lo, offset, end - offset);
      if (lo <= q.lastRun) q.lastRun++;
    }
    this.addPiece(q, offset, end - offset);
    return INSERT_OK;
  }

  private addRun(q: FragQueue, at: number, start: number, len: number): void {
    if (q.runCount === q.runStart.length) {
      const ns = new Int32Array(q.runCount * 2);
      ns.set(q.runStart);
      q.runStart = ns;
      const nl = new Int32Array(q.runCount * 2);
      nl.set(q.runLen);
      q.runLen = nl;
    }
    q.runStart.copyWithin(at + 1, at, q.runCount);
    q.runLen.copyWithin(at + 1, at, q.runCount);
    q.runStart[at] = start;
    q.runLen[at] = len;
    q.runCount++;
  }

  /** addPiece: record a fragment [off, off + len); its bytes go to data[dataLen...] (store, next) */
  private addPiece(q: FragQueue, off: number, len: number): void {
    if (q.pCount === q.pOff.length) {
      const no = new Int32Array(q.pCount * 2);
      no.set(q.pOff);
      q.pOff = no;
      const nl = new Int32Array(q.pCount * 2);
      nl.set(q.pLen);
      q.pLen = nl;
      const np = new Int32Array(q.pCount * 2);
      np.set(q.pPos);
      q.pPos = np;
    }
    let at = q.pCount;
    while (at > 0 && q.pOff[at - 1] > off) at--;
    q.pOff.copyWithin(at + 1, at, q.pCount);
    q.pLen.copyWithin(at + 1, at, q.pCount);
    q.pPos.copyWithin(at + 1, at, q.pCount);
    q.pOff[at] = off;
    q.pLen[at] = len;
    q.pPos[at] = q.dataLen;
    q.pCount++;
  }

  /** store: append a fragment's bytes to the queue's data (the piece addPiece just recorded) */
  private store(q: FragQueue, b: Uint8Array, from: number, len: number): void {
    const need = q.dataLen + len;
    if (q.data.length < need) {
      // grow by powers of two, from the spares when one of the size is there (never more than twice
      // what the queue holds)
      let n = Math.max(q.data.length, QUEUE_DATA_MIN);
      while (n < need) n *= 2;
      const nd = this.takeSpare(n);
      nd.set(q.data.subarray(0, q.dataLen));
      this.giveSpare(q.data);
      q.data = nd;
    }
    q.data.set(b.subarray(from, from + len), q.dataLen);
    q.dataLen = need;
  }

  /** takeSpare: a buffer of exactly n bytes (a power of two), reused when one is spare */
  private takeSpare(n: number): Uint8Array {
    const k = 31 - Math.clz32(n);
    const slot = k < SPARE_SLOTS ? this.spares[k] : undefined;
    if (slot !== undefined && slot.length > 0) {
      this.spareBytes -= n;
      return slot.pop()!;
    }
    return new Uint8Array(n);
  }

  /** giveSpare: keep a data buffer for reuse, within SPARE_BYTES_MAX */
  private giveSpare(buf: Uint8Array): void {
    const n = buf.length;
    if (n < QUEUE_DATA_MIN || (n & (n - 1)) !== 0 || this.spareBytes + n > SPARE_BYTES_MAX) return;
    const k = 31 - Math.clz32(n);
    if (k >= SPARE_SLOTS) return;
    this.spares[k].push(buf);
    this.spareBytes += n;
  }

  /** copyData: the datagram's data, pieces in offset order, into out[at ...] */
  private copyData(q: FragQueue, out: Uint8Array, at: number): void {
    const d = q.data;
    for (let i = 0; i < q.pCount; i++) {
      const p = q.pPos[i];
      out.set(d.subarray(p, p + q.pLen[i]), at + q.pOff[i]);
    }
  }

  private saveHeader(q: FragQueue, b: Uint8Array, o: number, len: number): void {
    if (q.hdr.length < len) q.hdr = new Uint8Array(Math.max(len, q.hdr.length * 2));
    q.hdr.set(b.subarray(o, o + len), 0);
    q.hdrLen = len;
  }

  private outBuffer(n: number): Uint8Array {
    if (this.reassembled.length < n) this.reassembled = new Uint8Array(n);
    return this.reassembled;
  }

  private fillInfo(q: FragQueue, family: number, fragMaxSize: number, pmtu: boolean): void {
    const info = this.info;
    info.family = family;
    info.headLen = family === 4 ? q.hdrLen : q.hdrLen - 8;
    info.fragMaxSize = fragMaxSize;
    info.pmtu = pmtu;
    if (info.pieceLen.length < q.pCount) info.pieceLen = new Int32Array(q.pLen.length);
    info.pieceLen.set(q.pLen.subarray(0, q.pCount));
    info.pieceCount = q.pCount;
  }
}
