/**
 * The iptables tables, their built-in chains and the order iptables-save (1.8.9, nft backend) prints
 * them in.
 */
import { Hook } from "../core/netfilter.js";

/** TableId: the tables ctnat knows (values index Ruleset.tables). */
export const TableId = { Raw: 0, Mangle: 1, Nat: 2, Filter: 3, Security: 4 } as const;
export type TableId = (typeof TableId)[keyof typeof TableId];

/** TABLE_NAMES: by TableId. */
export const TABLE_NAMES: readonly string[] = ["raw", "mangle", "nat", "filter", "security"];

/** BUILTIN_HOOKS: the hooks each table has a built-in chain at (by TableId). */
export const BUILTIN_HOOKS: readonly (readonly number[])[] = [
  [Hook.Prerouting, Hook.Output],
  [Hook.Prerouting, Hook.Input, Hook.Forward, Hook.Output, Hook.Postrouting],
  [Hook.Prerouting, Hook.Input, Hook.Output, Hook.Postrouting],
  [Hook.Input, Hook.Forward, Hook.Output],
  [Hook.Input, Hook.Forward, Hook.Output],
];

/** SAVE_ORDER: iptables-nft prints tables in this order (its table array: mangle, security, raw, filter, nat). */
export const SAVE_ORDER: readonly number[] = [
  TableId.Mangle,
  TableId.Security,
  TableId.Raw,
  TableId.Filter,
  TableId.Nat,
];

/** tableIdByName: TableId for a table name, -1 when unknown. */
export function tableIdByName(name: string): number {
  return TABLE_NAMES.indexOf(name);
}
