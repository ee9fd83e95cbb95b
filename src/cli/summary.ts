/**
 * The readable summary of a replay (`ctnat replay --summary`, `ctnat example`): packets in and out per
 * interface, what became of them, the connection table, and the rules that counted packets.
 */
import { FATE_NAMES } from "../engine/stats.js";
import type { ReplayResult } from "./replay.js";

function pad(s: string, n: number): string {
  return s.length >= n ? s : s + " ".repeat(n - s.length);
}
function lpad(s: string, n: number): string {
  return s.length >= n ? s : " ".repeat(n - s.length) + s;
}

export function formatSummary(r: ReplayResult): string {
  const out: string[] = [];
  const st = r.instance.gateway.stats;
  out.push("Interfaces");
  out.push(
    `  ${pad("name", 10)} ${lpad("in pkts", 9)} ${lpad("in bytes", 10)} ${lpad("out pkts", 9)} ${lpad("out bytes", 10)}`,
  );
  for (const f of r.ifaces) {
    if (f.loopback) continue;
    const i = f.ifindex;
    const o = r.outputs.find((x) => x.name === f.name);
    out.push(
      `  ${pad(f.name, 10)} ${lpad(String(st.rxPackets[i] ?? 0), 9)} ${lpad(String(st.rxBytes[i] ?? 0), 10)} ${lpad(String(o?.packets ?? 0), 9)} ${lpad(String(o?.bytes ?? 0), 10)}`,
    );
  }
  out.push("");
  out.push("What became of the packets");
  const fates: string[] = [];
  for (let k = 0; k < FATE_NAMES.length; k++) if (st.fate[k] > 0) fates.push(`${FATE_NAMES[k]} ${st.fate[k]}`);
  out.push(`  ${fates.join(", ") || "nothing"}`);
  const c = r.counters;
  const skipped: string[] = [];
  if (c.notIp > 0) skipped.push(`${c.notIp} not IP (ARP, ...)`);
  if (c.badLink > 0) skipped.push(`${c.badLink} bad link header`);
  if (c.snapCut > 0) skipped.push(`${c.snapCut} cut by snapshot length`);
  if (skipped.length > 0) out.push(`  skipped before the IP layer: ${skipped.join(", ")}`);
  out.push("");
  const lines = r.conntrackText.split("\n").filter((l) => l !== "");
  out.push(`Connection table at ${new Date(r.at * 1000).toISOString()} (${lines.length} entries, conntrack -L format)`);
  for (const l of lines) out.push(`  ${l}`);
  out.push("");
  out.push("Rules that counted packets (iptables-save -c)");
  let any = false;
  for (const fam of [4, 6] as const) {
    let table = "";
    for (const l of r.instance.saveCounters(fam).split("\n")) {
      if (l.startsWith("*")) table = l.slice(1);
      const m = /^(:\S+ \S+ )?\[(\d+):(\d+)\]/.exec(l);
      if (!m || m[2] === "0") continue;
      any = true;
      out.push(`  ${fam === 4 ? "ip " : "ip6"} ${pad(table, 7)} ${l}`);
    }
  }
  if (!any) out.push("  (none)");
  out.push("");
  return out.join("\n");
}
