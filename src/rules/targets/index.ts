/**
 * The target registry: `-j NAME` → a new Target instance for one rule (explicit table, no side effects).
 * The standard targets (ACCEPT, DROP, RETURN) and jumps to user chains are not Targets.
 */
import type { Target } from "../types.js";
import {
  ConnmarkTarget,
  CtTarget,
  LogTarget,
  MarkTarget,
  NflogTarget,
  NotrackTarget,
  RejectTarget,
  TraceTarget,
} from "./basic.js";
import { DnatTarget, MasqueradeTarget, NetmapTarget, RedirectTarget, SnatTarget } from "./nat.js";
import { SetTarget } from "./set.js";
import { TcpmssTarget } from "./tcpmss.js";

type TargetClass = new (family: number) => Target;

const TARGETS: ReadonlyMap<string, TargetClass> = new Map<string, TargetClass>([
  ["REJECT", RejectTarget],
  ["LOG", LogTarget],
  ["NFLOG", NflogTarget],
  ["MARK", MarkTarget],
  ["CONNMARK", ConnmarkTarget],
  ["CT", CtTarget],
  ["NOTRACK", NotrackTarget],
  ["TRACE", TraceTarget],
  ["DNAT", DnatTarget],
  ["SNAT", SnatTarget],
  ["MASQUERADE", MasqueradeTarget],
  ["REDIRECT", RedirectTarget],
  ["NETMAP", NetmapTarget],
  ["TCPMSS", TcpmssTarget],
  ["SET", SetTarget],
]);

/** targets iptables has that ctnat does not implement */
const KNOWN_UNSUPPORTED = new Set([
  "NFQUEUE",
  "QUEUE",
  "DSCP",
  "TOS",
  "TEE",
  "TPROXY",
  "AUDIT",
  "CLASSIFY",
  "CHECKSUM",
  "CONNSECMARK",
  "SECMARK",
  "HMARK",
  "IDLETIMER",
  "LED",
  "RATEEST",
  "SYNPROXY",
  "TCPOPTSTRIP",
  "TTL",
  "HL",
  "ECN",
  "CLUSTERIP",
  "ULOG",
  "DNPT",
  "SNPT",
  "MIRROR",
  "SAME",
  "NFLOG2",
  "ACCOUNT",
  "BALANCE",
]);

/** createTarget: a new instance of target `name`, or null when it is not an implemented extension. */
export function createTarget(name: string, family: number): Target | null {
  const c = TARGETS.get(name);
  return c === undefined ? null : new c(family);
}

/** isTargetName: an implemented extension target name (a user chain cannot be named so). */
export function isTargetName(name: string): boolean {
  return TARGETS.has(name) || KNOWN_UNSUPPORTED.has(name);
}

/** isKnownUnsupportedTarget: iptables has it, ctnat does not. */
export function isKnownUnsupportedTarget(name: string): boolean {
  return KNOWN_UNSUPPORTED.has(name);
}

export {
  ConnmarkTarget,
  CtTarget,
  DnatTarget,
  LogTarget,
  MarkTarget,
  MasqueradeTarget,
  NetmapTarget,
  NflogTarget,
  NotrackTarget,
  RedirectTarget,
  RejectTarget,
  SetTarget,
  SnatTarget,
  TcpmssTarget,
  TraceTarget,
};
