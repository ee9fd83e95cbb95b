/**
 * Load-time errors of the rules engine. Everything wrong with a ruleset is found when it is loaded (as
 * iptables-restore and the kernel's checkentry functions find it) and reported as one typed error whose
 * message is a single line naming the file, line and column. Nothing in this module is used per packet.
 */
import { InputError } from "../core/errors.js";

/**
 * RulesetError: a ruleset text could not be loaded. `message` is `file:line:column: reason`. An InputError,
 * so the CLI reports it on one line with exit status 2.
 */
export class RulesetError extends InputError {
  override readonly name: string = "RulesetError";
  /** the reason alone, without the location prefix */
  readonly reason: string;
  constructor(reason: string, file: string, line: number, column: number) {
    const r = oneLine(reason);
    super(r, { file, line, column });
    this.reason = r;
  }
}

/**
 * oneLine: control characters of the ruleset text quoted in a reason (a carriage return in a table name,
 * a NUL in a word) written as escapes (`\r`, `\x00`), so that the message stays one line.
 */
function oneLine(s: string): string {
  // biome-ignore lint/suspicious/noControlCharactersInRegex: these are what is being replaced
  return s.replace(/[\u0000-\u001f\u007f]/g, (c) => {
    if (c === "\n") return "\\n";
    if (c === "\r") return "\\r";
    if (c === "\t") return "\\t";
    return `\\x${c.charCodeAt(0).toString(16).padStart(2, "0")}`;
  });
}

/**
 * UnsupportedError: the ruleset uses a match, target or option that iptables knows but ctnat does not
 * implement. It is never ignored silently: the rule would behave differently in ctnat.
 */
export class UnsupportedError extends RulesetError {
  override readonly name: string = "UnsupportedError";
  /** the extension (match or target name) or option concerned */
  readonly feature: string;
  constructor(feature: string, reason: string, file: string, line: number, column: number) {
    super(reason, file, line, column);
    this.feature = feature;
  }
}

/** isRulesetError: true for RulesetError and its subclasses. */
export function isRulesetError(e: unknown): e is RulesetError {
  return e instanceof RulesetError;
}

/** isUnsupportedError: true when the error is about a feature ctnat does not implement. */
export function isUnsupportedError(e: unknown): e is UnsupportedError {
  return e instanceof UnsupportedError;
}
