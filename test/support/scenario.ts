/**
 * Replaying a recorded kernel scenario through ctnat and comparing the outcome with the kernel's
 * (shared by the kernel differential test and tools/oracle/check.ts).
 *
 * NAT ports and ICMP ids the kernel chose at random cannot be reproduced, and the wan side of a
 * recording answers the kernel's choice. So a scenario is replayed up to three times: after each pass
 * the input captures are rewritten with the renamings found (kernel value -> ctnat value), so that the
 * peers answer ctnat's choice. The renaming is one-to-one and checked for consistency by the
 * comparator, so this never hides a real difference.
 */
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { compareReplay, type OracleReport, type Rename } from "./oracle.js";
import { renameCapture } from "./rename-inputs.js";

export interface ScenarioRun {
  report: OracleReport;
  /** directory of the last pass's outputs */
  out: string;
  /** renamings applied to the inputs (empty: the original inputs matched or could not be improved) */
  renames: Rename[];
  passes: number;
}

/**
 * runScenario: replay `fixture` with `replay(inputsDir, outDir)` (which must write the replay-contract
 * outputs into outDir, reading the captures of inputsDir), comparing each pass with the kernel.
 */
export function runScenario(fixture: string, work: string, replay: (inputs: string, out: string) => void): ScenarioRun {
  let renames: Rename[] = [];
  let inputs = join(fixture, "in");
  let report: OracleReport | undefined;
  let out = "";
  let pass = 0;
  for (; pass < 3; pass++) {
    out = join(work, `out-${pass}`);
    replay(inputs, out);
    report = compareReplay(fixture, out);
    const key = (n: Rename): string => `${n.proto}|${n.addr}|${n.remote}|${n.kernel}`;
    const known = new Set(renames.map(key));
    const fresh = report.renames.filter((n) => !known.has(key(n)));
    if (report.equal || fresh.length === 0) break;
    renames = [...renames, ...fresh];
    inputs = join(work, `in-${pass + 1}`);
    mkdirSync(inputs, { recursive: true });
    for (const p of readdirSync(join(fixture, "in"))) {
      writeFileSync(join(inputs, p), renameCapture(new Uint8Array(readFileSync(join(fixture, "in", p))), renames));
    }
  }
  return { report: report!, out, renames, passes: pass + 1 };
}
