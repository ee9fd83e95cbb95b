/** Where the repository is, wherever the benchmark code runs from (tsx on bench/, or compiled). */
import { existsSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

let cached: string | null = null;

/** repoRoot: the nearest directory above this file whose package.json names ctnat */
export function repoRoot(): string {
  if (cached !== null) return cached;
  let d = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const p = join(d, "package.json");
    if (existsSync(p) && (JSON.parse(readFileSync(p, "utf8")) as { name?: string }).name === "ctnat")
      return (cached = d);
    const up = dirname(d);
    if (up === d) throw new Error("cannot find the ctnat repository above the benchmark code");
    d = up;
  }
}
