/**
 * XtState: the named state x_tables extensions share within one network namespace, outside any single
 * rule: IP sets (ip_set), xt_recent tables, xt_hashlimit tables and nfacct accounting objects. Rules with
 * the same name use the same object, as in Linux; the IPv4 and IPv6 rulesets of one gateway share one
 * XtState (xt_recent tables are per namespace, hashlimit tables per namespace and family).
 *
 * Built at load time (the sets from the `--ipsets` input, the others created by the first rule that names
 * them); read and changed at packet time by the extensions that hold references into it.
 */
import { IpsetRegistry } from "./ipset/parse.js";
import type { HashlimitTable } from "./matches/hashlimit.js";
import type { NfacctObject } from "./matches/nfacct.js";
import type { RecentTable } from "./matches/recent.js";

export class XtState {
  /** the IP sets rules may name (`ipset save` input); empty when none were given */
  ipsets: IpsetRegistry;
  /** xt_recent tables by name (shared by IPv4 and IPv6 rules, as Linux's per-namespace list) */
  readonly recent: Map<string, RecentTable> = new Map();
  /** xt_hashlimit tables by family and name (`4:name`, `6:name`) */
  readonly hashlimit: Map<string, HashlimitTable> = new Map();
  /** nfacct objects by name */
  readonly nfacct: Map<string, NfacctObject> = new Map();
  constructor(ipsets: IpsetRegistry = new IpsetRegistry()) {
    this.ipsets = ipsets;
  }

  /** reset: every table's packet-time state back to empty (recent entries, hashlimit buckets, nfacct counters) */
  reset(): void {
    for (const t of this.recent.values()) t.flush();
    for (const t of this.hashlimit.values()) t.flush();
    for (const o of this.nfacct.values()) o.reset();
  }
}
