/**
 * InputError: the base class of every error ctnat raises for bad input (files, rulesets, options).
 * The CLI prints its message on one line and exits with status 2; anything else escaping is a bug.
 * Slow path only: never constructed per packet.
 */
export class InputError extends Error {
  override readonly name: string = "InputError";
  /** file the error is about ("" when not from a file) */
  readonly file: string;
  /** 1-based line and column, 0 when not known */
  readonly line: number;
  readonly column: number;
  /** byte offset for binary inputs, -1 when not known */
  readonly offset: number;

  constructor(message: string, where: { file?: string; line?: number; column?: number; offset?: number } = {}) {
    const file = where.file ?? "";
    const line = where.line ?? 0;
    const column = where.column ?? 0;
    const offset = where.offset ?? -1;
    let place = file;
    if (line > 0) place += `${place ? ":" : "line "}${line}${column > 0 ? `:${column}` : ""}`;
    else if (offset >= 0) place += `${place ? ": " : ""}byte ${offset}`;
    super(place ? `${place}: ${message}` : message);
    this.file = file;
    this.line = line;
    this.column = column;
    this.offset = offset;
  }
}

/** isInputError: true for InputError and its subclasses, and for any error carrying `isCtnatInputError`. */
export function isInputError(e: unknown): e is Error {
  return (
    e instanceof InputError || (e instanceof Error && (e as { isCtnatInputError?: boolean }).isCtnatInputError === true)
  );
}

/** lineColumnAt: 1-based line and column of a character offset in a text. */
export function lineColumnAt(text: string, index: number): { line: number; column: number } {
  let line = 1;
  let lineStart = 0;
  const end = Math.min(index, text.length);
  for (let i = 0; i < end; i++) {
    if (text.charCodeAt(i) === 10) {
      line++;
      lineStart = i + 1;
    }
  }
  return { line, column: end - lineStart + 1 };
}
