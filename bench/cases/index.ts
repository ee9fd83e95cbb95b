/** The suite's cases, in the order they run. */
import type { BenchCase } from "../lib/harness.js";
import { established } from "./established.js";
import { establishedParts } from "./established-parts.js";
import { flood } from "./flood.js";
import { kubeProxy } from "./kube-proxy.js";
import { memory } from "./memory.js";
import { newConnections } from "./new-connections.js";
import { replay } from "./replay.js";

export const CASES: readonly BenchCase[] = [
  established,
  newConnections,
  kubeProxy,
  memory,
  replay,
  flood,
  establishedParts,
];

export function findCase(name: string): BenchCase {
  const c = CASES.find((x) => x.name === name);
  if (c === undefined) throw new Error(`no case ${name} (cases: ${CASES.map((x) => x.name).join(", ")})`);
  return c;
}
