/**
 * Memory accounting for fragment queues, as Linux counts it (`frag_mem_limit`): every queue costs the
 * size of its queue structure, every queued fragment the `truesize` of its socket buffer, and the
 * sysctl thresholds (`ipfrag_high_thresh`, `nf_conntrack_frag6_high_thresh`) compare against the sum.
 *
 * A socket buffer's truesize depends on the driver that received the frame. The default model below
 * reproduces what a Linux 6.18 gateway measured for frames arriving over veth from an AF_PACKET sender
 * (the kernel-oracle set-up; /proc/net/sockstat "FRAG: memory"): the frame plus 16 bytes of headroom
 * goes into one linear buffer when it is smaller than a page (a 576-byte small-head slab object, or the
 * next power-of-two kmalloc size above it, each with 320 bytes of skb_shared_info), or into a small
 * head plus high-order pages otherwise; the sk_buff itself adds 256. Measured per queue with one
 * fragment of N payload bytes: 8 -> 1032, 100 -> 1032, 500 -> 1480, 1000 -> 2504, 1400 -> 2504,
 * 2000 -> 4560, 4000 -> 8648, 8000 -> 9224 (the model gives all of them, 2000 excepted: 4552).
 */

/** IPV4_FRAG_QUEUE_SIZE: bytes Linux charges per IPv4 queue (sizeof(struct ipq) on x86-64; measured). */
export const IPV4_FRAG_QUEUE_SIZE = 200;
/** IPV6_FRAG_QUEUE_SIZE: bytes charged per IPv6 queue (sizeof(struct frag_queue), estimated: 176 + 8). */
export const IPV6_FRAG_QUEUE_SIZE = 184;

const SKB_SHINFO = 320;
const SKB_STRUCT = 256;
const SMALL_HEAD = 576;
const PAGE = 4096;

/** dataAlign: SKB_DATA_ALIGN (64-byte cache lines). */
function dataAlign(n: number): number {
  return (n + 63) & ~63;
}

/** kmallocRoundup: the kmalloc size class an allocation of n bytes lands in. */
function kmallocRoundup(n: number): number {
  if (n <= SMALL_HEAD) return SMALL_HEAD;
  let s = 1024;
  while (s < n) s *= 2;
  return s;
}

/**
 * defaultTruesize: the truesize Linux gives a received frame of `frameLen` bytes (link header
 * included) in the measured veth set-up (see the module header).
 */
export function defaultTruesize(frameLen: number): number {
  const linear = 16 + frameLen;
  if (linear < PAGE) {
    return kmallocRoundup(dataAlign(linear) + SKB_SHINFO) + SKB_STRUCT;
  }
  // small linear head (headroom + link header) and the rest in pages of up to order 3
  let rest = frameLen - 14;
  let pages = 0;
  while (rest > 0) {
    let chunk = PAGE;
    while (chunk < rest && chunk < PAGE * 8) chunk *= 2;
    pages += chunk;
    rest -= chunk;
  }
  return SMALL_HEAD + SKB_STRUCT + pages;
}
