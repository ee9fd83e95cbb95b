// Node-only edge: capture files on disk.
export type { CaptureFileReaderOptions } from "./capture-file.js";
export {
  AtomicFile,
  CaptureFileReader,
  PcapFileWriter,
  PcapngFileWriter,
  READ_CHUNK_SIZE,
  readCaptureFile,
  WRITE_CHUNK_SIZE,
} from "./capture-file.js";
