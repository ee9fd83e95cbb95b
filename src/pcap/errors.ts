/**
 * CaptureFormatError: the typed error for a byte stream that is not a capture, or a capture that is
 * corrupt before its last record. Slow path only (file level): it is thrown by CaptureReader.next()
 * and never per packet in the replay's hot loop, because a file is judged once and then abandoned.
 *
 * The message has the form `byte 1234: reason` (with `file: ` in front when the I/O layer knows the
 * file name), so that the CLI can print it on one line.
 */
import { InputError } from "../core/errors.js";

export class CaptureFormatError extends InputError {
  override readonly name: string = "CaptureFormatError";
  /** the reason without the place (`byte N: ` and file name stripped) */
  readonly reason: string;

  constructor(reason: string, offset: number, file = "") {
    super(reason, { file, offset });
    this.reason = reason;
  }

  /** withFile: the same error, its message naming `file` (the I/O layer adds the path it opened). */
  withFile(file: string): CaptureFormatError {
    return new CaptureFormatError(this.reason, this.offset, file);
  }
}

/** isCaptureFormatError: type guard for CaptureFormatError. */
export function isCaptureFormatError(e: unknown): e is CaptureFormatError {
  return e instanceof CaptureFormatError;
}
