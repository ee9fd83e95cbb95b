/**
 * `sysctl -a` text with wrong shapes: a line that is not `key = value`, a bad key, and a value Linux
 * would never print for a key ctnat reads (a word where the kernel keeps an integer). Each is refused
 * with the file, line and column. Before, a non-integer nf_conntrack_max or timeout was silently ignored
 * (Linux defaults used instead), and ip_forward = yes failed without a place.
 */
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { test } from "node:test";
import { isInputError } from "../../src/core/errors.js";
import { parseSysctl, sysctlInt } from "../../src/engine/sysctl.js";

const CASES: [string, string, string][] = [
  ["a line without '='", "net.ipv4.ip_forward 1\n", 's.txt:1:1: expected "key = value", found "net.ipv4.ip_forward 1"'],
  ["an indented line without '='", "\n   garbage\n", 's.txt:2:4: expected "key = value", found "garbage"'],
  ["an empty key", " = 1\n", 's.txt:1:1: bad sysctl key ""'],
  ["a key with spaces", "net ipv4 = 1\n", 's.txt:1:1: bad sysctl key "net ipv4"'],
  [
    "nf_conntrack_max a word",
    "net.netfilter.nf_conntrack_max = lots\n",
    's.txt:1:34: net.netfilter.nf_conntrack_max: expected an integer, found "lots"',
  ],
  [
    "a timeout with a unit",
    "net.netfilter.nf_conntrack_tcp_timeout_established = 5d\n",
    's.txt:1:54: net.netfilter.nf_conntrack_tcp_timeout_established: expected an integer, found "5d"',
  ],
  [
    "ip_forward = yes",
    "net.ipv4.ip_forward=yes\n",
    's.txt:1:21: net.ipv4.ip_forward: expected an integer, found "yes"',
  ],
  [
    "ipfrag_high_thresh empty",
    "net.ipv4.ipfrag_high_thresh =\n",
    's.txt:1:30: net.ipv4.ipfrag_high_thresh: expected an integer, found ""',
  ],
  [
    "IPv6 forwarding a float",
    "net.ipv6.conf.all.forwarding = 1.0\n",
    's.txt:1:32: net.ipv6.conf.all.forwarding: expected an integer, found "1.0"',
  ],
  [
    "icmp rate a word",
    "net.ipv4.icmp_msgs_per_sec = many\n",
    's.txt:1:30: net.ipv4.icmp_msgs_per_sec: expected an integer, found "many"',
  ],
  [
    "IPv6 icmp ratelimit hex",
    "net.ipv6.icmp.ratelimit = 0x64\n",
    's.txt:1:27: net.ipv6.icmp.ratelimit: expected an integer, found "0x64"',
  ],
  [
    "a port range of one number",
    "net.ipv4.ip_local_port_range = 1024\n",
    's.txt:1:32: net.ipv4.ip_local_port_range: expected two port numbers, found "1024"',
  ],
  [
    "an ICMPv6 rate mask with a word",
    "net.ipv6.icmp.ratemask = 0-1,echo\n",
    's.txt:1:26: net.ipv6.icmp.ratemask: expected a list of ICMPv6 types like 0-1,3-127, found "0-1,echo"',
  ],
  [
    "an ICMPv6 rate mask beyond 255",
    "net.ipv6.icmp.ratemask = 3-300\n",
    's.txt:1:26: net.ipv6.icmp.ratemask: expected a list of ICMPv6 types like 0-1,3-127, found "3-300"',
  ],
];

for (const [name, text, message] of CASES) {
  test(`sysctl: ${name}`, () => {
    assert.throws(
      () => parseSysctl(text, "s.txt"),
      (e: unknown) => {
        assert.ok(isInputError(e), String(e));
        assert.equal((e as Error).message, message);
        return true;
      },
    );
  });
}

test("sysctl: what Linux prints loads (lists, two-number ranges, strings of keys ctnat does not read)", () => {
  const s = parseSysctl(
    "net.ipv6.icmp.ratemask = 0-1,3-127\nnet.ipv4.ip_local_port_range = 32768\t60999\nnet.netfilter.nf_log.2 = NONE\n# c\n; c\nkernel.hostname = gw\nnet/ipv4/ip_forward = 1\r\n",
    "s.txt",
  );
  assert.equal(s.get("net.ipv4.ip_forward"), "1");
  assert.equal(s.get("net.ipv6.icmp.ratemask"), "0-1,3-127");
  assert.equal(sysctlInt(s, "net.ipv4.ip_forward", 0), 1);
  // every recorded kernel's full sysctl list
  for (const scen of ["masq-tcp", "nat-frag", "ct-tcp-sysctls"]) {
    const f = `test/fixtures/kernel/${scen}/sysctl.txt`;
    assert.ok(parseSysctl(readFileSync(new URL(`../../${f}`, import.meta.url), "utf8"), f).size > 10);
  }
});
