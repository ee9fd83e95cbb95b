/**
 * formatPacket: a one-line, tcpdump-like description of a parsed packet for traces and error
 * messages (tcpdump -nn -S style: numeric addresses and ports, absolute sequence numbers):
 *
 *   IP 10.0.0.1.1234 > 10.0.0.2.80: Flags [S], seq 1, win 64240, options [mss 1460,sackOK,TS val 7 ecr 0,nop,wscale 7], length 0
 *   IP 10.0.0.1 > 10.0.0.2: ICMP echo request, id 1, seq 2, length 12
 *   IP6 fd00::9 > fd00::1: ICMP6, packet too big, mtu 1280, length 57
 *
 * Where tcpdump's default output says nothing about fragments, the IPv4 form appends tcpdump -v's
 * "(frag id:len@offset+)". Malformed packets say what is wrong ("truncated-ip - 168 bytes missing!",
 * "bad-hlen 16", "[bad hdr length 12 - too short, < 20]", "[bad opt]"), never throw.
 *
 * Slow path: builds strings.
 */
import { formatAddr } from "./addr.js";
import { get16, get32 } from "./bytes.js";
import {
  IPPROTO_AH,
  IPPROTO_DCCP,
  IPPROTO_DSTOPTS,
  IPPROTO_FRAGMENT,
  IPPROTO_GRE,
  IPPROTO_HOPOPTS,
  IPPROTO_ICMP,
  IPPROTO_ICMPV6,
  IPPROTO_NONE,
  IPPROTO_ROUTING,
  IPPROTO_SCTP,
  IPPROTO_TCP,
  IPPROTO_UDP,
  IPPROTO_UDPLITE,
} from "./ip-protocol.js";
import { type PacketInfo, WIRE_STATUS_NAMES, WireStatus } from "./packet-info.js";

const TCP_FLAG_CHARS = [
  [0x01, "F"],
  [0x02, "S"],
  [0x04, "R"],
  [0x08, "P"],
  [0x10, "."],
  [0x20, "U"],
  [0x40, "E"],
  [0x80, "W"],
] as const;

/** formatTcpFlags: tcpdump's flag string: "S", "S.", "P.", "FSRP.UEW", "none". */
export function formatTcpFlags(flags: number): string {
  let s = "";
  for (const [bit, ch] of TCP_FLAG_CHARS) if ((flags & bit) !== 0) s += ch;
  return s === "" ? "none" : s;
}

function u32(v: number): string {
  return String(v >>> 0);
}

function hasPorts(proto: number): boolean {
  return (
    proto === IPPROTO_TCP ||
    proto === IPPROTO_UDP ||
    proto === IPPROTO_UDPLITE ||
    proto === IPPROTO_SCTP ||
    proto === IPPROTO_DCCP
  );
}

/** formatPacket: one line describing `pi` (filled by parsePacket). */
export function formatPacket(pi: PacketInfo): string {
  const fam = pi.family;
  if (fam !== 4 && fam !== 6) {
    if (pi.status === WireStatus.BadVersion) return `IP bad-version ${pi.buf[pi.off] >> 4}`;
    return "not IP";
  }
  const head = fam === 4 ? "IP" : "IP6";
  const st = pi.status;
  const capLen = pi.buf.length - pi.off;
  if (fam === 4) {
    if (st === WireStatus.Truncated && capLen < 20) return `${head} truncated-ip (${capLen} bytes)`;
    if (st === WireStatus.BadHeaderLen) return `${head} bad-hlen ${pi.ipHeaderLen}`;
    if (st === WireStatus.Truncated)
      return `${head} truncated-ip - header length ${pi.ipHeaderLen} > ${capLen} captured`;
  } else if (st === WireStatus.Truncated) {
    return `${head} truncated-ip6 (${capLen} bytes)`;
  }
  const src = formatAddr(pi.src, fam);
  const dst = formatAddr(pi.dst, fam);
  const addrs = `${src} > ${dst}`;
  if (st === WireStatus.BadTotalLen) {
    if (pi.ipTotalLen > capLen) return `${head} ${addrs}: truncated-ip - ${pi.ipTotalLen - capLen} bytes missing!`;
    return `${head} ${addrs}: bad total length ${pi.ipTotalLen} < header ${pi.ipHeaderLen}`;
  }
  if (st === WireStatus.BadOptions || (fam === 4 && pi.ipOptProblem >= 0)) {
    return `${head} ${addrs}: [bad IPv4 options${pi.ipOptProblem >= 0 ? ` at byte ${pi.ipOptProblem}` : ""}], proto ${pi.proto}, length ${pi.len}`;
  }
  if (st === WireStatus.BadExtHeader) return `${head} ${addrs}: [bad extension header chain], length ${pi.len}`;
  if (st !== WireStatus.Ok) return `${head} ${addrs}: [${WIRE_STATUS_NAMES[st] ?? st}]`;

  const fragSuffix =
    fam === 4 && pi.isFragment
      ? ` (frag ${pi.ipId}:${pi.len - pi.ipHeaderLen}@${pi.fragOff}${pi.moreFrags ? "+" : ""})`
      : "";
  const ext = fam === 6 ? formatExtChain(pi) : "";
  // non-first fragments: no transport header
  if (pi.isFragment && pi.fragOff !== 0) {
    if (fam === 6) return `${head} ${addrs}: ${ext}`.trimEnd();
    return `${head} ${addrs}: ip-proto-${pi.proto}${fragSuffix}`;
  }
  const proto = pi.proto;
  let body: string;
  const ports = hasPorts(proto) && pi.l4Status !== WireStatus.Truncated;
  switch (proto) {
    case IPPROTO_TCP:
      body = formatTcp(pi);
      break;
    case IPPROTO_UDP:
    case IPPROTO_UDPLITE:
      body = formatUdp(pi);
      break;
    case IPPROTO_ICMP:
      body = formatIcmp(pi);
      break;
    case IPPROTO_ICMPV6:
      body = formatIcmp6(pi);
      break;
    case IPPROTO_SCTP:
      body = pi.l4Status === WireStatus.Ok ? "sctp" : "[|sctp]";
      break;
    case IPPROTO_DCCP:
      body = pi.l4Status === WireStatus.Ok ? `dccp, length ${pi.l4Len}` : "[|dccp]";
      break;
    case IPPROTO_GRE:
      body = `GRE, length ${pi.l4Len}`;
      break;
    case IPPROTO_NONE:
      body = "no next header";
      break;
    default:
      body = `ip-proto-${proto} ${pi.l4Len}`;
      break;
  }
  if (fam === 6) {
    if (ports && ext === "") return `${head} ${src}.${pi.srcPort} > ${dst}.${pi.dstPort}: ${body}`;
    if (ports) return `${head} ${addrs}: ${ext}${pi.srcPort} > ${pi.dstPort}: ${body}`;
    return `${head} ${addrs}: ${ext}${body}`;
  }
  if (ports) return `${head} ${src}.${pi.srcPort} > ${dst}.${pi.dstPort}: ${body}${fragSuffix}`;
  return `${head} ${addrs}: ${body}${fragSuffix}`;
}

/** the IPv6 extension headers as tcpdump names them ("HBH DSTOPT frag (0|48) "), ending in a space */
function formatExtChain(pi: PacketInfo): string {
  const b = pi.buf;
  let nh = pi.firstNextHeader;
  let p = pi.off + 40;
  const end = pi.off + pi.len;
  let s = "";
  for (let guard = 0; guard < 64 && p < end; guard++) {
    let hl: number;
    switch (nh) {
      case IPPROTO_HOPOPTS:
        s += "HBH ";
        hl = (b[p + 1] + 1) << 3;
        break;
      case IPPROTO_DSTOPTS:
        s += "DSTOPT ";
        hl = (b[p + 1] + 1) << 3;
        break;
      case IPPROTO_ROUTING:
        s += `srcrt (type=${b[p + 2]}, segleft=${b[p + 3]}) `;
        hl = (b[p + 1] + 1) << 3;
        break;
      case IPPROTO_AH:
        s += `AH(spi=0x${(get32(b, p + 4) >>> 0).toString(16).padStart(8, "0")},seq=0x${(get32(b, p + 8) >>> 0).toString(16)}) `;
        hl = (b[p + 1] + 2) << 2;
        break;
      case IPPROTO_FRAGMENT: {
        const fo = get16(b, p + 2) & 0xfff8;
        s += `frag (${fo}|${end - p - 8}) `;
        if (fo !== 0) return s;
        hl = 8;
        break;
      }
      default:
        return s;
    }
    nh = b[p];
    p += hl;
  }
  return s;
}

function formatTcp(pi: PacketInfo): string {
  if (pi.l4Status === WireStatus.Truncated) return "[|tcp]";
  if (pi.l4Status === WireStatus.BadHeaderLen) {
    const hl = pi.tcpHeaderLen;
    if (hl < 20) return `tcp ${pi.l4Len} [bad hdr length ${hl} - too short, < 20]`;
    return `tcp ${pi.l4Len} [bad hdr length ${hl} - too long, > ${pi.l4Len}]`;
  }
  const f = pi.tcpFlags;
  let s = `Flags [${formatTcpFlags(f)}]`;
  const len = pi.payloadLen;
  if (len > 0) s += `, seq ${u32(pi.tcpSeq)}:${u32(pi.tcpSeq + len)}`;
  else if ((f & 0x07) !== 0) s += `, seq ${u32(pi.tcpSeq)}`;
  if ((f & 0x10) !== 0) s += `, ack ${u32(pi.tcpAck)}`;
  s += `, win ${pi.tcpWindow}`;
  if ((f & 0x20) !== 0) s += `, urg ${pi.tcpUrgent}`;
  if (pi.tcpHeaderLen > 20) s += `, options [${formatTcpOptions(pi)}]`;
  return `${s}, length ${len}`;
}

/** formatTcpOptions: the option list as tcpdump prints it inside "options [...]". */
export function formatTcpOptions(pi: PacketInfo): string {
  const b = pi.buf;
  let p = pi.l4Off + 20;
  const end = pi.l4Off + pi.tcpHeaderLen;
  const out: string[] = [];
  while (p < end) {
    const k = b[p];
    if (k === 0) {
      out.push("eol");
      break;
    }
    if (k === 1) {
      out.push("nop");
      p++;
      continue;
    }
    if (p + 2 > end) {
      out.push("[bad opt]");
      break;
    }
    const l = b[p + 1];
    if (l < 2 || p + l > end) {
      out.push("[bad opt]");
      break;
    }
    switch (k) {
      case 2:
        out.push(l === 4 ? `mss ${get16(b, p + 2)}` : `mss [bad length ${l}]`);
        break;
      case 3:
        out.push(l === 3 ? `wscale ${b[p + 2]}` : `wscale [bad length ${l}]`);
        break;
      case 4:
        out.push(l === 2 ? "sackOK" : `sackOK [bad length ${l}]`);
        break;
      case 5: {
        if (l < 10 || ((l - 2) & 7) !== 0) {
          out.push(`sack [bad length ${l}]`);
          break;
        }
        let t = `sack ${(l - 2) >> 3} `;
        for (let q = p + 2; q < p + l; q += 8) t += `{${u32(get32(b, q))}:${u32(get32(b, q + 4))}}`;
        out.push(t);
        break;
      }
      case 8:
        out.push(l === 10 ? `TS val ${u32(get32(b, p + 2))} ecr ${u32(get32(b, p + 6))}` : `TS [bad length ${l}]`);
        break;
      case 19:
        out.push("md5");
        break;
      case 30:
        out.push("mptcp");
        break;
      case 34:
        out.push("tfo");
        break;
      default: {
        let hex = "";
        for (let q = p + 2; q < p + l; q++) hex += b[q].toString(16).padStart(2, "0");
        out.push(hex === "" ? `unknown-${k}` : `unknown-${k} 0x${hex}`);
        break;
      }
    }
    p += l;
  }
  return out.join(",");
}

function formatUdp(pi: PacketInfo): string {
  const name = pi.proto === IPPROTO_UDP ? "UDP" : "UDP-Lite";
  if (pi.l4Status === WireStatus.Truncated) return pi.proto === IPPROTO_UDP ? "[|udp]" : "[|udplite]";
  if (pi.l4Status === WireStatus.BadLength) {
    if (pi.proto === IPPROTO_UDP) {
      return pi.udpLen < 8 ? `${name}, bad length ${pi.udpLen} < 8` : `${name}, bad length ${pi.udpLen} > ${pi.l4Len}`;
    }
    return `${name}, bad coverage ${pi.udpLen}, length ${pi.l4Len - 8}`;
  }
  // a first fragment: the datagram's length is the header's, not this fragment's
  if (pi.isFragment && pi.proto === IPPROTO_UDP) return `${name}, length ${pi.udpLen - 8}`;
  return `${name}, length ${pi.payloadLen}`;
}

const UNREACH: readonly string[] = [
  "net %d unreachable",
  "host %d unreachable",
  "%d protocol %p unreachable",
  "%d %t port %P unreachable",
  "%d unreachable - need to frag (mtu %m)",
  "%d unreachable - source route failed",
  "net %d unreachable - unknown",
  "host %d unreachable - unknown",
  "%d unreachable - source host isolated",
  "net %d unreachable - admin prohibited",
  "host %d unreachable - admin prohibited",
  "net %d unreachable - tos prohibited",
  "host %d unreachable - tos prohibited",
  "host %d unreachable - admin prohibited filter",
  "host %d unreachable - host precedence violation",
  "host %d unreachable - precedence cutoff",
];

function protoName(p: number): string {
  return p === IPPROTO_TCP
    ? "tcp"
    : p === IPPROTO_UDP
      ? "udp"
      : p === IPPROTO_UDPLITE
        ? "udplite"
        : p === IPPROTO_SCTP
          ? "sctp"
          : String(p);
}

function innerDst(pi: PacketInfo): string {
  const inner = pi.inner;
  if (inner === null || inner.family === 0 || inner.status === WireStatus.Truncated) return "[|ip]";
  return formatAddr(inner.dst, inner.family);
}

function formatIcmp(pi: PacketInfo): string {
  if (pi.l4Status !== WireStatus.Ok) return "[|icmp]";
  const t = pi.icmpType;
  const c = pi.icmpCode;
  const b = pi.buf;
  const o = pi.l4Off;
  const len = `, length ${pi.l4Len}`;
  const inner = pi.inner;
  switch (t) {
    case 0:
      return `ICMP echo reply, id ${pi.icmpId}, seq ${pi.icmpSeq}${len}`;
    case 8:
      return `ICMP echo request, id ${pi.icmpId}, seq ${pi.icmpSeq}${len}`;
    case 3: {
      const tmpl = UNREACH[c] ?? `%d unreachable - #${c}`;
      const ip = inner ?? pi;
      const s = tmpl
        .replace("%d", innerDst(pi))
        .replace("%p", String(ip.proto))
        .replace("%t", protoName(ip.proto))
        .replace("%P", ip.l4Status === WireStatus.Ok ? String(ip.dstPort) : "?")
        .replace("%m", String(get16(b, o + 6)));
      return `ICMP ${s}${len}`;
    }
    case 4:
      return `ICMP source quench${len}`;
    case 5: {
      const kind = ["net", "host", "tos-net", "tos-host"][c] ?? `#${c}`;
      return `ICMP redirect ${innerDst(pi)} to ${kind} ${formatAddr([get32(b, o + 4)], 4)}${len}`;
    }
    case 11:
      return c === 0
        ? `ICMP time exceeded in-transit${len}`
        : c === 1
          ? `ICMP ip reassembly time exceeded${len}`
          : `ICMP time exceeded-#${c}${len}`;
    case 12:
      return c === 0 ? `ICMP parameter problem - octet ${b[o + 4]}${len}` : `ICMP parameter problem - code ${c}${len}`;
    case 13:
      return `ICMP time stamp query id ${pi.icmpId} seq ${pi.icmpSeq}${len}`;
    case 14:
      return `ICMP time stamp reply id ${pi.icmpId} seq ${pi.icmpSeq}${len}`;
    case 15:
      return `ICMP information request${len}`;
    case 16:
      return `ICMP information reply${len}`;
    case 17:
      return `ICMP address mask request${len}`;
    case 18:
      return `ICMP address mask reply${len}`;
    default:
      return `ICMP type-#${t}${len}`;
  }
}

const UNREACH6: readonly string[] = [
  "unreachable route",
  "unreachable prohibited",
  "beyond scope",
  "unreachable address",
  "unreachable port",
  "failed ingress/egress policy",
  "reject route",
];

function formatIcmp6(pi: PacketInfo): string {
  if (pi.l4Status !== WireStatus.Ok) return "[|icmp6]";
  const t = pi.icmpType;
  const c = pi.icmpCode;
  const b = pi.buf;
  const o = pi.l4Off;
  const len = `, length ${pi.l4Len}`;
  const inner = pi.inner;
  switch (t) {
    case 1: {
      const what = UNREACH6[c] ?? `unreachable code #${c}`;
      if (c === 4 && inner !== null && inner.status === WireStatus.Ok && inner.l4Status === WireStatus.Ok) {
        return `ICMP6, destination unreachable, ${what}, ${innerDst(pi)} ${protoName(inner.proto)} port ${inner.dstPort}${len}`;
      }
      return `ICMP6, destination unreachable, ${what} ${innerDst(pi)}${len}`;
    }
    case 2:
      return `ICMP6, packet too big, mtu ${get32(b, o + 4) >>> 0}${len}`;
    case 3:
      return c === 0
        ? `ICMP6, time exceeded in-transit for ${innerDst(pi)}${len}`
        : `ICMP6, time exceeded reassembly time exceeded${len}`;
    case 4: {
      const what = ["erroneous", "next header", "option"][c] ?? `code-#${c}`;
      return `ICMP6, parameter problem, ${what} - octet ${get32(b, o + 4) >>> 0}${len}`;
    }
    case 128:
      return `ICMP6, echo request, id ${pi.icmpId}, seq ${pi.icmpSeq}${len}`;
    case 129:
      return `ICMP6, echo reply, id ${pi.icmpId}, seq ${pi.icmpSeq}${len}`;
    case 130:
      return `ICMP6, multicast listener query${len}`;
    case 131:
      return `ICMP6, multicast listener report${len}`;
    case 132:
      return `ICMP6, multicast listener done${len}`;
    case 133:
      return `ICMP6, router solicitation${len}`;
    case 134:
      return `ICMP6, router advertisement${len}`;
    case 135:
    case 136: {
      const tgt =
        pi.l4Len >= 24
          ? formatAddr([get32(b, o + 8), get32(b, o + 12), get32(b, o + 16), get32(b, o + 20)], 6)
          : "[|icmp6]";
      return t === 135
        ? `ICMP6, neighbor solicitation, who has ${tgt}${len}`
        : `ICMP6, neighbor advertisement, tgt is ${tgt}${len}`;
    }
    case 137:
      return `ICMP6, redirect${len}`;
    case 143:
      return `ICMP6, multicast listener report v2${len}`;
    default:
      return `ICMP6, unknown icmp6 type (${t})${len}`;
  }
}
