/**
 * Tokeniser for one line of iptables-restore input, splitting words exactly as iptables-restore does
 * (xshared.c add_param_to_argv in iptables 1.8): words are separated by spaces, tabs and newlines; a
 * double quote opens a quoted part in which spaces are kept and a backslash escapes the next character
 * (so `\"` is a quote and `\\` a backslash); a closing quote ends the word there, even when letters
 * follow (`"ab"cd` is the two words `ab` and `cd`), and `""` is an empty word. Single quotes are
 * ordinary characters. An unterminated quote keeps what was read.
 */

/** Token: one word of a rule line and the 1-based column where it starts. */
export class Token {
  readonly text: string;
  readonly column: number;
  /** the word was (at least partly) quoted: a quoted "!" is not a negation */
  readonly quoted: boolean;
  constructor(text: string, column: number, quoted: boolean) {
    this.text = text;
    this.column = column;
    this.quoted = quoted;
  }
}

/**
 * tokenizeLine: split `line` into words as iptables-restore does. `startColumn` is the 1-based column
 * of `line[0]` in the source (so columns stay right when a prefix such as `[p:b]` was cut off).
 */
export function tokenizeLine(line: string, startColumn = 1): Token[] {
  const out: Token[] = [];
  let quoteOpen = false;
  let escaped = false;
  let quoted = false;
  let buf = "";
  let has = false;
  let start = -1;
  const emit = (): void => {
    out.push(new Token(buf, start + startColumn, quoted));
    buf = "";
    has = false;
    quoted = false;
    start = -1;
  };
  for (let i = 0; i < line.length; i++) {
    const c = line[i]!;
    if (quoteOpen) {
      if (escaped) {
        buf += c;
        has = true;
        escaped = false;
        continue;
      }
      if (c === "\\") {
        escaped = true;
        continue;
      }
      if (c !== '"') {
        buf += c;
        has = true;
        continue;
      }
      // closing quote: the word ends here, even when it is empty
      quoteOpen = false;
      emit();
      continue;
    }
    if (c === '"') {
      quoteOpen = true;
      quoted = true;
      if (start < 0) start = i;
      continue;
    }
    if (c === " " || c === "\t" || c === "\n" || c === "\r") {
      if (has) emit();
      continue;
    }
    if (start < 0) start = i;
    buf += c;
    has = true;
  }
  if (has) emit();
  return out;
}

/**
 * quoteForSave: print a string argument as iptables-save does for comments and log prefixes
 * (xtables_save_string): bare when it is made only of letters, digits, `_` and `-`, otherwise in double
 * quotes with `"`, `\` and `'` escaped by a backslash.
 */
export function quoteForSave(s: string): string {
  if (s.length > 0 && /^[A-Za-z0-9_-]+$/.test(s)) return s;
  let r = '"';
  for (let i = 0; i < s.length; i++) {
    const c = s[i]!;
    if (c === '"' || c === "\\" || c === "'") r += "\\";
    r += c;
  }
  return `${r}"`;
}
