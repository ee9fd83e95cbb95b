/**
 * diff.ts: compare ctnat's replay of a recorded scenario with the kernel's recording.
 *
 *   node --import tsx tools/oracle/diff.ts [options] FIXTURE_DIR REPLAY_OUT_DIR
 *
 * Options: --slack SECONDS (conntrack timeout slack, default 3), --rename nat|any|none (default nat),
 * --renameable N (a kernel port or ICMP id that may be renamed; repeatable), --json (the structured
 * report instead of the readable diff), --no-packets, --no-local, --no-conntrack, --no-counters.
 * Exit status: 0 equal, 1 different, 2 bad usage.
 */
import { type CompareOptions, compareReplay, formatReport, type RenamePolicy } from "../../test/support/oracle.js";

function usage(msg?: string): never {
  if (msg) process.stderr.write(`diff: ${msg}\n`);
  process.stderr.write(
    "usage: node --import tsx tools/oracle/diff.ts [--slack S] [--rename nat|any|none] [--renameable N]... [--json]\n" +
      "       [--no-packets] [--no-local] [--no-conntrack] [--no-counters] FIXTURE_DIR REPLAY_OUT_DIR\n",
  );
  process.exit(2);
}

const opts: CompareOptions = {};
const dirs: string[] = [];
let json = false;
const argv = process.argv.slice(2);
for (let i = 0; i < argv.length; i++) {
  const a = argv[i];
  switch (a) {
    case "--slack":
      opts.timeoutSlack = Number(argv[++i]);
      if (!Number.isFinite(opts.timeoutSlack)) usage("--slack needs a number");
      break;
    case "--rename": {
      const p = argv[++i];
      if (p !== "nat" && p !== "any" && p !== "none") usage("--rename is nat, any or none");
      opts.rename = p as RenamePolicy;
      break;
    }
    case "--renameable": {
      const v = Number(argv[++i]);
      if (!Number.isInteger(v)) usage("--renameable needs a number");
      (opts.renameable ??= []).push({ value: v });
      break;
    }
    case "--json":
      json = true;
      break;
    case "--no-packets":
      opts.packets = false;
      break;
    case "--no-local":
      opts.local = false;
      break;
    case "--no-conntrack":
      opts.conntrack = false;
      break;
    case "--no-counters":
      opts.counters = false;
      break;
    case "-h":
    case "--help":
      usage();
      break;
    default:
      if (a.startsWith("-")) usage(`unknown option ${a}`);
      dirs.push(a);
  }
}
if (dirs.length !== 2) usage();
const report = compareReplay(dirs[0], dirs[1], opts);
process.stdout.write(json ? `${JSON.stringify(report, null, 2)}\n` : `${formatReport(report)}\n`);
process.exit(report.equal ? 0 : 1);
