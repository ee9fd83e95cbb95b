/**
 * CaptureReader: a streaming reader for classic pcap and pcapng, in constant memory.
 *
 * The caller pushes chunks of the byte stream and pulls records:
 *
 *     const reader = new CaptureReader();
 *     for (const chunk of chunks) {
 *       reader.push(chunk);
 *       for (let rec = reader.next(); rec !== null; rec = reader.next()) use(rec);
 *     }
 *     reader.end();
 *     for (let rec = reader.next(); rec !== null; rec = reader.next()) use(rec);
 *     if (reader.truncatedAt >= 0) warn(reader.warning);
 *
 * `next()` returns null when it needs more input (or, after `end()`, when the stream is exhausted:
 * then `done` is true). It returns the reader's single CaptureRecord, refilled each time: nothing is
 * allocated per packet (but for the string of a packet comment). A record that lies wholly inside the current chunk points into the chunk
 * (zero-copy); one that spans chunks is assembled in a reusable buffer that grows to the largest such
 * record. Once `next()` has returned null the reader keeps no reference into the chunk, so the caller
 * may overwrite and push the same buffer again (the file adapter does).
 *
 * Formats:
 * - classic pcap, magics 0xa1b2c3d4 (microseconds) and 0xa1b23c4d (nanoseconds), either byte order;
 *   also Kuznetzov's modified pcap (0xa1b2cd34, 24-byte record headers carrying the packet type);
 * - pcapng: any number of sections, each with its own byte order and interfaces; Enhanced, Simple and
 *   obsolete Packet Blocks; if_tsresol (powers of 10 and of 2), if_tsoffset, if_name; epb_flags
 *   direction and opt_comment. Every other block type is skipped by its length.
 *
 * Errors: a stream that is not a capture, or that is corrupt before its end, throws CaptureFormatError
 * (`byte N: reason`). The limits are libpcap's (sf-pcap.c, sf-pcapng.c), so that ctnat refuses what
 * tcpdump refuses and never allocates for lying lengths:
 * - pcap: version must be 2.x (x <= 4) or DG/UX 543.0; a caplen above the link type's maximum snapshot
 *   length (256 KiB for most) is corrupt; a caplen above the file's snaplen but below that maximum is
 *   cut to the snaplen (its bytes skipped), as libpcap does;
 * - pcapng: a block shorter than 12 bytes, not a multiple of 4, longer than the maximum block size
 *   (16 MiB, or more for link types with bigger packets), or whose trailer length differs is corrupt;
 *   so is a packet before any Interface Description Block, on an unknown interface, or with a caplen
 *   larger than its block or than its interface's snaplen.
 * Where ctnat is more lenient than libpcap, on purpose: sections may change byte order, and interfaces
 * may have different link types and snapshot lengths (libpcap 1.10 refuses both; Wireshark reads them).
 *
 * A truncated last record is not an error: the reader stops there, keeps every record before it and
 * reports `truncatedAt` (its byte offset) and `warning`. (tcpdump prints the same records, then exits
 * with "truncated dump file".)
 */
import { CaptureFormatError } from "./errors.js";
import { adjustSnaplen, MAXIMUM_SNAPLEN, maxSnaplenForLinkType } from "./link-type.js";
import { CaptureFormat, CaptureInterface, CaptureRecord, EMPTY_BYTES, PacketDirection } from "./record.js";
import { divmod64, divQuot, divRem } from "./timestamp.js";

// ---- classic pcap ------------------------------------------------------------------------------
/** pcap magic, microsecond timestamps */
export const PCAP_MAGIC_USEC = 0xa1b2c3d4;
/** pcap magic, nanosecond timestamps */
export const PCAP_MAGIC_NSEC = 0xa1b23c4d;
/** Alexey Kuznetzov's modified pcap: 24-byte record headers (ifindex, protocol, pkt_type) */
export const PCAP_MAGIC_KUZNETZOV = 0xa1b2cd34;
const PCAP_FILE_HEADER_LEN = 24;
const PCAP_RECORD_HEADER_LEN = 16;
const KUZNETZOV_RECORD_HEADER_LEN = 24;
/** How the caplen and len fields of a record header are ordered (pcap before 2.3 swapped them). */
const LENGTHS_NORMAL = 0;
const LENGTHS_SWAPPED = 1;
const LENGTHS_MAYBE_SWAPPED = 2;

// ---- pcapng --------------------------------------------------------------------------------------
export const PCAPNG_BLOCK_SHB = 0x0a0d0d0a;
export const PCAPNG_BLOCK_IDB = 0x00000001;
export const PCAPNG_BLOCK_PB = 0x00000002;
export const PCAPNG_BLOCK_SPB = 0x00000003;
export const PCAPNG_BLOCK_EPB = 0x00000006;
export const PCAPNG_BYTE_ORDER_MAGIC = 0x1a2b3c4d;
const SHB_MIN_LEN = 28;
/** libpcap refuses a Section Header Block longer than this (BT_SHB_INSANE_MAX) */
const SHB_MAX_LEN = 1024 * 1024;
/** libpcap's initial maximum block size (INITIAL_MAX_BLOCKSIZE) */
const INITIAL_MAX_BLOCK_LEN = 16 * 1024 * 1024;
/** option codes */
const OPT_ENDOFOPT = 0;
const OPT_COMMENT = 1;
const OPT_EPB_FLAGS = 2;
const OPT_IF_NAME = 2;
const OPT_IF_DESCRIPTION = 3;
const OPT_IF_TSRESOL = 9;
const OPT_IF_FCSLEN = 13;
const OPT_IF_TSOFFSET = 14;

const EMPTY_VIEW = new DataView(new ArrayBuffer(0));

// ---- reader phases ---------------------------------------------------------------------------------
const PHASE_FILE_HEADER = 0;
const PHASE_PCAP = 1;
const PHASE_PCAPNG = 2;
const PHASE_DONE = 3;
const PHASE_FAILED = 4;

/** Timestamp conversion modes of an interface (chosen once per IDB, switch-dispatched per packet). */
const TS_DEC_MUL = 0; // 10^-k with k <= 9: ns = frac * 10^(9-k)
const TS_DEC_DIV = 1; // 10^-k with 10 <= k <= 11: ns = frac / 10^(k-9)
const TS_BIN = 2; // 2^-s with s <= 32: ns = frac * 10^9 / 2^s, exact in doubles
const TS_BIG = 3; // anything finer: BigInt (exotic; allocates)

/** Per-interface reading state (internal; the public view is CaptureInterface). */
class InterfaceState {
  readonly info: CaptureInterface;
  /** snapshot length enforced (libpcap's adjusted snaplen) */
  readonly snapLimit: number;
  /** timestamp units per second (number; exact for every mode but TS_BIG) */
  readonly tsUnits: number;
  readonly tsMode: number;
  /** TS_DEC_MUL: multiplier to ns; TS_DEC_DIV: divisor to ns; TS_BIN: 10^9 / 2^9 / 2^(s-9) parts */
  readonly tsScale: number;
  readonly tsUnitsBig: bigint;

  constructor(info: CaptureInterface, snapLimit: number) {
    this.info = info;
    this.snapLimit = snapLimit;
    const r = info.tsresol;
    if ((r & 0x80) === 0) {
      // power of 10 (validated: r <= 19)
      this.tsUnits = 10 ** r;
      this.tsUnitsBig = 10n ** BigInt(r);
      if (r <= 9) {
        this.tsMode = TS_DEC_MUL;
        this.tsScale = 10 ** (9 - r);
      } else if (r <= 11) {
        this.tsMode = TS_DEC_DIV;
        this.tsScale = 10 ** (r - 9);
      } else {
        this.tsMode = TS_BIG;
        this.tsScale = 0;
      }
    } else {
      // power of 2 (validated: shift <= 63)
      const s = r & 0x7f;
      this.tsUnits = 2 ** s;
      this.tsUnitsBig = 1n << BigInt(s);
      if (s <= 32) {
        this.tsMode = TS_BIN;
        this.tsScale = s;
      } else {
        this.tsMode = TS_BIG;
        this.tsScale = 0;
      }
    }
  }
}

/**
 * CaptureReader: push-fed, pull-read parser for pcap and pcapng streams. See the module comment for
 * the protocol and the error rules.
 */
export class CaptureReader {
  /** container format (known once the file header has been read) */
  format: number = CaptureFormat.Unknown;
  /** classic pcap: version from the file header; pcapng: version of the current section */
  versionMajor = 0;
  versionMinor = 0;
  /** byte order of the file (classic) or current section (pcapng) */
  littleEndian = true;
  /** classic pcap: nanosecond magic; pcapng: false */
  nanosecond = false;
  /** classic pcap: Kuznetzov modified format */
  modified = false;
  /** classic pcap: the file header's link type; pcapng: the first interface's (-1 until its IDB is read) */
  linkType = -1;
  /** classic pcap: the file header's snaplen; pcapng: that of the first interface */
  snaplen = 0;
  /** 0-based number of the current pcapng section (-1 before the first) */
  section = -1;
  /** records returned so far */
  records = 0;
  /** byte offset of the next unread byte (the start of the next record or block) */
  offset = 0;
  /** byte offset of a truncated last record, -1 when the stream ended cleanly (or has not ended) */
  truncatedAt = -1;
  /** one-line description of the truncation ("" when none) */
  warning = "";
  /** blocks of unknown or unused types skipped (pcapng) */
  skippedBlocks = 0;

  // ---- input ----
  private chunk: Uint8Array = EMPTY_BYTES;
  private pos = 0;
  private limit = 0;
  private ended = false;
  private phase = PHASE_FILE_HEADER;
  private failure: CaptureFormatError | null = null;
  /** assembly buffer for a record that spans chunks: carry[0, carryLen) are its first bytes */
  private carry: Uint8Array = EMPTY_BYTES;
  private carryLen = 0;
  /** where fill() left the requested bytes */
  private rb: Uint8Array = EMPTY_BYTES;
  private ro = 0;
  /** DataViews over the chunk, the carry, and whichever of them rb is */
  private chunkView: DataView = EMPTY_VIEW;
  private carryView: DataView = EMPTY_VIEW;
  private rv: DataView = EMPTY_VIEW;
  /** bytes the last failed fill() wanted */
  private want = 0;

  // ---- classic pcap state ----
  private recHeaderLen = PCAP_RECORD_HEADER_LEN;
  private lengths = LENGTHS_NORMAL;
  private snapLimit = MAXIMUM_SNAPLEN;
  private maxCapLen = MAXIMUM_SNAPLEN;
  private nsPerFrac = 1000;

  // ---- pcapng state ----
  private ifaces: InterfaceState[] = [];
  private maxBlockLen = INITIAL_MAX_BLOCK_LEN;
  private readonly decoder = new TextDecoder("utf-8");

  private readonly rec = new CaptureRecord();

  /** done: true once end() was called and every record has been read. */
  get done(): boolean {
    return this.phase === PHASE_DONE;
  }

  /** interfaces: the interfaces of the current section (classic pcap: one, from the file header). */
  get interfaces(): readonly CaptureInterface[] {
    const out: CaptureInterface[] = [];
    for (const s of this.ifaces) out.push(s.info);
    return out;
  }

  /**
   * push: hand the reader the next chunk of the stream. Call it only after next() returned null (the
   * previous chunk fully used). The reader reads the chunk in place until next() returns null again.
   */
  push(chunk: Uint8Array): void {
    if (this.ended) throw new Error("CaptureReader.push() after end()");
    if (this.pos < this.limit) throw new Error("CaptureReader.push() before next() returned null");
    if (chunk !== this.chunk) {
      this.chunk = chunk;
      this.chunkView = new DataView(chunk.buffer, chunk.byteOffset, chunk.byteLength);
    }
    this.pos = 0;
    this.limit = chunk.length;
  }

  /** end: no more input. Records still buffered are returned by next(); then `done` becomes true. */
  end(): void {
    this.ended = true;
  }

  /**
   * readHeader: parse the file header (pcap) or the first Section Header Block (pcapng) if that has
   * not been done yet. Returns false when more input is needed. Lets a caller learn the format (and,
   * for pcap, the link type) and refuse a non-capture before reading records.
   * @throws CaptureFormatError
   */
  readHeader(): boolean {
    if (this.phase === PHASE_FAILED) throw this.failure!;
    try {
      if (this.phase === PHASE_FILE_HEADER && !this.fileHeader()) return false;
      if (this.phase === PHASE_PCAPNG && this.section < 0 && !this.sectionHeader()) {
        this.sectionStarved(); // throws once the input has ended
        return false;
      }
      return true;
    } catch (e) {
      this.fail(e);
    }
  }

  /**
   * next: the next record, or null when more input is needed (or the stream is done).
   * The record and its bytes are valid until the next call to next() or push().
   * @throws CaptureFormatError (and keeps throwing it on later calls)
   */
  next(): CaptureRecord | null {
    try {
      switch (this.phase) {
        case PHASE_PCAP:
          return this.nextPcap();
        case PHASE_PCAPNG:
          return this.nextPcapng();
        case PHASE_FILE_HEADER:
          if (!this.fileHeader()) return null;
          return this.format === CaptureFormat.Pcap ? this.nextPcap() : this.nextPcapng();
        case PHASE_FAILED:
          throw this.failure!;
        default:
          return null;
      }
    } catch (e) {
      this.fail(e);
    }
  }

  private fail(e: unknown): never {
    if (e instanceof CaptureFormatError) {
      this.phase = PHASE_FAILED;
      this.failure = e;
    }
    throw e;
  }

  // ---- input management ----------------------------------------------------------------------------

  /**
   * fill: make the next n bytes (from `offset`) contiguous at rb[ro, ro + n) without consuming them.
   * Returns false when the input ends before that (the available bytes are moved to the assembly
   * buffer, so the chunk is no longer referenced).
   */
  private fill(n: number): boolean {
    if (this.carryLen === 0) {
      // fast path: the bytes are in the chunk
      if (this.limit - this.pos >= n) {
        this.rb = this.chunk;
        this.rv = this.chunkView;
        this.ro = this.pos;
        return true;
      }
      this.want = n;
      const avail = this.limit - this.pos;
      if (avail === 0) return false;
      // room for what is here, not for what the header claims: a lying length costs nothing
      this.growCarry(avail);
      this.carry.set(this.chunk.subarray(this.pos, this.limit), 0);
      this.carryLen = avail;
      this.pos = this.limit;
      return false;
    }
    // assembling: top the carry up to n bytes from the chunk
    if (this.carryLen < n) {
      const take = Math.min(n - this.carryLen, this.limit - this.pos);
      this.growCarry(this.carryLen + take);
      if (take > 0) {
        this.carry.set(this.chunk.subarray(this.pos, this.pos + take), this.carryLen);
        this.carryLen += take;
        this.pos += take;
      }
      if (this.carryLen < n) {
        this.want = n;
        return false;
      }
    }
    this.rb = this.carry;
    this.rv = this.carryView;
    this.ro = 0;
    return true;
  }

  private growCarry(n: number): void {
    if (this.carry.length >= n) return;
    let size = Math.max(4096, this.carry.length * 2);
    while (size < n) size *= 2;
    const bigger = new Uint8Array(size);
    bigger.set(this.carry.subarray(0, this.carryLen), 0);
    this.carry = bigger;
    this.carryView = new DataView(bigger.buffer);
  }

  /** consume: the n bytes made available by the last fill() are used. */
  private consume(n: number): void {
    this.offset += n;
    if (this.carryLen === 0) this.pos += n;
    else this.carryLen = 0; // an assembled record is consumed whole
  }

  /**
   * starved: fill() could not get the bytes. Before end(): wait for more. After end(): either the
   * stream ended cleanly between records, or its last record is truncated.
   */
  private starved(): null {
    if (!this.ended) return null;
    if (this.carryLen > 0) {
      this.truncatedAt = this.offset;
      this.warning = `byte ${this.offset}: truncated last record: ${this.carryLen} of ${this.want} bytes present`;
      this.carryLen = 0;
    }
    this.phase = PHASE_DONE;
    return null;
  }

  /** u16 / u32: unsigned fields at rb[o] in the current byte order (o from the last fill()) */
  private u16(o: number): number {
    return this.rv.getUint16(o, this.littleEndian);
  }

  private u32(o: number): number {
    return this.rv.getUint32(o, this.littleEndian);
  }

  // ---- file header ------------------------------------------------------------------------------

  private fileHeader(): boolean {
    if (!this.fill(4)) {
      if (!this.ended) return false;
      throw new CaptureFormatError(
        this.carryLen === 0 ? "empty file, not a capture" : `not a capture: only ${this.carryLen} bytes`,
        0,
      );
    }
    const b = this.rb;
    const o = this.ro;
    const be = ((b[o] << 24) | (b[o + 1] << 16) | (b[o + 2] << 8) | b[o + 3]) >>> 0;
    const le = (b[o] | (b[o + 1] << 8) | (b[o + 2] << 16) | (b[o + 3] << 24)) >>> 0;
    if (be === PCAPNG_BLOCK_SHB) {
      this.format = CaptureFormat.PcapNg;
      this.phase = PHASE_PCAPNG;
      return true;
    }
    let magic = 0;
    if (be === PCAP_MAGIC_USEC || be === PCAP_MAGIC_NSEC || be === PCAP_MAGIC_KUZNETZOV) {
      this.littleEndian = false;
      magic = be;
    } else if (le === PCAP_MAGIC_USEC || le === PCAP_MAGIC_NSEC || le === PCAP_MAGIC_KUZNETZOV) {
      this.littleEndian = true;
      magic = le;
    } else {
      throw new CaptureFormatError(`not a pcap or pcapng file (magic 0x${be.toString(16).padStart(8, "0")})`, 0);
    }
    if (!this.fill(PCAP_FILE_HEADER_LEN)) {
      if (!this.ended) return false;
      throw new CaptureFormatError(`truncated pcap file header: ${this.carryLen} of ${PCAP_FILE_HEADER_LEN} bytes`, 0);
    }
    this.pcapFileHeader(magic);
    this.consume(PCAP_FILE_HEADER_LEN);
    this.format = CaptureFormat.Pcap;
    this.phase = PHASE_PCAP;
    return true;
  }

  /**
   * pcapFileHeader: the 24-byte pcap file header.
   *
   *     0                   1                   2                   3
   *     +-------------------------------+-------------------------------+
   *   0 |                          magic number                         |
   *   4 |        version major          |         version minor         |
   *   8 |                   thiszone (reserved, 0)                      |
   *  12 |                   sigfigs (reserved, 0)                       |
   *  16 |                           snaplen                             |
   *  20 | FCS bits and flags (6 bits) |      link type (26 bits)        |
   *     +-------------------------------+-------------------------------+
   */
  private pcapFileHeader(magic: number): void {
    const o = this.ro;
    const major = this.u16(o + 4);
    const minor = this.u16(o + 6);
    // libpcap: versions before 2 are "archaic"; 2.0 to 2.4 are read, and DG/UX tcpdump's 543.0.
    if (major < 2) throw new CaptureFormatError(`archaic pcap savefile format (version ${major}.${minor})`, 4);
    if (!((major === 2 && minor <= 4) || (major === 543 && minor === 0))) {
      throw new CaptureFormatError(`unsupported pcap savefile version ${major}.${minor}`, 4);
    }
    this.versionMajor = major;
    this.versionMinor = minor;
    // pcap 2.3 swapped the order of caplen and len; some 2.3 writers kept the old order, so for 2.3
    // the smaller of the two is taken as caplen. DG/UX 543.0 uses the old order.
    this.lengths = major === 543 || minor < 3 ? LENGTHS_SWAPPED : minor === 3 ? LENGTHS_MAYBE_SWAPPED : LENGTHS_NORMAL;
    const snaplen = this.u32(o + 16);
    const linkType = this.u32(o + 20) & 0x03ffffff; // the upper 6 bits carry FCS information
    this.snaplen = snaplen;
    this.linkType = linkType;
    this.nanosecond = magic === PCAP_MAGIC_NSEC;
    this.nsPerFrac = this.nanosecond ? 1 : 1000;
    this.modified = magic === PCAP_MAGIC_KUZNETZOV;
    this.recHeaderLen = this.modified ? KUZNETZOV_RECORD_HEADER_LEN : PCAP_RECORD_HEADER_LEN;
    this.maxCapLen = maxSnaplenForLinkType(linkType);
    let limit = adjustSnaplen(linkType, snaplen);
    // A modified-pcap Ethernet capture may have been taken in cooked mode, where a fake 14-byte
    // Ethernet header was added after the snaplen cut (libpcap allows for it).
    if (this.modified && linkType === 1) limit = Math.min(limit + 14, 0x7fffffff);
    this.snapLimit = limit;
    this.ifaces = [
      new InterfaceState(new CaptureInterface(0, 0, linkType, snaplen, "", "", this.nanosecond ? 9 : 6, 0, -1), limit),
    ];
    this.section = 0;
  }

  // ---- classic pcap records -----------------------------------------------------------------------

  /**
   * nextPcap: one record.
   *
   *   0 | timestamp seconds | 4 | microseconds or nanoseconds | 8 | caplen | 12 | original length |
   *   (modified pcap adds: 16 | ifindex | 20 | protocol (16) | 22 | pkt_type (8) | 23 | pad |)
   */
  private nextPcap(): CaptureRecord | null {
    const hl = this.recHeaderLen;
    if (!this.fill(hl)) return this.starved();
    let b = this.rb;
    let o = this.ro;
    let capLen = this.u32(o + 8);
    let origLen = this.u32(o + 12);
    if (this.lengths !== LENGTHS_NORMAL && (this.lengths === LENGTHS_SWAPPED || capLen > origLen)) {
      const t = capLen;
      capLen = origLen;
      origLen = t;
    }
    // libpcap: a caplen above the link type's maximum is a damaged or fuzzed file.
    if (capLen > this.maxCapLen) {
      throw new CaptureFormatError(
        capLen > this.snapLimit
          ? `invalid packet capture length ${capLen}, bigger than snaplen of ${this.snapLimit}`
          : `invalid packet capture length ${capLen}, bigger than maximum of ${this.maxCapLen}`,
        this.offset + 8,
      );
    }
    const total = hl + capLen;
    if (!this.fill(total)) return this.starved();
    b = this.rb;
    o = this.ro;
    const rec = this.rec;
    rec.buf = b;
    rec.off = o + hl;
    // libpcap: a caplen above the file's snaplen (but plausible) is cut to the snaplen.
    rec.capLen = Math.min(capLen, this.snapLimit);
    rec.origLen = origLen;
    rec.linkType = this.linkType;
    rec.interfaceId = 0;
    rec.interfaceName = "";
    rec.section = 0;
    let sec = this.u32(o);
    let ns = this.u32(o + 4) * this.nsPerFrac;
    if (ns >= 1e9) {
      // out-of-range fraction (fuzzed files): carry it into the seconds so that 0 <= tsNsec < 1e9
      const carry = Math.floor(ns / 1e9);
      sec += carry;
      ns -= carry * 1e9;
    }
    rec.tsSec = sec;
    rec.tsNsec = ns;
    rec.time = sec + ns / 1e9;
    rec.hasTimestamp = true;
    if (this.modified) {
      // Linux PACKET_* type: 4 = outgoing; 0..3 = to us, broadcast, multicast, other host
      const pktType = b[o + 22];
      rec.direction = pktType === 4 ? PacketDirection.Out : pktType <= 3 ? PacketDirection.In : PacketDirection.Unknown;
    } else {
      rec.direction = PacketDirection.Unknown;
    }
    rec.flags = 0;
    rec.comment = "";
    rec.offset = this.offset;
    rec.index = this.records++;
    this.consume(total);
    return rec;
  }

  // ---- pcapng blocks --------------------------------------------------------------------------------

  /**
   * nextPcapng: blocks until a packet block. Every block has the same frame:
   *
   *   0 | block type | 4 | block total length | 8 | body ... | total-4 | block total length |
   */
  private nextPcapng(): CaptureRecord | null {
    for (;;) {
      if (!this.fill(8)) return this.sectionStarved();
      let b = this.rb;
      let o = this.ro;
      const type = this.u32(o);
      if (type === PCAPNG_BLOCK_SHB) {
        if (!this.sectionHeader()) return this.sectionStarved();
        continue;
      }
      if (this.section < 0) {
        throw new CaptureFormatError("pcapng stream does not start with a Section Header Block", this.offset);
      }
      const len = this.u32(o + 4);
      this.checkBlockLen(type, len);
      if (!this.fill(len)) return this.starved();
      b = this.rb;
      o = this.ro;
      const trailer = this.u32(o + len - 4);
      if (trailer !== len) {
        throw new CaptureFormatError(
          `block total length in header ${len} and trailer ${trailer} don't match`,
          this.offset + len - 4,
        );
      }
      switch (type) {
        case PCAPNG_BLOCK_EPB:
          return this.enhancedPacket(b, o, len);
        case PCAPNG_BLOCK_SPB:
          return this.simplePacket(b, o, len);
        case PCAPNG_BLOCK_PB:
          return this.obsoletePacket(b, o, len);
        case PCAPNG_BLOCK_IDB:
          this.interfaceDescription(b, o, len);
          break;
        default:
          // Name Resolution, Interface Statistics, Decryption Secrets, custom and unknown blocks
          this.skippedBlocks++;
          break;
      }
      this.consume(len);
    }
  }

  /** A starved read before the first section header is complete is a bad file, not a truncation. */
  private sectionStarved(): null {
    if (this.section < 0 && this.ended) {
      throw new CaptureFormatError(
        `truncated pcapng Section Header Block: ${this.carryLen} of ${Math.max(this.want, SHB_MIN_LEN)} bytes`,
        0,
      );
    }
    return this.starved();
  }

  private checkBlockLen(type: number, len: number): void {
    const at = this.offset + 4;
    if (len < 12) throw new CaptureFormatError(`block of type ${type} has a length of ${len} < 12`, at);
    if ((len & 3) !== 0) {
      throw new CaptureFormatError(`block of type ${type} has a length of ${len} that is not a multiple of 4`, at);
    }
    if (len > this.maxBlockLen) {
      throw new CaptureFormatError(`pcapng block size ${len} > maximum ${this.maxBlockLen}`, at);
    }
  }

  /**
   * sectionHeader: a Section Header Block. It sets the byte order for its section and starts a new
   * set of interfaces. Returns false when more input is needed.
   *
   *   0 | 0x0A0D0D0A | 4 | length | 8 | byte-order magic 0x1A2B3C4D | 12 | major | 14 | minor |
   *  16 | section length (64 bits, -1 = unknown) | 24 | options ... | length-4 | length |
   */
  private sectionHeader(): boolean {
    if (!this.fill(12)) return false;
    let b = this.rb;
    let o = this.ro;
    const magicBe = ((b[o + 8] << 24) | (b[o + 9] << 16) | (b[o + 10] << 8) | b[o + 11]) >>> 0;
    const magicLe = (b[o + 8] | (b[o + 9] << 8) | (b[o + 10] << 16) | (b[o + 11] << 24)) >>> 0;
    let littleEndian: boolean;
    if (magicBe === PCAPNG_BYTE_ORDER_MAGIC) littleEndian = false;
    else if (magicLe === PCAPNG_BYTE_ORDER_MAGIC) littleEndian = true;
    else {
      throw new CaptureFormatError(
        this.section < 0
          ? `not a pcapng file: bad byte-order magic 0x${magicBe.toString(16).padStart(8, "0")}`
          : "the file has a section with a bad byte order magic field",
        this.offset + 8,
      );
    }
    this.littleEndian = littleEndian;
    const len = this.u32(o + 4);
    if (len < SHB_MIN_LEN || len > SHB_MAX_LEN) {
      throw new CaptureFormatError(
        `Section Header Block has invalid length ${len} (must be ${SHB_MIN_LEN} to ${SHB_MAX_LEN})`,
        this.offset + 4,
      );
    }
    if ((len & 3) !== 0) {
      throw new CaptureFormatError(`Section Header Block length ${len} is not a multiple of 4`, this.offset + 4);
    }
    if (!this.fill(len)) return false;
    b = this.rb;
    o = this.ro;
    // libpcap checks the trailer of every block but the first Section Header Block (whose length it
    // has already judged); ctnat reads such a file too.
    const trailer = this.u32(o + len - 4);
    if (trailer !== len && this.section >= 0) {
      throw new CaptureFormatError(
        `block total length in header ${len} and trailer ${trailer} don't match`,
        this.offset + len - 4,
      );
    }
    const major = this.u16(o + 12);
    const minor = this.u16(o + 14);
    // libpcap reads versions 1.0 and 1.2 (1.2 is what some writers of newer block types claim); a
    // later section only has to keep major version 1.
    if (major !== 1 || (this.section < 0 && minor !== 0 && minor !== 2)) {
      throw new CaptureFormatError(`unsupported pcapng savefile version ${major}.${minor}`, this.offset + 12);
    }
    this.versionMajor = major;
    this.versionMinor = minor;
    this.section++;
    this.ifaces = [];
    this.consume(len);
    return true;
  }

  /**
   * interfaceDescription: an Interface Description Block. Options are judged as libpcap judges them:
   * they must tile the block exactly, and if_tsresol / if_tsoffset must be well-formed and single.
   *
   *   0 | 1 | 4 | length | 8 | link type (16) | 10 | reserved | 12 | snaplen | 16 | options ... |
   */
  private interfaceDescription(b: Uint8Array, o: number, len: number): void {
    const base = this.offset;
    if (len < 20) throw new CaptureFormatError(`Interface Description Block too short (${len} bytes)`, base);
    const linkType = this.u16(o + 8);
    const snaplen = this.u32(o + 12);
    let name = "";
    let description = "";
    let tsresol = 6;
    let tsOffset = 0;
    let fcsLen = -1;
    let sawTsresol = false;
    let sawTsoffset = false;
    let p = o + 16;
    const end = o + len - 4;
    while (p < end) {
      if (end - p < 4)
        throw new CaptureFormatError("Interface Description Block option header cut short", base + p - o);
      const code = this.u16(p);
      const olen = this.u16(p + 2);
      const v = p + 4;
      const next = v + ((olen + 3) & ~3);
      if (next > end) {
        throw new CaptureFormatError(
          `Interface Description Block option ${code} (${olen} bytes) cut short`,
          base + p - o,
        );
      }
      if (code === OPT_ENDOFOPT) {
        if (olen !== 0) {
          throw new CaptureFormatError(
            `Interface Description Block has opt_endofopt with length ${olen} != 0`,
            base + p - o,
          );
        }
        break;
      }
      switch (code) {
        case OPT_IF_NAME:
          name = this.text(b, v, olen);
          break;
        case OPT_IF_DESCRIPTION:
          description = this.text(b, v, olen);
          break;
        case OPT_IF_TSRESOL: {
          if (olen !== 1) {
            throw new CaptureFormatError(
              `Interface Description Block has if_tsresol with length ${olen} != 1`,
              base + p - o,
            );
          }
          if (sawTsresol)
            throw new CaptureFormatError("Interface Description Block has more than one if_tsresol", base + p - o);
          sawTsresol = true;
          tsresol = b[v];
          // 2^-63 and 10^-19 are the finest resolutions whose unit count fits 64 bits.
          if ((tsresol & 0x80) !== 0 ? (tsresol & 0x7f) > 63 : tsresol > 19) {
            const what = (tsresol & 0x80) !== 0 ? `2^-${tsresol & 0x7f}` : `10^-${tsresol}`;
            throw new CaptureFormatError(`Interface Description Block if_tsresol ${what} is too fine`, base + v - o);
          }
          break;
        }
        case OPT_IF_TSOFFSET: {
          if (olen !== 8) {
            throw new CaptureFormatError(
              `Interface Description Block has if_tsoffset with length ${olen} != 8`,
              base + p - o,
            );
          }
          if (sawTsoffset)
            throw new CaptureFormatError("Interface Description Block has more than one if_tsoffset", base + p - o);
          sawTsoffset = true;
          // signed 64-bit seconds
          const hi = this.littleEndian ? this.u32(v + 4) : this.u32(v);
          const lo = this.littleEndian ? this.u32(v) : this.u32(v + 4);
          tsOffset = (hi | 0) * 4294967296 + lo;
          break;
        }
        case OPT_IF_FCSLEN:
          if (olen === 1) fcsLen = b[v];
          break;
        default:
          break;
      }
      p = next;
    }
    const id = this.ifaces.length;
    const info = new CaptureInterface(
      id,
      this.section,
      linkType,
      snaplen,
      name,
      description,
      tsresol,
      tsOffset,
      fcsLen,
    );
    this.ifaces.push(new InterfaceState(info, adjustSnaplen(linkType, snaplen)));
    if (this.linkType < 0) {
      this.linkType = linkType;
      this.snaplen = snaplen;
    }
    // libpcap: the maximum block is an EPB with a maximum-size packet and 128 KiB of options.
    const maxBlock = 8 + 20 + maxSnaplenForLinkType(linkType) + 131072 + 4;
    if (maxBlock > this.maxBlockLen) this.maxBlockLen = maxBlock;
  }

  private text(b: Uint8Array, o: number, len: number): string {
    // some writers include the terminating NUL in the option length
    let n = len;
    while (n > 0 && b[o + n - 1] === 0) n--;
    return this.decoder.decode(b.subarray(o, o + n));
  }

  private packetInterface(id: number, at: number): InterfaceState {
    if (this.ifaces.length === 0) {
      throw new CaptureFormatError("packet block before any Interface Description Block", at);
    }
    if (id >= this.ifaces.length) {
      throw new CaptureFormatError(
        `a packet arrived on interface ${id}, but there's no Interface Description Block for that interface`,
        at,
      );
    }
    return this.ifaces[id];
  }

  /**
   * enhancedPacket: an Enhanced Packet Block.
   *
   *   0 | 6 | 4 | length | 8 | interface id | 12 | timestamp high | 16 | timestamp low |
   *  20 | captured length | 24 | original length | 28 | data, padded to 4 | options | length |
   */
  private enhancedPacket(b: Uint8Array, o: number, len: number): CaptureRecord {
    const base = this.offset;
    if (len < 32) throw new CaptureFormatError(`Enhanced Packet Block too short (${len} bytes)`, base + 4);
    const ifs = this.packetInterface(this.u32(o + 8), base + 8);
    const capLen = this.u32(o + 20);
    if (capLen > len - 32) {
      throw new CaptureFormatError(
        `Enhanced Packet Block captured length ${capLen} exceeds its block (${len} bytes)`,
        base + 20,
      );
    }
    if (capLen > ifs.snapLimit) {
      throw new CaptureFormatError(
        `invalid packet capture length ${capLen}, bigger than snaplen of ${ifs.snapLimit}`,
        base + 20,
      );
    }
    const rec = this.rec;
    this.timestamp(ifs, this.u32(o + 12), this.u32(o + 16));
    this.fillPacket(rec, ifs, b, o + 28, capLen, this.u32(o + 24));
    this.packetOptions(rec, b, o + 28 + ((capLen + 3) & ~3), o + len - 4);
    rec.offset = base;
    rec.index = this.records++;
    this.consume(len);
    return rec;
  }

  /**
   * simplePacket: a Simple Packet Block: no interface id (the first interface), no timestamp, no
   * captured length (the original length cut to the interface's snaplen).
   *
   *   0 | 3 | 4 | length | 8 | original length | 12 | data, padded to 4 | length |
   */
  private simplePacket(b: Uint8Array, o: number, len: number): CaptureRecord {
    const base = this.offset;
    if (len < 16) throw new CaptureFormatError(`Simple Packet Block too short (${len} bytes)`, base + 4);
    const ifs = this.packetInterface(0, base);
    const origLen = this.u32(o + 8);
    const capLen = Math.min(origLen, ifs.snapLimit);
    if (capLen > len - 16) {
      throw new CaptureFormatError(
        `Simple Packet Block with ${capLen} captured bytes exceeds its block (${len} bytes)`,
        base + 8,
      );
    }
    const rec = this.rec;
    rec.tsSec = 0;
    rec.tsNsec = 0;
    rec.time = 0;
    rec.hasTimestamp = false;
    this.fillPacket(rec, ifs, b, o + 12, capLen, origLen);
    rec.direction = PacketDirection.Unknown;
    rec.flags = 0;
    rec.comment = "";
    rec.offset = base;
    rec.index = this.records++;
    this.consume(len);
    return rec;
  }

  /**
   * obsoletePacket: the Packet Block of pcapng drafts before the EPB (type 2).
   *
   *   0 | 2 | 4 | length | 8 | interface id (16) | 10 | drops (16) | 12 | timestamp high |
   *  16 | timestamp low | 20 | captured length | 24 | original length | 28 | data | options | length |
   */
  private obsoletePacket(b: Uint8Array, o: number, len: number): CaptureRecord {
    const base = this.offset;
    if (len < 32) throw new CaptureFormatError(`Packet Block too short (${len} bytes)`, base + 4);
    const ifs = this.packetInterface(this.u16(o + 8), base + 8);
    const capLen = this.u32(o + 20);
    if (capLen > len - 32) {
      throw new CaptureFormatError(
        `Packet Block captured length ${capLen} exceeds its block (${len} bytes)`,
        base + 20,
      );
    }
    if (capLen > ifs.snapLimit) {
      throw new CaptureFormatError(
        `invalid packet capture length ${capLen}, bigger than snaplen of ${ifs.snapLimit}`,
        base + 20,
      );
    }
    const rec = this.rec;
    this.timestamp(ifs, this.u32(o + 12), this.u32(o + 16));
    this.fillPacket(rec, ifs, b, o + 28, capLen, this.u32(o + 24));
    this.packetOptions(rec, b, o + 28 + ((capLen + 3) & ~3), o + len - 4);
    rec.offset = base;
    rec.index = this.records++;
    this.consume(len);
    return rec;
  }

  private fillPacket(
    rec: CaptureRecord,
    ifs: InterfaceState,
    b: Uint8Array,
    off: number,
    capLen: number,
    origLen: number,
  ): void {
    rec.buf = b;
    rec.off = off;
    rec.capLen = capLen;
    rec.origLen = origLen;
    rec.linkType = ifs.info.linkType;
    rec.interfaceId = ifs.info.id;
    rec.interfaceName = ifs.info.name;
    rec.section = this.section;
  }

  /**
   * packetOptions: opt_comment and epb_flags of an EPB or PB. Packet options are informational, so a
   * malformed list is not an error (libpcap does not read them at all): reading stops at the fault.
   */
  private packetOptions(rec: CaptureRecord, b: Uint8Array, p: number, end: number): void {
    rec.direction = PacketDirection.Unknown;
    rec.flags = 0;
    rec.comment = "";
    while (end - p >= 4) {
      const code = this.u16(p);
      const olen = this.u16(p + 2);
      const v = p + 4;
      const next = v + ((olen + 3) & ~3);
      if (code === OPT_ENDOFOPT || next > end) return;
      if (code === OPT_COMMENT) {
        const text = this.text(b, v, olen);
        rec.comment = rec.comment === "" ? text : `${rec.comment}\n${text}`;
      } else if (code === OPT_EPB_FLAGS && olen === 4) {
        const flags = this.u32(v);
        rec.flags = flags;
        // bits 0-1: 0 not available, 1 inbound, 2 outbound (3 is not defined: unknown)
        rec.direction = (flags & 3) === 3 ? PacketDirection.Unknown : flags & 3;
      }
      p = next;
    }
  }

  /** timestamp: units since the epoch (hi:lo) at the interface's resolution, into rec.tsSec/tsNsec. */
  private timestamp(ifs: InterfaceState, hi: number, lo: number): void {
    const rec = this.rec;
    let sec: number;
    let ns: number;
    switch (ifs.tsMode) {
      case TS_DEC_MUL:
        divmod64(hi, lo, ifs.tsUnits);
        sec = divQuot;
        ns = divRem * ifs.tsScale;
        break;
      case TS_DEC_DIV:
        divmod64(hi, lo, ifs.tsUnits);
        sec = divQuot;
        ns = Math.floor(divRem / ifs.tsScale);
        break;
      case TS_BIN: {
        const s = ifs.tsScale;
        divmod64(hi, lo, ifs.tsUnits);
        sec = divQuot;
        // frac * 10^9 / 2^s, computed as frac * 5^9 / 2^(s-9) so the product stays below 2^53
        ns = s <= 9 ? Math.floor((divRem * 1e9) / ifs.tsUnits) : Math.floor((divRem * 1953125) / 2 ** (s - 9));
        break;
      }
      default: {
        // exotic resolutions finer than 10^-11 s or 2^-32 s
        const t = (BigInt(hi) << 32n) | BigInt(lo);
        sec = Number(t / ifs.tsUnitsBig);
        ns = Number(((t % ifs.tsUnitsBig) * 1000000000n) / ifs.tsUnitsBig);
        break;
      }
    }
    sec += ifs.info.tsOffset;
    rec.tsSec = sec;
    rec.tsNsec = ns;
    rec.time = sec + ns / 1e9;
    rec.hasTimestamp = true;
  }
}
