/** Run the ctnat CLI from sources in a child process (tests of exit codes and output). */
import { spawnSync } from "node:child_process";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

export const REPO = resolve(dirname(fileURLToPath(import.meta.url)), "../..");

export interface CliResult {
  status: number;
  stdout: string;
  stderr: string;
}

export function ctnat(args: string[], cwd = REPO): CliResult {
  const r = spawnSync(process.execPath, ["--import", "tsx", join(REPO, "src/cli/entry.ts"), ...args], {
    cwd,
    encoding: "utf8",
    env: { ...process.env, NODE_NO_WARNINGS: "1" },
  });
  return { status: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

/** the replay arguments for a recorded scenario directory (oracle layout) */
export function scenarioArgs(dir: string): string[] {
  const f = (n: string): string => join(dir, n);
  return [
    "--rules",
    f("rules.v4"),
    "--addr",
    f("addr.json"),
    "--route",
    f("route.json"),
    "--route6",
    f("route6.json"),
    "--sysctl",
    f("sysctl.txt"),
    "--in",
    `lan0=${f("in/lan0.pcap")}`,
    "--in",
    `wan0=${f("in/wan0.pcap")}`,
  ];
}
