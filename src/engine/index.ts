// ctnat engine: the gateway (hooks, routing, forwarding), its assembly, replay and tracing.

// embedding
export type { Connection, Endpoints, FlowSpec, GatewayOptions, InterfaceSpec, RouteSpec, SentPacket } from "./api.js";
export { createGateway, EmbeddedGateway, formatIpPacket } from "./api.js";
// assembly from replay inputs
export type { GatewayConfig } from "./build.js";
export { buildGateway, GatewayInstance, rulesetNeedsConntrack, SeededRandom } from "./build.js";
// the pipeline
export { DstClass, Fib } from "./fib.js";
export type { GatewayOptions as PipelineOptions, GatewayTracer, StackPort } from "./gateway.js";
export { BATCH_GROUP, Gateway, IcmpKind, PacketBatch } from "./gateway.js";
export type { NetAddr, NetIface, NetRoute } from "./netconf.js";
export { parseIpAddrJson, parseIpRouteJson, RouteType } from "./netconf.js";
export type { ConntrackPort, GatewaySink, NatPort, RulesPort } from "./ports.js";
export { Table } from "./ports.js";
export type { RecordSource, ReplayInput } from "./replay.js";
export { ReplayCounters, Replayer } from "./replay.js";
export { FATE_NAMES, Fate, GatewayStats } from "./stats.js";
export type { Sysctls } from "./sysctl.js";
export { parseSysctl, sysctlInt } from "./sysctl.js";
export type { PacketTrace, TraceStep } from "./trace.js";
export { formatTraceText, PathTracer } from "./trace.js";
