/**
 * What a fuzz target is, and how one is run: a fast-check property over an arbitrary of inputs, run with
 * a seed (so that any failure can be reproduced with `--seed`), shrunk to a minimal input on failure,
 * and written to a reproduction file.
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import fc from "fast-check";

export interface FuzzTarget<T> {
  readonly name: string;
  /** what one case is */
  readonly arbitrary: fc.Arbitrary<T>;
  /** check one case: null when it holds, else what went wrong (an exception escaping is caught here too) */
  check(input: T): string | null;
  /** the reproduction of a failing case: file name suffix and contents */
  repro(input: T, failure: string, seed: number, path: string): { ext: string; data: string | Uint8Array }[];
}

export interface Failure {
  target: string;
  seed: number;
  path: string;
  message: string;
  files: string[];
}

export interface RunResult {
  cases: number;
  failures: Failure[];
}

/** describeError: an exception as text with its stack (what a crash report needs). */
export function describeError(e: unknown): string {
  if (e instanceof Error) return e.stack ?? `${e.name}: ${e.message}`;
  return String(e);
}

/**
 * runTarget: `numRuns` cases of a target from `seed` (stopping early after `timeLimitMs`). On failure the
 * case is shrunk, and when `reproDir` is given its reproduction is written there as
 * `<target>-<seed>.<ext>`.
 */
export function runTarget<T>(
  target: FuzzTarget<T>,
  opts: { seed: number; numRuns: number; timeLimitMs?: number; reproDir?: string },
): RunResult {
  let cases = 0;
  let lastFailure = "";
  const prop = fc.property(target.arbitrary, (input) => {
    cases++;
    let r: string | null;
    try {
      r = target.check(input);
    } catch (e) {
      r = `exception escaped: ${describeError(e)}`;
    }
    if (r !== null) {
      lastFailure = r;
      throw new Error(r);
    }
  });
  const details = fc.check(prop, {
    seed: opts.seed,
    numRuns: opts.numRuns,
    interruptAfterTimeLimit: opts.timeLimitMs,
    endOnFailure: false,
  });
  if (!details.failed || details.counterexample === null) return { cases, failures: [] };
  const input = details.counterexample[0] as T;
  // re-check the shrunk input for its own message
  let message: string;
  try {
    message = target.check(input) ?? lastFailure;
  } catch (e) {
    message = `exception escaped: ${describeError(e)}`;
  }
  const files: string[] = [];
  if (opts.reproDir !== undefined) {
    mkdirSync(opts.reproDir, { recursive: true });
    for (const f of target.repro(input, message, opts.seed, details.counterexamplePath ?? "")) {
      const file = join(opts.reproDir, `${target.name}-${opts.seed}.${f.ext}`);
      writeFileSync(file, f.data);
      files.push(file);
    }
  }
  return {
    cases,
    failures: [{ target: target.name, seed: opts.seed, path: details.counterexamplePath ?? "", message, files }],
  };
}

/** hex: bytes as a hex string (reproduction files) */
export function hex(b: Uint8Array): string {
  return Buffer.from(b).toString("hex");
}

/** unhex: the inverse of hex */
export function unhex(s: string): Uint8Array {
  return new Uint8Array(Buffer.from(s, "hex"));
}
