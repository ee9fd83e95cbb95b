/**
 * Every kind of error a ruleset can have, one case each: the loader refuses it with a RulesetError whose
 * one-line message is `FILE:LINE:COLUMN: reason` (the column at the word at fault). Covers the line
 * structure (tables, chain lines, counters, COMMIT), the option loop (commands, `!`, arguments, short and
 * long options, interfaces, addresses, protocols, jumps), and the options of every match and target ctnat
 * implements. (The wording follows iptables where iptables has a message.)
 *
 * Matches and targets added since (ipset, set, recent, hashlimit, connlimit, nfacct) have their own
 * tests beside them.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { isRulesetError } from "../../src/rules/errors.js";
import { loadRuleset } from "../../src/rules/ruleset.js";

const F = (l: string): string =>
  `*filter\n:INPUT ACCEPT [0:0]\n:FORWARD ACCEPT [0:0]\n:OUTPUT ACCEPT [0:0]\n${l}\nCOMMIT\n`;
const N = (l: string): string =>
  `*nat\n:PREROUTING ACCEPT [0:0]\n:INPUT ACCEPT [0:0]\n:OUTPUT ACCEPT [0:0]\n:POSTROUTING ACCEPT [0:0]\n${l}\nCOMMIT\n`;
const M = (l: string): string =>
  `*mangle\n:PREROUTING ACCEPT [0:0]\n:INPUT ACCEPT [0:0]\n:FORWARD ACCEPT [0:0]\n:OUTPUT ACCEPT [0:0]\n:POSTROUTING ACCEPT [0:0]\n${l}\nCOMMIT\n`;
const R = (l: string): string => `*raw\n:PREROUTING ACCEPT [0:0]\n:OUTPUT ACCEPT [0:0]\n${l}\nCOMMIT\n`;

/** name, ruleset text, expected "LINE:COLUMN: reason", family (4 unless given) */
const CASES: [string, string, string, number?][] = [
  ["COMMIT outside", "COMMIT\n", "1:1: COMMIT outside a table"],
  ["no table line", "-A INPUT -j ACCEPT\n", "1:1: rule or chain outside a table (missing '*table' line)"],
  ["table twice open", "*filter\n*nat\nCOMMIT\n", "2:1: table 'filter' opened at line 1 has no COMMIT"],
  ["chain line short", "*filter\n:INPUT\nCOMMIT\n", "2:1: chain line needs a name and a policy (':NAME POLICY [p:b]')"],
  ["chain line bad counters", "*filter\n:INPUT ACCEPT [x]\nCOMMIT\n", "2:15: bad counters '[x]'"],
  ["chain line extra", "*filter\n:INPUT ACCEPT [0:0] extra\nCOMMIT\n", "2:21: unexpected 'extra'"],
  [
    "chain name too long",
    `*filter\n:${"A".repeat(29)} - [0:0]\nCOMMIT\n`,
    "2:2: chain name 'AAAAAAAAAAAAAAAAAAAAAAAAAAAAA' is too long (at most 28 characters)",
  ],
  ["chain name dash", "*filter\n:-x - [0:0]\nCOMMIT\n", "2:2: chain name '-x' is not allowed"],
  [
    "chain name builtin",
    "*nat\n:FORWARD - [0:0]\nCOMMIT\n",
    "2:2: 'FORWARD' is a built-in chain name, not valid for a user chain here",
  ],
  ["chain name target", "*filter\n:ACCEPT - [0:0]\nCOMMIT\n", "2:2: chain name 'ACCEPT' clashes with a target name"],
  ["rule counters bad", F("[1:2 -A INPUT -j ACCEPT"), "5:1: bad counters: expected [packets:bytes]"],
  ["bad argument", F("-A INPUT foo"), "5:10: bad argument 'foo'"],
  ["option needs arg", F("-A INPUT -s"), "5:10: option '-s' requires an argument"],
  ["double bang", F("-A INPUT ! ! -s 1.2.3.4 -j ACCEPT"), "5:12: multiple '!' flags not allowed"],
  ["bang before command", F("! -A INPUT -j ACCEPT"), "5:1: cannot have ! before a command"],
  ["bang at end", F("-A INPUT -j ACCEPT !"), "5:20: '!' at the end of the line has nothing to negate"],
  ["two commands", F("-A INPUT -A INPUT -j ACCEPT"), "5:10: only one command per line"],
  ["-N exists", "*filter\n:INPUT ACCEPT [0:0]\n:X - [0:0]\n-N X\nCOMMIT\n", "4:4: chain 'X' already exists"],
  ["-N extra", "*filter\n:INPUT ACCEPT [0:0]\n-N X foo\nCOMMIT\n", "3:6: unexpected 'foo' after -N"],
  [
    "-P user chain",
    "*filter\n:INPUT ACCEPT [0:0]\n:X - [0:0]\n-P X DROP\nCOMMIT\n",
    "4:4: a policy can only be set on a built-in chain, not on 'X'",
  ],
  ["-P bad policy", F("-P INPUT REJECT"), "5:10: -P needs a policy: ACCEPT or DROP"],
  ["-P extra", F("-P INPUT DROP x"), "5:15: unexpected 'x' after -P"],
  ["-I too big", F("-I INPUT 5 -j ACCEPT"), "5:10: index of insertion too big (5)"],
  ["-t", F("-t nat -A INPUT -j ACCEPT"), "5:1: the -t option cannot be used in iptables-restore input"],
  ["-D", F("-D INPUT -j ACCEPT"), "5:1: -D (delete) is not supported by ctnat's loader"],
  ["-Z", F("-Z"), "5:1: -Z (zero) is not supported by ctnat's loader"],
  ["unknown short", F("-A INPUT -q"), "5:10: unknown option '-q'"],
  ["unknown long", F("-A INPUT --frob -j ACCEPT"), "5:10: unknown option '--frob'"],
  [
    "ambiguous long",
    F("-A INPUT -p tcp --d 80 -j ACCEPT"),
    "5:21: host/network `80' not found (ctnat accepts numeric addresses only)",
  ],
  ["chain missing", F("-A NOPE -j ACCEPT"), "5:4: chain 'NOPE' does not exist"],
  ["-s twice", F("-A INPUT -s 1.2.3.4 -s 1.2.3.5 -j ACCEPT"), "5:21: multiple -s flags not allowed"],
  [
    "bad source",
    F("-A INPUT -s 1.2.3.400 -j ACCEPT"),
    "5:13: host/network `1.2.3.400' not found (ctnat accepts numeric addresses only)",
  ],
  ["bad mask", F("-A INPUT -s 1.2.3.4/33 -j ACCEPT"), "5:13: invalid mask `33' specified"],
  ["unknown proto", F("-A INPUT -p frob -j ACCEPT"), "5:13: unknown protocol 'frob' specified"],
  [
    "iface too long",
    F("-A INPUT -i abcdefghijklmnopq -j ACCEPT"),
    "5:13: interface name 'abcdefghijklmnopq' must be shorter than 16 characters",
  ],
  ["iface empty", F('-A INPUT -i "" -j ACCEPT'), "5:13: empty interface name"],
  ["-i in OUTPUT", F("-A OUTPUT -i eth0 -j ACCEPT"), "5:1: can't use -i with OUTPUT"],
  ["-o in INPUT", F("-A INPUT -o eth0 -j ACCEPT"), "5:1: can't use -o with INPUT"],
  ["-f ipv6", F("-A INPUT -f -j ACCEPT"), "5:10: -f is not an ip6tables option (use -m frag)", 6],
  ["-j twice", F("-A INPUT -j ACCEPT -j DROP"), "5:20: multiple -j / -g flags not allowed"],
  ["-g ACCEPT", F("-A INPUT -g ACCEPT"), "5:13: goto 'ACCEPT': -g needs a user chain"],
  ["-c bad", F("-A INPUT -c 1 -j ACCEPT"), "5:10: -c needs two numbers: packets and bytes"],
  ["takes no argument", F("-A INPUT -p tcp --syn=1 -j ACCEPT"), "5:17: option '--syn' takes no argument"],
  ["jump builtin", F("-A INPUT -j FORWARD"), "5:13: cannot jump to built-in chain 'FORWARD'"],
  ["unknown target", F("-A INPUT -j FROB"), "5:13: chain 'FROB' does not exist"],
  ["unknown match", F("-A INPUT -m frob -j ACCEPT"), "5:13: couldn't load match 'frob': no such match"],
  ["unsupported match", F("-A INPUT -m quota --quota 5 -j ACCEPT"), "5:13: match 'quota' is not implemented by ctnat"],
  [
    "cannot invert",
    F("-A INPUT -m comment ! --comment x -j ACCEPT"),
    '5:23: comment: option "--comment" cannot be inverted',
  ],
  [
    "tcp no proto",
    F("-A INPUT -m tcp --dport 80 -j ACCEPT"),
    "5:13: tcp match: only valid for protocol 6 (use -p tcp before it)",
  ],
  ["tcp flag unknown", F("-A INPUT -p tcp --tcp-flags SYN,FOO SYN -j ACCEPT"), "5:29: unknown TCP flag 'FOO'"],
  ["tcp two sport", F("-A INPUT -p tcp --sport 1 --sport 2 -j ACCEPT"), "5:27: only one '--source-port' allowed"],
  ["tcp two dport", F("-A INPUT -p tcp --dport 1 --dport 2 -j ACCEPT"), "5:27: only one '--destination-port' allowed"],
  [
    "tcp syn and flags",
    F("-A INPUT -p tcp --syn --tcp-flags SYN SYN -j ACCEPT"),
    "5:23: only one of '--syn' or '--tcp-flags' allowed",
  ],
  [
    "tcp flags and syn",
    F("-A INPUT -p tcp --tcp-flags SYN SYN --syn -j ACCEPT"),
    "5:37: only one of '--syn' or '--tcp-flags' allowed",
  ],
  [
    "tcp two option",
    F("-A INPUT -p tcp --tcp-option 2 --tcp-option 3 -j ACCEPT"),
    "5:32: only one '--tcp-option' allowed",
  ],
  ["tcp bad option", F("-A INPUT -p tcp --tcp-option 300 -j ACCEPT"), '5:30: bad TCP option "300"'],
  ["tcp bad port", F("-A INPUT -p tcp --dport 70000 -j ACCEPT"), "5:25: invalid port/service `70000' specified"],
  ["tcp bad range", F("-A INPUT -p tcp --dport 80:70 -j ACCEPT"), "5:25: invalid portrange (min > max)"],
  ["tcp flags one arg", F("-A INPUT -p tcp --tcp-flags SYN"), "5:17: --tcp-flags requires two arguments"],
  [
    "udp in tcp",
    F("-A INPUT -p udp -m tcp --dport 1 -j ACCEPT"),
    "5:20: tcp match: only valid for protocol 6 (use -p tcp before it)",
  ],
  [
    "multiport no proto",
    F("-A INPUT -m multiport --dports 1,2 -j ACCEPT"),
    "5:23: multiport needs '-p tcp', '-p udp', '-p udplite', '-p sctp' or '-p dccp'",
  ],
  [
    "multiport two",
    F("-A INPUT -p tcp -m multiport --dports 1 --sports 2 -j ACCEPT"),
    "5:41: multiport can only have one option",
  ],
  ["multiport range", F("-A INPUT -p tcp -m multiport --dports 5:1 -j ACCEPT"), "5:39: invalid portrange specified"],
  [
    "multiport none",
    F("-A INPUT -p tcp -m multiport -j ACCEPT"),
    "5:20: multiport: one of --sports, --dports or --ports is required",
  ],
  [
    "multiport too many",
    F("-A INPUT -p tcp -m multiport --dports 1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16 -j ACCEPT"),
    "5:39: too many ports specified",
  ],
  [
    "icmp ambiguous",
    F("-A INPUT -p icmp --icmp-type time -j ACCEPT"),
    "5:30: ambiguous ICMP type 'time': 'time-exceeded' or 'timestamp-request'?",
  ],
  ["icmp bad type", F("-A INPUT -p icmp --icmp-type frob -j ACCEPT"), "5:30: invalid ICMP type 'frob'"],
  ["icmp type 256", F("-A INPUT -p icmp --icmp-type 256 -j ACCEPT"), "5:30: invalid ICMP type '256'"],
  ["icmp bad code", F("-A INPUT -p icmp --icmp-type 3/300 -j ACCEPT"), "5:30: invalid ICMP code '300'"],
  [
    "icmp wrong proto",
    F("-A INPUT -p tcp -m icmp --icmp-type 8 -j ACCEPT"),
    "5:20: icmp match: only valid for protocol 1",
  ],
  ["icmp6 bad", F("-A INPUT -p ipv6-icmp --icmpv6-type frob -j ACCEPT"), "5:37: invalid ICMPv6 type 'frob'", 6],
  ["addrtype unknown", F("-A INPUT -m addrtype --src-type FROB -j ACCEPT"), "5:33: addrtype: unknown type 'FROB'"],
  [
    "addrtype src twice",
    F("-A INPUT -m addrtype --src-type LOCAL --src-type LOCAL -j ACCEPT"),
    "5:39: addrtype: can't specify src-type twice",
  ],
  [
    "addrtype dst twice",
    F("-A INPUT -m addrtype --dst-type LOCAL --dst-type LOCAL -j ACCEPT"),
    "5:39: addrtype: can't specify dst-type twice",
  ],
  [
    "addrtype both limit",
    F("-A INPUT -m addrtype --dst-type LOCAL --limit-iface-in --limit-iface-out -j ACCEPT"),
    "5:56: addrtype: you can't specify both --limit-iface-in and --limit-iface-out",
  ],
  ["addrtype none", F("-A INPUT -m addrtype -j ACCEPT"), "5:13: addrtype: you must specify --src-type or --dst-type"],
  [
    "addrtype limit out in input",
    F("-A INPUT -m addrtype --dst-type LOCAL --limit-iface-out -j ACCEPT"),
    "5:13: addrtype --limit-iface-out: only valid in FORWARD/OUTPUT/POSTROUTING, but reached from INPUT",
  ],
  [
    "ct twice",
    F("-A INPUT -m conntrack --ctstate NEW --ctstate NEW -j ACCEPT"),
    '5:37: conntrack: option "--ctstate" given twice',
  ],
  ["ct bad state", F("-A INPUT -m conntrack --ctstate FROB -j ACCEPT"), "5:33: bad ctstate 'FROB'"],
  ["ct bad status", F("-A INPUT -m conntrack --ctstatus FROB -j ACCEPT"), "5:34: bad ctstatus 'FROB'"],
  ["ct bad proto", F("-A INPUT -m conntrack --ctproto frob -j ACCEPT"), "5:33: unknown protocol 'frob' specified"],
  ["ct bad expire", F("-A INPUT -m conntrack --ctexpire x -j ACCEPT"), "5:34: bad --ctexpire 'x'"],
  [
    "ct bad dir",
    F("-A INPUT -m conntrack --ctdir SIDEWAYS -j ACCEPT"),
    "5:31: bad --ctdir 'SIDEWAYS' (ORIGINAL or REPLY)",
  ],
  [
    "ct bad addr",
    F("-A INPUT -m conntrack --ctorigsrc host.example -j ACCEPT"),
    "5:35: host/network 'host.example' not found (numeric addresses only)",
  ],
  ["ct bad mask", F("-A INPUT -m conntrack --ctorigsrc 1.2.3.4/40 -j ACCEPT"), "5:35: invalid mask '40' specified"],
  ["ct none", F("-A INPUT -m conntrack -j ACCEPT"), "5:13: conntrack: at least one option is required"],
  ["state none", F("-A INPUT -m state -j ACCEPT"), '5:13: state: option "--state" must be specified'],
  ["state bad", F("-A INPUT -m state --state FROB -j ACCEPT"), "5:27: bad ctstate 'FROB'"],
  [
    "comment twice",
    F("-A INPUT -m comment --comment a --comment b -j ACCEPT"),
    '5:33: comment: option "--comment" can only be used once',
  ],
  ["comment none", F("-A INPUT -m comment -j ACCEPT"), '5:13: comment: option "--comment" must be specified'],
  [
    "mark twice",
    F("-A INPUT -m mark --mark 1 --mark 2 -j ACCEPT"),
    '5:27: mark: option "--mark" can only be used once',
  ],
  ["mark none", F("-A INPUT -m mark -j ACCEPT"), '5:13: mark: option "--mark" must be specified'],
  ["mark bad", F("-A INPUT -m mark --mark x -j ACCEPT"), "5:25: bad mark value `x'"],
  ["mark bad mask", F("-A INPUT -m mark --mark 1/x -j ACCEPT"), "5:25: bad mask `1/x'"],
  [
    "connmark twice",
    F("-A INPUT -m connmark --mark 1 --mark 2 -j ACCEPT"),
    '5:31: connmark: option "--mark" can only be used once',
  ],
  ["connmark none", F("-A INPUT -m connmark -j ACCEPT"), '5:13: connmark: option "--mark" must be specified'],
  ["length bad", F("-A INPUT -m length --length x -j ACCEPT"), "5:29: length: bad value 'x'"],
  ["length none", F("-A INPUT -m length -j ACCEPT"), '5:13: length: option "--length" must be specified'],
  [
    "ttl two",
    F("-A INPUT -m ttl --ttl-eq 1 --ttl-lt 2 -j ACCEPT"),
    "5:28: ttl: only one of --ttl-eq, --ttl-lt, --ttl-gt allowed",
  ],
  ["ttl bad", F("-A INPUT -m ttl --ttl-eq 300 -j ACCEPT"), "5:26: ttl: invalid value '300'"],
  ["ttl none", F("-A INPUT -m ttl -j ACCEPT"), "5:13: ttl: one of --ttl-eq, --ttl-lt, --ttl-gt is required"],
  ["hl in v4", F("-A INPUT -m hl --hl-eq 1 -j ACCEPT"), "5:13: couldn't load match 'hl': no such match"],
  ["pkttype bad", F("-A INPUT -m pkttype --pkt-type frob -j ACCEPT"), "5:32: bad packet type 'frob'"],
  ["pkttype none", F("-A INPUT -m pkttype -j ACCEPT"), '5:13: pkttype: option "--pkt-type" must be specified'],
  ["mac bad", F("-A INPUT -m mac --mac-source 00:11 -j ACCEPT"), "5:30: bad mac address '00:11'"],
  ["mac none", F("-A INPUT -m mac -j ACCEPT"), '5:13: mac: option "--mac-source" must be specified'],
  [
    "mac in output",
    F("-A OUTPUT -m mac --mac-source 00:11:22:33:44:55 -j ACCEPT"),
    "5:14: mac match: only valid in PREROUTING/INPUT/FORWARD, but reached from OUTPUT",
  ],
  [
    "iprange twice",
    F("-A INPUT -m iprange --src-range 1.1.1.1-1.1.1.2 --src-range 1.1.1.1-1.1.1.2 -j ACCEPT"),
    '5:49: iprange: option "--src-range" can only be used once',
  ],
  [
    "iprange none",
    F("-A INPUT -m iprange -j ACCEPT"),
    "5:13: iprange match: you must specify --src-range or --dst-range",
  ],
  [
    "owner twice",
    F("-A OUTPUT -m owner --uid-owner 1 --uid-owner 2 -j ACCEPT"),
    '5:34: owner: option "--uid-owner" can only be used once',
  ],
  [
    "owner name",
    F("-A OUTPUT -m owner --uid-owner root -j ACCEPT"),
    "5:32: owner: numeric ids only ('root'); ctnat has no user database",
  ],
  [
    "owner in input",
    F("-A INPUT -m owner --uid-owner 0 -j ACCEPT"),
    "5:13: owner match: only valid in OUTPUT/POSTROUTING, but reached from INPUT",
  ],
  ["stat bad mode", F("-A INPUT -m statistic --mode frob -j ACCEPT"), "5:30: statistic: bad mode 'frob'"],
  [
    "stat prob+every",
    F("-A INPUT -m statistic --mode nth --every 2 --probability 0.5 -j ACCEPT"),
    '5:44: statistic: "--probability" cannot be used with "--every" or "--packet"',
  ],
  [
    "stat bad prob",
    F("-A INPUT -m statistic --mode random --probability 2 -j ACCEPT"),
    "5:51: statistic: invalid probability '2' (0 to 1)",
  ],
  [
    "stat every+prob",
    F("-A INPUT -m statistic --mode random --probability 0.5 --every 2 -j ACCEPT"),
    '5:55: statistic: "--every" cannot be used with "--probability"',
  ],
  ["stat bad every", F("-A INPUT -m statistic --mode nth --every 0 -j ACCEPT"), "5:42: statistic: invalid --every '0'"],
  [
    "stat packet+prob",
    F("-A INPUT -m statistic --mode random --probability 0.5 --packet 1 -j ACCEPT"),
    '5:55: statistic: "--packet" cannot be used with "--probability"',
  ],
  [
    "stat bad packet",
    F("-A INPUT -m statistic --mode nth --every 2 --packet 5 -j ACCEPT"),
    "5:13: the --packet p must be 0 <= p <= n-1",
  ],
  [
    "stat no mode",
    F("-A INPUT -m statistic --probability 0.5 -j ACCEPT"),
    '5:13: statistic: option "--mode" must be specified',
  ],
  [
    "stat random no prob",
    F("-A INPUT -m statistic --mode random -j ACCEPT"),
    "5:13: --probability must be specified when using random mode",
  ],
  [
    "stat nth no every",
    F("-A INPUT -m statistic --mode nth -j ACCEPT"),
    "5:13: --every and --packet must be specified when using nth mode",
  ],
  [
    "stat nth prob",
    F("-A INPUT -m statistic --probability 0.5 --mode nth --every 2 -j ACCEPT"),
    '5:52: statistic: "--every" cannot be used with "--probability"',
  ],
  [
    "stat random every",
    F("-A INPUT -m statistic --every 2 --mode random --probability 0.5 -j ACCEPT"),
    '5:47: statistic: "--probability" cannot be used with "--every" or "--packet"',
  ],
  ["limit invert", F("-A INPUT -m limit ! --limit 5/s -j ACCEPT"), '5:21: limit: option "--limit" cannot be inverted'],
  ["limit bad rate", F("-A INPUT -m limit --limit 5/fortnight -j ACCEPT"), '5:27: bad rate "5/fortnight"'],
  ["limit bad rate2", F("-A INPUT -m limit --limit x -j ACCEPT"), '5:27: bad rate "x"'],
  ["limit bad rate3", F("-A INPUT -m limit --limit 0/s -j ACCEPT"), '5:27: bad rate "0/s"'],
  ["limit too fast", F("-A INPUT -m limit --limit 100000/s -j ACCEPT"), '5:27: rate too fast "100000/s"'],
  [
    "limit burst",
    F("-A INPUT -m limit --limit 5/s --limit-burst 20000 -j ACCEPT"),
    "5:45: limit: bad --limit-burst '20000' (0 to 10000)",
  ],
  [
    "reject echo-reply",
    F("-A INPUT -j REJECT --reject-with echo-reply"),
    "5:34: --reject-with echo-reply is no longer supported",
  ],
  ["reject bad", F("-A INPUT -j REJECT --reject-with frob"), '5:34: unknown reject type "frob"'],
  [
    "reject tcp-reset no tcp",
    F("-A INPUT -j REJECT --reject-with tcp-reset"),
    "5:13: REJECT: TCP_RESET invalid for non-tcp (use -p tcp)",
  ],
  ["reject in mangle", M("-A INPUT -j REJECT"), "7:13: REJECT target: only valid in the filter table"],
  ["log level", F("-A INPUT -j LOG --log-level frob"), "5:29: log-level 'frob' unknown"],
  ["log prefix empty", F('-A INPUT -j LOG --log-prefix ""'), "5:30: no prefix specified for --log-prefix"],
  ["nflog group", F("-A INPUT -j NFLOG --nflog-group x"), "5:33: NFLOG: bad --nflog-group 'x'"],
  ["nflog prefix empty", F('-A INPUT -j NFLOG --nflog-prefix ""'), "5:34: NFLOG: --nflog-prefix must not be empty"],
  [
    "nflog range+size",
    F("-A INPUT -j NFLOG --nflog-range 5 --nflog-size 5"),
    '5:35: NFLOG: "--nflog-size" cannot be used with "--nflog-range"',
  ],
  ["nflog bad range", F("-A INPUT -j NFLOG --nflog-range x"), "5:33: NFLOG: bad --nflog-range 'x'"],
  [
    "nflog size+range",
    F("-A INPUT -j NFLOG --nflog-size 5 --nflog-range 5"),
    '5:34: NFLOG: "--nflog-range" cannot be used with "--nflog-size"',
  ],
  ["nflog bad size", F("-A INPUT -j NFLOG --nflog-size x"), "5:32: NFLOG: bad --nflog-size 'x'"],
  ["nflog bad threshold", F("-A INPUT -j NFLOG --nflog-threshold x"), "5:37: NFLOG: bad --nflog-threshold 'x'"],
  [
    "mark two actions",
    M("-A PREROUTING -j MARK --set-mark 1 --or-mark 2"),
    "7:36: MARK target: only one action (--set-xmark, --set-mark, --and-mark, --or-mark, --xor-mark)",
  ],
  ["mark no action", M("-A PREROUTING -j MARK"), "7:18: MARK target: parameter required"],
  ["mark bad value", M("-A PREROUTING -j MARK --set-mark x"), "7:34: bad mark value `x'"],
  [
    "connmark two",
    M("-A PREROUTING -j CONNMARK --save-mark --restore-mark"),
    "7:39: CONNMARK target: only one action allowed",
  ],
  ["connmark bad mask", M("-A PREROUTING -j CONNMARK --save-mark --mask x"), "7:46: bad mask 'x'"],
  [
    "connmark mask+ctmask",
    M("-A PREROUTING -j CONNMARK --save-mark --mask 1 --ctmask 1"),
    '7:48: CONNMARK: "--ctmask" cannot be used with "--mask"',
  ],
  [
    "connmark ctmask+mask",
    M("-A PREROUTING -j CONNMARK --save-mark --ctmask 1 --mask 1"),
    '7:50: CONNMARK: "--mask" cannot be used with "--ctmask" or "--nfmask"',
  ],
  ["CONNMARK target none", M("-A PREROUTING -j CONNMARK"), "7:18: CONNMARK target: no operation specified"],
  ["CT target twice", R("-A PREROUTING -j CT --zone 1 --zone 2"), '4:30: CT: option "--zone" can only be used once.'],
  ["ct bad zone", R("-A PREROUTING -j CT --zone x"), "4:28: Cannot parse x as a zone ID"],
  ["ct in filter", F("-A INPUT -j CT --notrack"), "5:13: CT target: only valid in the raw table"],
  [
    "snat no ports proto",
    N("-A POSTROUTING -j SNAT --to-source 1.2.3.4:80"),
    "6:36: need TCP, UDP, SCTP or DCCP with port specification (-p before the target)",
  ],
  ["snat bad port", N("-A POSTROUTING -p tcp -j SNAT --to-source 1.2.3.4:x"), '6:43: port "x" not valid'],
  [
    "snat bad range",
    N("-A POSTROUTING -p tcp -j SNAT --to-source 1.2.3.4:90-80"),
    '6:43: port range "90-80" not valid',
  ],
  ["snat bad addr", N("-A POSTROUTING -j SNAT --to-source 1.2.3"), '6:36: bad IP address "1.2.3"'],
  ["snat bad addr range", N("-A POSTROUTING -j SNAT --to-source 1.2.3.4-1.2.3"), '6:36: bad IP address "1.2.3"'],
  ["snat none", N("-A POSTROUTING -j SNAT"), '6:19: SNAT: option "--to-source" must be specified'],
  [
    "snat in prerouting",
    N("-A PREROUTING -j SNAT --to-source 1.2.3.4"),
    "6:18: SNAT target: only valid in INPUT/POSTROUTING, but reached from PREROUTING",
  ],
  [
    "dnat in postrouting",
    N("-A POSTROUTING -j DNAT --to-destination 1.2.3.4"),
    "6:19: DNAT target: only valid in PREROUTING/OUTPUT, but reached from POSTROUTING",
  ],
  ["dnat in filter", F("-A INPUT -j DNAT --to-destination 1.2.3.4"), "5:13: DNAT target: only valid in the nat table"],
  [
    "masq ports no proto",
    N("-A POSTROUTING -j MASQUERADE --to-ports 1000"),
    "6:41: need TCP, UDP, SCTP or DCCP with port specification (-p before the target)",
  ],
  ["masq bad port", N("-A POSTROUTING -p tcp -j MASQUERADE --to-ports x"), '6:48: port "x" not valid'],
  ["masq bad range", N("-A POSTROUTING -p tcp -j MASQUERADE --to-ports 5-1"), '6:48: port range "5-1" not valid'],
  [
    "redirect in post",
    N("-A POSTROUTING -j REDIRECT"),
    "6:19: REDIRECT target: only valid in PREROUTING/OUTPUT, but reached from POSTROUTING",
  ],
  ["netmap none", N("-A PREROUTING -j NETMAP"), '6:18: NETMAP: option "--to" must be specified'],
  ["netmap bad", N("-A PREROUTING -j NETMAP --to 1.2.3"), '6:30: bad IP address "1.2.3"'],
  ["netmap bad mask", N("-A PREROUTING -j NETMAP --to 1.2.3.0/33"), '6:30: bad netmask "33"'],
  [
    "tcpmss twice",
    M("-A FORWARD -p tcp -j TCPMSS --set-mss 1 --set-mss 2"),
    '7:41: TCPMSS: option "--set-mss" can only be used once.',
  ],
  [
    "tcpmss bad",
    M("-A FORWARD -p tcp -j TCPMSS --set-mss 70000"),
    '7:39: TCPMSS: bad value for option "--set-mss", or out of range (0-65515).',
  ],
  ["tcpmss none", M("-A FORWARD -p tcp -j TCPMSS"), "7:22: TCPMSS target: At least one parameter is required"],
  [
    "tcpmss no tcp",
    M("-A FORWARD -j TCPMSS --set-mss 1400"),
    "7:15: TCPMSS target: only valid for protocol 6 (use -p tcp)",
  ],
];

for (const [name, text, message, family] of CASES) {
  test(`ruleset error: ${name}`, () => {
    assert.throws(
      () => loadRuleset(text, { file: "rules.txt", family: family ?? 4 }),
      (e: unknown) => {
        assert.ok(isRulesetError(e), String(e));
        assert.equal((e as Error).message, `rules.txt:${message}`);
        return true;
      },
    );
  });
}
