/**
 * ctnat command line (Node-only edge). Every command's bad input ends in one line on stderr and exit
 * status 2; a crash (a bug) prints its stack and exits 1.
 */
import { Command, CommanderError, Option } from "commander";
import { isInputError } from "../core/errors.js";
import { runExample } from "./example.js";
import { type ReplayOptions, runReplay } from "./replay.js";

const VERSION = "0.1.0";

function collectIn(value: string, prev: string[]): string[] {
  return [...prev, value];
}

export function buildProgram(): Command {
  const program = new Command();
  program
    .name("ctnat")
    .description(
      "Linux netfilter (connection tracking, NAT, iptables) in userspace, packet-exact with the kernel.\n" +
        "Replay captures through a gateway's real iptables-save ruleset and see what it sent, its\n" +
        "connection table and its rule counters.",
    )
    .version(VERSION)
    .showHelpAfterError("(run with --help for usage)")
    .exitOverride()
    .configureOutput({ writeErr: (s) => process.stderr.write(s) });

  program
    .command("replay")
    .description(
      "Run captured packets through a Linux gateway's netfilter in timestamp order and write what it sent,\n" +
        "its connection table and its rule counters (the replay contract).",
    )
    .option("--rules <file>", "IPv4 ruleset as iptables-save prints it (absent: empty tables, policies ACCEPT)")
    .option("--rules6 <file>", "IPv6 ruleset as ip6tables-save prints it (absent: empty)")
    .option("--addr <file>", "the gateway's interfaces, as `ip -j addr` prints them")
    .option("--route <file>", "IPv4 routes, as `ip -j route` prints them (connected routes of --addr always apply)")
    .option("--route6 <file>", "IPv6 routes, as `ip -j -6 route` prints them")
    .option("--sysctl <file>", "sysctls as `sysctl -a` prints them (absent: Linux defaults, forwarding on)")
    .option(
      "--in <iface=file>",
      "a capture (pcap or pcapng) of what arrived on IFACE, as `tcpdump -i IFACE -Q in -w FILE` records it; repeatable",
      collectIn,
      [],
    )
    .option("--out <dir>", "directory for the results (created if missing)")
    .option(
      "--at <seconds>",
      "unix time (fractional) at which conntrack.txt is taken (default: the last packet's time)",
    )
    .option("--seed <n>", "seed of ctnat's randomness (NAT ports on a clash, statistic --mode random)", "1")
    .addOption(
      new Option(
        "--trace [format]",
        "write trace.txt / trace.jsonl: every packet's path through hooks, tables, chains and rules",
      )
        .choices(["text", "json"])
        .preset("text"),
    )
    .option(
      "--pcapng <file>",
      "also write every output packet into one pcapng (one interface per gateway interface, traces as comments)",
    )
    .option("--summary", "print a readable summary (packets per interface, connection table, rules that counted)")
    .option("-q, --quiet", "no progress or warnings on stderr")
    .addHelpText(
      "after",
      "\nOutputs in --out: IFACE.pcap for every non-loopback interface, local.pcap, conntrack.txt\n" +
        "(conntrack -L format), counters.v4 and counters.v6 (iptables-save -c format).\n" +
        "Exit status: 0 when the replay ran, 2 for bad input (one line naming the file and place).\n\n" +
        "Example:\n" +
        "  ctnat replay --rules gw.rules --addr addr.json --route route.json \\\n" +
        "    --in lan0=lan0-in.pcap --in wan0=wan0-in.pcap --out result/",
    )
    .action(async (opts: ReplayOptions) => {
      await runReplay(opts);
    });

  program
    .command("example")
    .description("Replay a bundled example (a home router recorded from a real Linux gateway) and print its summary")
    .argument("[name]", "example name", "home-router")
    .option("--out <dir>", "where to write the replay's outputs (default: a temporary directory)")
    .action(async (name: string, opts: { out?: string }) => {
      await runExample(name, opts);
    });

  return program;
}

/** main: run the CLI with `argv` (without node and script). Sets process.exitCode. */
export async function main(argv: string[]): Promise<void> {
  const program = buildProgram();
  try {
    await program.parseAsync(argv, { from: "user" });
  } catch (e) {
    if (e instanceof CommanderError) {
      // help and version exit 0; usage errors (unknown option, missing argument) exit 2
      process.exitCode = e.exitCode === 0 ? 0 : 2;
      return;
    }
    if (isInputError(e)) {
      process.stderr.write(`ctnat: ${(e as Error).message}\n`);
      process.exitCode = 2;
      return;
    }
    throw e;
  }
}
