/**
 * Capture files on disk (Node only): a pull reader over the pure CaptureReader and writers that land
 * atomically.
 *
 * CaptureFileReader reads a file synchronously in 1 MiB chunks into one reused buffer, so a caller
 * can pull `next()` from several files at once (the replay merges its inputs by timestamp) without
 * promises or per-packet allocation. Synchronous reads are the fastest way to consume a local file in
 * Node: each read moves a whole megabyte, and the event loop has nothing else to do meanwhile.
 *
 * The writers put their bytes under a temporary name beside the target and rename it into place at
 * close(), so that an output that exists under its real name is complete (the replay contract).
 */
import { closeSync, fstatSync, openSync, readSync, renameSync, statSync, unlinkSync, writeSync } from "node:fs";
import { basename, dirname, join } from "node:path";
import { InputError } from "../core/errors.js";
import { CaptureFormatError } from "../pcap/errors.js";
import { CaptureReader } from "../pcap/reader.js";
import type { CaptureInterface, CaptureRecord } from "../pcap/record.js";
import type { PcapngWriterOptions, PcapWriterOptions } from "../pcap/writer.js";
import { PcapngWriter, PcapWriter } from "../pcap/writer.js";

/** Default read chunk: 1 MiB. */
export const READ_CHUNK_SIZE = 1024 * 1024;

export interface CaptureFileReaderOptions {
  /** bytes per read (default 1 MiB) */
  chunkSize?: number;
}

/**
 * CaptureFileReader: pull records from one capture file.
 *
 *     const f = CaptureFileReader.open("in.pcap");
 *     try { for (let rec = f.next(); rec; rec = f.next()) use(rec); } finally { f.close(); }
 *
 * The record and its bytes are valid until the next call to next() (see CaptureRecord).
 * Errors are CaptureFormatError naming the file (`in.pcap: byte 24: ...`); a file that cannot be opened
 * or read (missing, a directory, no permission) is an InputError naming it (`in.pcap: cannot read
 * capture: EISDIR`); other I/O errors are Node's.
 */
export class CaptureFileReader {
  readonly path: string;
  /** the pure reader (format, link type, interfaces, counters) */
  readonly reader: CaptureReader = new CaptureReader();
  /** file size in bytes at open */
  readonly size: number;
  private fd: number;
  private readonly chunk: Uint8Array;
  private eof = false;

  private constructor(path: string, fd: number, size: number, chunkSize: number) {
    this.path = path;
    this.fd = fd;
    this.size = size;
    this.chunk = new Uint8Array(Math.max(64, chunkSize));
  }

  /**
   * open: open a capture file and read its header, so that a file that is not a capture is refused
   * here, before any record is read.
   * @throws CaptureFormatError, or InputError when the file cannot be opened or read
   */
  static open(path: string, options: CaptureFileReaderOptions = {}): CaptureFileReader {
    let fd: number;
    try {
      fd = openSync(path, "r");
    } catch (e) {
      throw ioError("cannot read capture", path, e);
    }
    let f: CaptureFileReader;
    try {
      const st = fstatSync(fd);
      if (st.isDirectory()) throw new InputError("cannot read capture: it is a directory", { file: path });
      f = new CaptureFileReader(path, fd, st.size, options.chunkSize ?? READ_CHUNK_SIZE);
    } catch (e) {
      closeSync(fd);
      throw e;
    }
    try {
      while (!f.reader.readHeader()) f.readMore();
    } catch (e) {
      f.close();
      throw f.named(e);
    }
    return f;
  }

  /** format, link type and interfaces, from the pure reader */
  get format(): number {
    return this.reader.format;
  }
  get linkType(): number {
    return this.reader.linkType;
  }
  get interfaces(): readonly CaptureInterface[] {
    return this.reader.interfaces;
  }
  /** byte offset of a truncated last record, -1 when none (see CaptureReader.truncatedAt) */
  get truncatedAt(): number {
    return this.reader.truncatedAt;
  }
  /** the truncation warning, naming the file ("" when none) */
  get warning(): string {
    return this.reader.warning === "" ? "" : `${this.path}: ${this.reader.warning}`;
  }
  /** true once every record has been read */
  get done(): boolean {
    return this.reader.done;
  }

  /**
   * next: the next record, or null at the end of the file.
   * @throws CaptureFormatError naming the file
   */
  next(): CaptureRecord | null {
    const r = this.reader;
    try {
      for (;;) {
        const rec = r.next();
        if (rec !== null) return rec;
        if (this.eof) return null;
        this.readMore();
      }
    } catch (e) {
      throw this.named(e);
    }
  }

  *[Symbol.iterator](): IterableIterator<CaptureRecord> {
    for (let rec = this.next(); rec !== null; rec = this.next()) yield rec;
  }

  /** close: release the file descriptor (idempotent). */
  close(): void {
    if (this.fd >= 0) {
      closeSync(this.fd);
      this.fd = -1;
    }
  }

  private readMore(): void {
    if (this.eof) return;
    if (this.fd < 0) throw new Error(`${this.path}: read after close()`);
    const n = readSync(this.fd, this.chunk, 0, this.chunk.length, null);
    if (n === 0) {
      this.eof = true;
      this.reader.end();
    } else {
      this.reader.push(n === this.chunk.length ? this.chunk : this.chunk.subarray(0, n));
    }
  }

  private named(e: unknown): unknown {
    return e instanceof CaptureFormatError && e.file === "" ? e.withFile(this.path) : e;
  }
}

/**
 * readCaptureFile: every record of a file through a callback (the record is reused: copy what you
 * keep). Returns the reader, for its counters and truncation warning. Convenience for tools and tests.
 */
export function readCaptureFile(path: string, onRecord: (rec: CaptureRecord) => void): CaptureFileReader {
  const f = CaptureFileReader.open(path);
  try {
    for (let rec = f.next(); rec !== null; rec = f.next()) onRecord(rec);
  } finally {
    f.close();
  }
  return f;
}

/** ioError: a Node file-system error as a one-line InputError naming the file (`what: CODE`). */
function ioError(what: string, file: string, e: unknown): Error {
  const code = (e as NodeJS.ErrnoException).code;
  return code === undefined ? (e as Error) : new InputError(`${what}: ${code}`, { file });
}

/**
 * AtomicFile: a file written under a temporary name in the target's directory (`.name.tmp-PID-N`)
 * and renamed to its name by commit(). abort() removes the temporary file. Writes are synchronous
 * and unbuffered: callers hand it large chunks (the capture writers buffer 1 MiB).
 */
export class AtomicFile {
  readonly path: string;
  readonly tempPath: string;
  private fd: number;
  private static serial = 0;

  /** @throws InputError when the file cannot be created (its directory missing or not writable, or a directory in its place) */
  constructor(path: string) {
    this.path = path;
    this.tempPath = join(dirname(path), `.${basename(path)}.tmp-${process.pid}-${AtomicFile.serial++}`);
    let isDir = false;
    try {
      isDir = statSync(path).isDirectory();
    } catch {
      // absent: it will be created
    }
    // refused now, not at commit: by then other outputs may already be in place
    if (isDir) throw new InputError("cannot write output: a directory is in its place", { file: path });
    try {
      this.fd = openSync(this.tempPath, "w");
    } catch (e) {
      throw ioError("cannot write output", path, e);
    }
  }

  /** write: append a chunk (borrowed: written before returning). @throws InputError (disk full, ...) */
  readonly write = (chunk: Uint8Array): void => {
    let off = 0;
    try {
      while (off < chunk.length) off += writeSync(this.fd, chunk, off, chunk.length - off);
    } catch (e) {
      throw ioError("cannot write output", this.path, e);
    }
  };

  /** commit: close the temporary file and rename it to its name (replacing any old file). */
  commit(): void {
    if (this.fd < 0) return;
    closeSync(this.fd);
    this.fd = -1;
    renameSync(this.tempPath, this.path);
  }

  /** abort: close and delete the temporary file; the target is left untouched. */
  abort(): void {
    if (this.fd < 0) return;
    closeSync(this.fd);
    this.fd = -1;
    try {
      unlinkSync(this.tempPath);
    } catch {
      // already gone
    }
  }
}

/** Default write buffer of the file writers: 1 MiB. */
export const WRITE_CHUNK_SIZE = 1024 * 1024;

/**
 * PcapFileWriter: a PcapWriter into a file that appears under its name only at close().
 *
 *     const w = new PcapFileWriter("out/eth0.pcap", { linkType: LinkType.Ethernet });
 *     w.write(buf, off, len, sec, nsec);
 *     w.close();
 */
export class PcapFileWriter extends PcapWriter {
  readonly file: AtomicFile;

  constructor(path: string, options: PcapWriterOptions = {}) {
    const file = new AtomicFile(path);
    super(file.write, { bufferSize: WRITE_CHUNK_SIZE, ...options });
    this.file = file;
  }

  /** close: flush and rename the file into place. */
  close(): void {
    this.flush();
    this.file.commit();
  }

  /** abort: discard everything written; no file appears under the name. */
  abort(): void {
    this.file.abort();
  }
}

/** PcapngFileWriter: a PcapngWriter into a file that appears under its name only at close(). */
export class PcapngFileWriter extends PcapngWriter {
  readonly file: AtomicFile;

  constructor(path: string, options: PcapngWriterOptions = {}) {
    const file = new AtomicFile(path);
    super(file.write, { bufferSize: WRITE_CHUNK_SIZE, ...options });
    this.file = file;
  }

  /** close: flush and rename the file into place. */
  close(): void {
    this.flush();
    this.file.commit();
  }

  /** abort: discard everything written; no file appears under the name. */
  abort(): void {
    this.file.abort();
  }
}
