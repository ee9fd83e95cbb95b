// ctnat/pcap: capture files (pcap and pcapng) read and written in constant memory, with no Node
// built-ins. The Node file adapters live in src/io.

// errors
export { CaptureFormatError, isCaptureFormatError } from "./errors.js";
// link types
export { adjustSnaplen, LinkType, linkTypeName, MAXIMUM_SNAPLEN, maxSnaplenForLinkType } from "./link-type.js";
// merging several sources by timestamp
export type { RecordSource } from "./merge.js";
export { CaptureMerger } from "./merge.js";
// reading
export {
  CaptureReader,
  PCAP_MAGIC_KUZNETZOV,
  PCAP_MAGIC_NSEC,
  PCAP_MAGIC_USEC,
  PCAPNG_BLOCK_EPB,
  PCAPNG_BLOCK_IDB,
  PCAPNG_BLOCK_PB,
  PCAPNG_BLOCK_SHB,
  PCAPNG_BLOCK_SPB,
  PCAPNG_BYTE_ORDER_MAGIC,
} from "./reader.js";
export { CaptureFormat, CaptureInterface, CaptureRecord, PacketDirection } from "./record.js";
// writing
export type { ChunkSink, PcapngInterfaceOptions, PcapngWriterOptions, PcapWriterOptions } from "./writer.js";
export { PcapngWriter, PcapWriter } from "./writer.js";
