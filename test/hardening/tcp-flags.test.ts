/**
 * Every TCP flag byte (256), as the first packet of a connection and inside connections in each state the
 * tracker knows, in both directions, through the whole gateway: no exception, every packet ends in a
 * counted fate, a flag combination Linux's tcp_error refuses (valid, ignoring PSH/ECE/CWR: SYN,
 * SYN|URG, SYN|ACK, RST, RST|ACK, FIN|ACK, FIN|ACK|URG, ACK, ACK|URG) counts as invalid, and afterwards
 * the gateway handles the good flow exactly as a fresh one does.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { buildFuzzGateway, checkSurvives, FUZZ_START, fateTotal, IF_LAN, IF_WAN } from "../../fuzz/lib/gateway.js";
import { buildPacket } from "../../src/wire/build.js";

const VALID = new Set([0x02, 0x22, 0x12, 0x04, 0x14, 0x11, 0x31, 0x10, 0x30]);
const valid = (f: number): boolean => VALID.has(f & ~(0x08 | 0x40 | 0x80));

/** a connection of lan host h: its client and server sequence numbers */
function conn(h: number): { lan: string; wan: string; sport: number; cs: number; ss: number } {
  return { lan: `10.77.1.${10 + h}`, wan: "10.77.2.9", sport: 20000 + h, cs: 1000 * h, ss: 500000 + 1000 * h };
}

test("all 256 TCP flag bytes, new and inside connections in every state, both ways", () => {
  const { gw, sink } = buildFuzzGateway();
  sink.keep = false;
  const ct = gw.conntrack;
  let t = FUZZ_START;
  const send = (ifindex: number, b: Uint8Array): void => {
    const before = fateTotal(gw);
    gw.gateway.receive(ifindex, b, 0, b.length, (t += 0.001));
    assert.ok(fateTotal(gw) > before, "counted");
  };
  const seg = (c: ReturnType<typeof conn>, dir: 0 | 1, flags: number, seq: number, ack: number): Uint8Array =>
    dir === 0
      ? buildPacket({ src: c.lan, dst: c.wan, tcp: { sport: c.sport, dport: 80, seq, ack, flags, win: 65535 } })
      : buildPacket({ src: c.wan, dst: "10.77.2.1", tcp: { sport: 80, dport: c.sport, seq, ack, flags, win: 65535 } });
  // set-ups: how far each connection gets before the flag byte comes (0 none ... 6 closed)
  const setups: ((c: ReturnType<typeof conn>) => void)[] = [
    () => {},
    (c) => send(IF_LAN, seg(c, 0, 0x02, c.cs, 0)), // SYN_SENT
    (c) => {
      send(IF_LAN, seg(c, 0, 0x02, c.cs, 0));
      send(IF_WAN, seg(c, 1, 0x12, c.ss, c.cs + 1)); // SYN_RECV
    },
    (c) => {
      send(IF_LAN, seg(c, 0, 0x02, c.cs, 0));
      send(IF_WAN, seg(c, 1, 0x12, c.ss, c.cs + 1));
      send(IF_LAN, seg(c, 0, 0x10, c.cs + 1, c.ss + 1)); // ESTABLISHED
    },
    (c) => {
      send(IF_LAN, seg(c, 0, 0x02, c.cs, 0));
      send(IF_WAN, seg(c, 1, 0x12, c.ss, c.cs + 1));
      send(IF_LAN, seg(c, 0, 0x10, c.cs + 1, c.ss + 1));
      send(IF_LAN, seg(c, 0, 0x11, c.cs + 1, c.ss + 1)); // FIN_WAIT
    },
    (c) => {
      send(IF_LAN, seg(c, 0, 0x02, c.cs, 0));
      send(IF_WAN, seg(c, 1, 0x12, c.ss, c.cs + 1));
      send(IF_LAN, seg(c, 0, 0x10, c.cs + 1, c.ss + 1));
      send(IF_LAN, seg(c, 0, 0x11, c.cs + 1, c.ss + 1));
      send(IF_WAN, seg(c, 1, 0x11, c.ss + 1, c.cs + 2)); // LAST_ACK
    },
    (c) => {
      send(IF_LAN, seg(c, 0, 0x02, c.cs, 0));
      send(IF_WAN, seg(c, 1, 0x12, c.ss, c.cs + 1));
      send(IF_LAN, seg(c, 0, 0x10, c.cs + 1, c.ss + 1));
      send(IF_WAN, seg(c, 1, 0x04, c.ss + 1, 0)); // CLOSE
    },
  ];
  let h = 0;
  for (let s = 0; s < setups.length; s++) {
    for (const dir of [0, 1] as const) {
      for (let f = 0; f < 256; f++) {
        const c = conn(h);
        h = (h + 1) % 240;
        setups[s]!(c);
        const inv = ct.stats.invalid;
        // in window: the next sequence number of the sender, acknowledging the other side
        send(
          dir === 0 ? IF_LAN : IF_WAN,
          dir === 0 ? seg(c, 0, f, c.cs + 1, c.ss + 1) : seg(c, 1, f, c.ss + 1, c.cs + 1),
        );
        if (!valid(f))
          assert.equal(ct.stats.invalid, inv + 1, `flags 0x${f.toString(16)} after set-up ${s}, direction ${dir}`);
        // the next round starts from an empty table (conntrack -F)
        ct.flush();
      }
    }
  }
  assert.equal(checkSurvives(gw, sink), null);
});
