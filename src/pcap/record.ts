/**
 * CaptureRecord: the one reusable record a CaptureReader fills for every packet, and the small
 * vocabularies that describe it (file format, packet direction, interface).
 *
 * Contract: a reader owns exactly one CaptureRecord and refills it on every `next()`. The packet
 * bytes are `buf[off, off + capLen)`; `buf` is the reader's input chunk (zero-copy) or the reader's
 * own assembly buffer (for a record that spanned two chunks). Both the record's fields and the bytes
 * are valid only until the next call to `next()` or `push()`: copy what must outlive it.
 */

/** CaptureFormat: the container format of a capture stream. */
export const CaptureFormat = {
  /** not yet known (the file header has not been read) */
  Unknown: 0,
  /** classic libpcap format (pcap-savefile(5)) */
  Pcap: 1,
  /** pcapng (draft-ietf-opsawg-pcapng) */
  PcapNg: 2,
} as const;
export type CaptureFormat = (typeof CaptureFormat)[keyof typeof CaptureFormat];

/** PacketDirection: the inbound/outbound bits of pcapng epb_flags (values are the bits themselves). */
export const PacketDirection = {
  /** not recorded */
  Unknown: 0,
  /** received by the interface */
  In: 1,
  /** sent by the interface */
  Out: 2,
} as const;
export type PacketDirection = (typeof PacketDirection)[keyof typeof PacketDirection];

export const EMPTY_BYTES: Uint8Array = new Uint8Array(0);

/** CaptureInterface: what a pcapng Interface Description Block (or a pcap file header) says. */
export class CaptureInterface {
  /** interface id inside its section (0 for classic pcap) */
  readonly id: number;
  /** 0-based section number (classic pcap: 0) */
  readonly section: number;
  /** LINKTYPE_* value */
  readonly linkType: number;
  /** snapshot length as the file states it (0 = not stated) */
  readonly snaplen: number;
  /** if_name ("" when absent) */
  readonly name: string;
  /** if_description ("" when absent) */
  readonly description: string;
  /** raw if_tsresol byte (6 = microseconds by default; bit 7 set = power of 2) */
  readonly tsresol: number;
  /** if_tsoffset in seconds, added to every timestamp of this interface */
  readonly tsOffset: number;
  /** if_fcslen: bytes of frame check sequence at the end of each packet (-1 when not stated) */
  readonly fcsLen: number;

  constructor(
    id: number,
    section: number,
    linkType: number,
    snaplen: number,
    name: string,
    description: string,
    tsresol: number,
    tsOffset: number,
    fcsLen: number,
  ) {
    this.id = id;
    this.section = section;
    this.linkType = linkType;
    this.snaplen = snaplen;
    this.name = name;
    this.description = description;
    this.tsresol = tsresol;
    this.tsOffset = tsOffset;
    this.fcsLen = fcsLen;
  }
}

export class CaptureRecord {
  /** the bytes: the packet is buf[off, off + capLen) (valid until the next next()/push()) */
  buf: Uint8Array = EMPTY_BYTES;
  off = 0;
  /** captured length: bytes present in the file (libpcap's caplen, cut to the snapshot length) */
  capLen = 0;
  /** original length: bytes the packet had on the wire */
  origLen = 0;
  /** LINKTYPE_* of the packet's interface */
  linkType = 0;
  /** interface id within its section (pcapng); 0 for classic pcap */
  interfaceId = 0;
  /** if_name of the interface ("" when the file names none) */
  interfaceName = "";
  /** 0-based pcapng section number (0 for classic pcap) */
  section = 0;
  /** timestamp: whole seconds since the epoch (an integer; may exceed 2^32 for pcapng) */
  tsSec = 0;
  /** timestamp: nanoseconds within the second, 0..999999999 */
  tsNsec = 0;
  /** timestamp as float seconds (tsSec + tsNsec / 1e9): convenient, but not exact to the nanosecond */
  time = 0;
  /** false for a pcapng Simple Packet Block, which has no timestamp (tsSec = tsNsec = 0) */
  hasTimestamp = true;
  /** PacketDirection (from epb_flags, or from the packet type of a modified-pcap record) */
  direction: number = PacketDirection.Unknown;
  /** raw epb_flags / pack_flags word (0 when absent) */
  flags = 0;
  /** opt_comment text; several comments are joined with "\n"; "" when none */
  comment = "";
  /** byte offset of the record (pcap record header or pcapng block) in the stream */
  offset = 0;
  /** 0-based number of the record in the stream (tshark's frame.number minus 1) */
  index = 0;

  /** data: the packet bytes as a subarray. Convenience for slow paths: allocates a view on each call. */
  get data(): Uint8Array {
    return this.buf.subarray(this.off, this.off + this.capLen);
  }
}
