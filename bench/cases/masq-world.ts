/**
 * MasqWorld: the small-office gateway (MASQ topology, MASQUERADE + stateful FORWARD) with n TCP
 * connections set up through it by real handshakes, and a generator of established traffic for them.
 * Shared by the established and memory cases.
 *
 * Established traffic: each packet belongs to a connection drawn uniformly at random and goes in a
 * random direction; it carries 100 bytes of data, the timestamp option (Linux's NOP NOP TS), a window
 * of 502 (x128, both sides negotiated window scale 7) and acknowledges everything the peer sent before
 * it. Sequence numbers advance packet after packet, so every packet is new data inside the window and
 * conntrack's window tracking (tcp_in_window) does its full work: update td_end, td_maxend, td_maxwin,
 * td_maxack of both directions, exactly as for a live connection. Nothing is ever resent, and the
 * gateway is checked to have forwarded every packet with no packet classified INVALID.
 */
import type { GatewayInstance } from "../../src/engine/build.js";
import { type Gateway, PacketBatch } from "../../src/engine/gateway.js";
import { Fate } from "../../src/engine/stats.js";
import { Flows } from "../fixtures/flows.js";
import { MASQ_STATEFUL } from "../fixtures/rulesets.js";
import { buildFor, MASQ, RecordingSink } from "../fixtures/topology.js";
import { fail } from "../lib/harness.js";
import { ip4, OPT, TCP_ACK, TCP_PSH, TCP_SYN, writeTcp4 } from "../lib/packets.js";
import { Prng } from "../lib/prng.js";

/** bytes between packets in the arena (room for 20 + 32 + 100 = 152) */
export const STRIDE = 160;
export const PAYLOAD_LEN = 100;
/** capture-style start time (unix seconds) */
export const T0 = 1_700_000_000;
/** simulated time between packets (1 µs) */
const DT = 1e-6;

export class MasqWorld {
  readonly inst: GatewayInstance;
  readonly gw: Gateway;
  readonly sink = new RecordingSink();
  readonly flows: Flows;
  readonly lan: number;
  readonly wan: number;
  /** current simulated time, seconds */
  clock = T0;
  private readonly scratch = new Uint8Array(256);
  private ipId = 1;
  private ts = 1;
  /** prebuilt packets of the next run */
  arena: Uint8Array = new Uint8Array(0);
  lens: Uint16Array = new Uint16Array(0);
  ifs: Uint8Array = new Uint8Array(0);
  count = 0;
  private readonly rng: Prng;

  constructor(n: number, seed = 7) {
    this.flows = new Flows(n);
    // 16 connections per client host, hosts numbered through 10.1.0.0 - 10.1.255.255, 10.2...
    this.flows.generate(seed, (i) => ip4("10.1.0.0") + (i >>> 4));
    this.inst = buildFor(MASQ, MASQ_STATEFUL, 2 * n, this.sink, seed);
    this.gw = this.inst.gateway;
    this.lan = MASQ.ifindex("lan0");
    this.wan = MASQ.ifindex("wan0");
    this.rng = new Prng(seed * 31 + 1);
  }

  private forwarded(): number {
    return this.gw.stats.fate[Fate.Forwarded];
  }

  /** establish: the three-way handshake of every connection, through the gateway */
  establish(): void {
    const f = this.flows;
    const b = this.scratch;
    const sink = this.sink;
    const gw = this.gw;
    sink.record = true;
    const before = this.forwarded();
    for (let i = 0; i < f.n; i++) {
      const isnC = f.seqC[i];
      const isnS = f.seqS[i];
      const t = this.clock;
      let len = writeTcp4(
        b,
        0,
        f.cAddr[i],
        f.sAddr[i],
        f.cPort[i],
        f.sPort[i],
        isnC,
        0,
        TCP_SYN,
        64240,
        OPT.syn,
        this.ts,
        0,
        0,
        64,
        this.ipId++,
      );
      sink.lastIf = -1;
      gw.receive(this.lan, b, 0, len, t);
      if (sink.lastIf !== this.wan) fail(`SYN of connection ${i} was not forwarded to wan0`);
      f.nAddr[i] = sink.lastSrc;
      f.nPort[i] = sink.lastSport;
      len = writeTcp4(
        b,
        0,
        f.sAddr[i],
        f.nAddr[i],
        f.sPort[i],
        f.nPort[i],
        isnS,
        (isnC + 1) | 0,
        TCP_SYN | TCP_ACK,
        65160,
        OPT.syn,
        this.ts,
        this.ts,
        0,
        56,
        this.ipId++,
      );
      gw.receive(this.wan, b, 0, len, t + 0.00002);
      len = writeTcp4(
        b,
        0,
        f.cAddr[i],
        f.sAddr[i],
        f.cPort[i],
        f.sPort[i],
        (isnC + 1) | 0,
        (isnS + 1) | 0,
        TCP_ACK,
        502,
        OPT.ts,
        this.ts,
        this.ts,
        0,
        64,
        this.ipId++,
      );
      gw.receive(this.lan, b, 0, len, t + 0.00004);
      f.seqC[i] = (isnC + 1) | 0;
      f.seqS[i] = (isnS + 1) | 0;
      this.clock += 0.00005;
      this.ts++;
    }
    sink.record = false;
    const got = this.forwarded() - before;
    if (got !== 3 * f.n) fail(`handshakes: ${got} packets forwarded, expected ${3 * f.n}`);
    if (this.inst.conntrack.stats.invalid !== 0) fail(`handshakes: ${this.inst.conntrack.stats.invalid} invalid`);
    if (this.inst.conntrack.count() !== f.n)
      fail(`handshakes: ${this.inst.conntrack.count()} entries, expected ${f.n}`);
  }

  /** reserve: room for runs of m packets */
  reserve(m: number): void {
    if (this.lens.length >= m) return;
    this.arena = new Uint8Array(m * STRIDE);
    this.lens = new Uint16Array(m);
    this.ifs = new Uint8Array(m);
  }

  /** fill: the next m established packets (random connection, random direction), untimed */
  fill(m: number): void {
    this.reserve(m);
    const f = this.flows;
    const a = this.arena;
    const rng = this.rng;
    const n = f.n;
    for (let k = 0; k < m; k++) {
      const r = rng.next();
      const i = r % n;
      const off = k * STRIDE;
      const ts = this.ts++;
      if (((r >>> 31) & 1) === 0) {
        this.lens[k] = writeTcp4(
          a,
          off,
          f.cAddr[i],
          f.sAddr[i],
          f.cPort[i],
          f.sPort[i],
          f.seqC[i],
          f.seqS[i],
          TCP_PSH | TCP_ACK,
          502,
          OPT.ts,
          ts,
          ts,
          PAYLOAD_LEN,
          64,
          this.ipId++,
        );
        this.ifs[k] = this.lan;
        f.seqC[i] = (f.seqC[i] + PAYLOAD_LEN) | 0;
      } else {
        this.lens[k] = writeTcp4(
          a,
          off,
          f.sAddr[i],
          f.nAddr[i],
          f.sPort[i],
          f.nPort[i],
          f.seqS[i],
          f.seqC[i],
          TCP_PSH | TCP_ACK,
          502,
          OPT.ts,
          ts,
          ts,
          PAYLOAD_LEN,
          56,
          this.ipId++,
        );
        this.ifs[k] = this.wan;
        f.seqS[i] = (f.seqS[i] + PAYLOAD_LEN) | 0;
      }
    }
    this.count = m;
  }

  /** send: the prebuilt packets through Gateway.receive (the timed part); returns the packet count */
  send(): number {
    const gw = this.gw;
    const a = this.arena;
    const lens = this.lens;
    const ifs = this.ifs;
    const m = this.count;
    const t = this.clock;
    for (let k = 0; k < m; k++) gw.receive(ifs[k], a, k * STRIDE, lens[k], t + k * DT);
    this.clock = t + m * DT;
    return m;
  }

  private batch: PacketBatch | null = null;
  /**
   * sendBatch: the same packets through Gateway.receiveBatch, 64 at a time (parsed ahead in groups
   * and their conntrack entries loaded together, so the memory misses of a group overlap)
   */
  sendBatch(): number {
    const gw = this.gw;
    const a = this.arena;
    const lens = this.lens;
    const ifs = this.ifs;
    const m = this.count;
    const t = this.clock;
    if (this.batch === null) this.batch = new PacketBatch(64);
    const b = this.batch;
    for (let k = 0; k < m; k++) {
      b.add(ifs[k], a, k * STRIDE, lens[k], t + k * DT);
      if (b.count === b.capacity) gw.receiveBatch(b);
    }
    if (b.count > 0) gw.receiveBatch(b);
    this.clock = t + m * DT;
    return m;
  }

  private lastFwd = 0;
  private lastInvalid = 0;
  /** mark: remember the counters; verify() then checks that `expect` packets were forwarded, none invalid */
  mark(): void {
    this.lastFwd = this.forwarded();
    this.lastInvalid = this.inst.conntrack.stats.invalid;
  }
  verify(expect: number, what: string): void {
    const fwd = this.forwarded() - this.lastFwd;
    const inv = this.inst.conntrack.stats.invalid - this.lastInvalid;
    if (fwd !== expect || inv !== 0) {
      const st = this.gw.stats.fate;
      fail(
        `${what}: forwarded ${fwd} of ${expect}, invalid ${inv}, drops ${st[Fate.NetfilterDrop]}, ct-drop ${st[Fate.ConntrackDrop]}`,
      );
    }
  }
}
