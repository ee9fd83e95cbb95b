export type { CtView, IfaceView, TargetEnv } from "./env.js";
export { RejectWith } from "./env.js";
export { InputError, isInputError, lineColumnAt } from "./errors.js";
export {
  CT_IS_REPLY,
  CtInfo,
  CtState,
  CtZone,
  Dir,
  HOOK_NAMES,
  Hook,
  IPPROTO,
  IPS,
  Manip,
  NatRange,
  NatRangeFlag,
  Verdict,
  zoneIdInDir,
} from "./netfilter.js";
export { PacketType, Skb } from "./skb.js";
export { Tuple } from "./tuple.js";
