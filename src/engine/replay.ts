/**
 * Replay: feed captured frames from several interfaces through a Gateway in timestamp order (ties in
 * the order the inputs were given), as `ctnat replay` does. Pure: the sources are pull readers of
 * CaptureRecords (src/pcap, or src/io for files); the gateway's output goes to its sink.
 *
 * Per packet this allocates nothing: each source's current record is its reader's own reused record.
 */
import type { CaptureRecord } from "../pcap/record.js";
import { LinkInfo, LinkPktType, parseLink } from "../wire/link.js";
import { WireStatus } from "../wire/packet-info.js";
import type { Gateway } from "./gateway.js";

/** A source of capture records (CaptureFileReader, or a CaptureReader fed in memory). */
export interface RecordSource {
  next(): CaptureRecord | null;
}

/** One input: what arrived on interface `ifindex` (`mac`: its link-layer address, for PACKET_OTHERHOST). */
export interface ReplayInput {
  ifindex: number;
  name: string;
  source: RecordSource;
  mac: Uint8Array | null;
}

/** Counters of what the replay fed or skipped. */
export class ReplayCounters {
  /** frames read from all inputs */
  frames = 0;
  /** IP packets handed to the gateway */
  packets = 0;
  /** frames that carry no IP (ARP, LLDP, ...) */
  notIp = 0;
  /** frames whose link header is malformed */
  badLink = 0;
  /** packets cut by the capture's snapshot length (the gateway saw more than the file holds): skipped */
  snapCut = 0;
  /** frames whose timestamp goes backwards within their own file (fed anyway, in file order) */
  outOfOrder = 0;
}

/**
 * Replayer: merges the inputs and drives the gateway. `now` fields give the current packet's exact
 * capture time (seconds + nanoseconds) for sinks that stamp output with it.
 */
export class Replayer {
  readonly counters: ReplayCounters = new ReplayCounters();
  /** capture time of the packet being processed */
  nowSec = 0;
  nowNsec = 0;
  /** time (seconds) of the last record read, NaN before the first */
  lastTime = Number.NaN;
  /** optional observers around each packet handed to the gateway (tracing, pcapng output) */
  beforeFeed:
    | ((ifindex: number, buf: Uint8Array, off: number, len: number, pktType: number, srcMacOff: number) => void)
    | null = null;
  afterFeed: (() => void) | null = null;
  /** IP packets handed to the gateway, per input */
  readonly perInput: Float64Array;
  private readonly gw: Gateway;
  private readonly inputs: readonly ReplayInput[];
  private readonly heads: (CaptureRecord | null)[];
  private readonly lastSec: Float64Array;
  private readonly lastNsec: Float64Array;
  private readonly li: LinkInfo = new LinkInfo();

  constructor(gw: Gateway, inputs: readonly ReplayInput[]) {
    this.gw = gw;
    this.inputs = inputs;
    this.heads = inputs.map(() => null);
    this.lastSec = new Float64Array(inputs.length).fill(-Infinity);
    this.lastNsec = new Float64Array(inputs.length);
    this.perInput = new Float64Array(inputs.length);
    for (let i = 0; i < inputs.length; i++) this.heads[i] = inputs[i].source.next();
  }

  /** the earliest pending record's input index, or -1 when all inputs are exhausted */
  private pick(): number {
    let best = -1;
    let bs = 0;
    let bn = 0;
    const h = this.heads;
    for (let i = 0; i < h.length; i++) {
      const r = h[i];
      if (r === null) continue;
      if (best < 0 || r.tsSec < bs || (r.tsSec === bs && r.tsNsec < bn)) {
        best = i;
        bs = r.tsSec;
        bn = r.tsNsec;
      }
    }
    return best;
  }

  /** the time of the next record (seconds), or NaN when none is left */
  peekTime(): number {
    const i = this.pick();
    return i < 0 ? Number.NaN : this.heads[i]!.time;
  }

  /**
   * step: process up to `max` records; returns how many were processed (0 when the inputs are done).
   * `until` (seconds) stops before a record later than it.
   */
  step(max: number, until = Number.POSITIVE_INFINITY): number {
    let n = 0;
    while (n < max) {
      const i = this.pick();
      if (i < 0) break;
      const rec = this.heads[i]!;
      if (rec.time > until) break;
      this.feed(i, rec);
      this.heads[i] = this.inputs[i].source.next();
      n++;
    }
    return n;
  }

  private feed(i: number, rec: CaptureRecord): void {
    const c = this.counters;
    c.frames++;
    this.lastTime = rec.time;
    if (rec.tsSec < this.lastSec[i] || (rec.tsSec === this.lastSec[i] && rec.tsNsec < this.lastNsec[i])) c.outOfOrder++;
    this.lastSec[i] = rec.tsSec;
    this.lastNsec[i] = rec.tsNsec;
    const inp = this.inputs[i];
    const li = this.li;
    const st = parseLink(li, rec.linkType, rec.buf, rec.off, rec.capLen, inp.mac);
    if (st !== WireStatus.Ok) {
      if (st === WireStatus.NotIp) c.notIp++;
      else c.badLink++;
      return;
    }
    if (rec.capLen < rec.origLen && ipLength(rec.buf, li.l3Off, li.l3Len, li.family) > li.l3Len) {
      // the frame was cut by the snapshot length: the gateway saw bytes the file does not hold
      c.snapCut++;
      return;
    }
    c.packets++;
    this.perInput[i]++;
    this.nowSec = rec.tsSec;
    this.nowNsec = rec.tsNsec;
    const pt = li.pktType === LinkPktType.Unknown || li.pktType === LinkPktType.Outgoing ? 0 : li.pktType;
    if (this.beforeFeed !== null) this.beforeFeed(inp.ifindex, rec.buf, li.l3Off, li.l3Len, pt, li.srcMacOff);
    this.gw.receive(inp.ifindex, rec.buf, li.l3Off, li.l3Len, rec.time, pt, rec.buf, li.srcMacOff);
    if (this.afterFeed !== null) this.afterFeed();
  }
}

/** the IP packet length its header states (IPv4 total length; IPv6 40 + payload length), 0 if unreadable */
function ipLength(b: Uint8Array, o: number, avail: number, family: number): number {
  if (family === 4) return avail >= 4 ? (b[o + 2] << 8) | b[o + 3] : 0;
  return avail >= 6 ? 40 + ((b[o + 4] << 8) | b[o + 5]) : 0;
}
