/**
 * ctnat command line (Node-only edge). Every command's bad input ends in one line on stderr and exit
 * status 2; a crash (a bug) prints its stack and exits 1.
 */
import { Command, CommanderError, Option } from "commander";
import { isInputError } from "../core/errors.js";
import { runExample } from "./example.js";
import { type ExplainOptions, runExplain } from "./explain.js";
import { type ReplayOptions, runReplay } from "./replay.js";
import { type RulesCliOptions, rulesCheck, rulesList, rulesSave } from "./rules.js";

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
    .exitOverride()
    .configureOutput({
      writeErr: (s) => process.stderr.write(s),
      // usage errors on one line, like every other bad input
      outputError: (s, write) => write(`ctnat: ${s.replace(/^error: /, "").trimEnd()} (see --help)\n`),
    });

  program
    .command("replay")
    .description(
      "Run captured packets through a Linux gateway's netfilter in timestamp order and write what it sent,\n" +
        "its connection table and its rule counters (the replay contract).",
    )
    .option("--rules <file>", "IPv4 ruleset as iptables-save prints it (absent: empty tables, policies ACCEPT)")
    .option("--rules6 <file>", "IPv6 ruleset as ip6tables-save prints it (absent: empty)")
    .option("--ipsets <file>", "IP sets the rules name (-m set, -j SET), as `ipset save` prints them")
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

  program
    .command("explain")
    .description(
      "Show the path of one packet, described on the command line, through a ruleset: hooks, tables, chains,\n" +
        "the rules that matched, conntrack state, NAT and its fate. No capture needed.",
    )
    .option("--rules <file>", "IPv4 ruleset as iptables-save prints it")
    .option("--rules6 <file>", "IPv6 ruleset as ip6tables-save prints it")
    .option("--ipsets <file>", "IP sets the rules name, as `ipset save` prints them")
    .option("--addr <file>", "the gateway's interfaces (`ip -j addr`); absent: interfaces are made up from -i/-o")
    .option("--route <file>", "IPv4 routes (`ip -j route`)")
    .option("--route6 <file>", "IPv6 routes (`ip -j -6 route`)")
    .option("--sysctl <file>", "sysctls as `sysctl -a` prints them")
    .option("-i, --in-iface <name>", "interface the packet arrives on (absent: the gateway itself sends it)")
    .option(
      "-o, --out-iface <name>",
      "without --addr/--route: the interface everything is routed out of (default eth1)",
    )
    .option("-p, --proto <proto>", "tcp, udp, icmp, icmpv6, udplite, sctp, gre or a number", "tcp")
    .option("-s, --src <addr>", "source address")
    .option("-d, --dst <addr>", "destination address")
    .option("--sport <port>", "source port (ICMP: the echo id)", "40000")
    .option("--dport <port>", "destination port", "80")
    .option(
      "--flags <letters>",
      "TCP flags as tcpdump letters: S, SA (SYN/ACK), A or . (ACK), FA, R, PA ... (default S; A for ESTABLISHED)",
    )
    .option("--icmp-type <type[/code]>", "ICMP / ICMPv6 type and code (default echo request)")
    .option("--ttl <n>", "TTL / hop limit", "64")
    .option("--length <n>", "payload bytes", "0")
    .option(
      "--ctstate <state>",
      "NEW (default), ESTABLISHED (a handshake is replayed first) or RELATED (an ICMP error about the flow)",
    )
    .option("--local", "without --addr: the destination is one of the gateway's own addresses")
    .option("--json", "print the trace as JSON")
    .option("--dot", "print the path as a Graphviz digraph")
    .addHelpText(
      "after",
      "\nExample (kube-proxy): which service chain and endpoint does a packet to a ClusterIP take?\n" +
        "  ctnat explain --rules node.rules -i eth0 -p tcp -s 10.0.0.5 -d 10.96.0.10 --dport 53",
    )
    .action(async (opts: ExplainOptions) => {
      await runExplain(opts);
    });

  const rules = program
    .command("rules")
    .description(
      "Load a ruleset as iptables-restore would (every load-time check) and print it back: check, save, list",
    );
  const rulesInputs = (c: Command): Command =>
    c
      .option("--rules <file>", "IPv4 ruleset as iptables-save prints it")
      .option("--rules6 <file>", "IPv6 ruleset as ip6tables-save prints it")
      .option("--ipsets <file>", "the IP sets the rules name, as `ipset save` prints them");
  rulesInputs(
    rules.command("check").description("load the rulesets; print what was loaded, or the first error (exit 2)"),
  ).action((o: RulesCliOptions) => {
    process.stdout.write(rulesCheck(o));
  });
  rulesInputs(rules.command("save").description("print the rulesets exactly as iptables-save / ip6tables-save would"))
    .option("-c, --counters", "with the [packets:bytes] counters (as loaded)")
    .action((o: RulesCliOptions) => {
      process.stdout.write(rulesSave(o));
    });
  rulesInputs(rules.command("list").description("print a table as `iptables -L -v -n -x` would"))
    .option("-t, --table <table>", "raw, mangle, nat, filter or security", "filter")
    .option("--line-numbers", "number the rules")
    .action((o: RulesCliOptions) => {
      process.stdout.write(rulesList(o));
    });

  return program;
}

/**
 * oneLine: a message with the control characters its input may carry (a newline in an interface name
 * read from JSON, a carriage return in a ruleset) written as escapes: bad input is reported on one line.
 */
function oneLine(s: string): string {
  // biome-ignore lint/suspicious/noControlCharactersInRegex: these are what is being replaced
  return s.replace(/[\u0000-\u001f\u007f]/g, (c) =>
    c === "\n"
      ? "\\n"
      : c === "\r"
        ? "\\r"
        : c === "\t"
          ? "\\t"
          : `\\x${c.charCodeAt(0).toString(16).padStart(2, "0")}`,
  );
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
      process.stderr.write(`ctnat: ${oneLine((e as Error).message)}\n`);
      process.exitCode = 2;
      return;
    }
    throw e;
  }
}
