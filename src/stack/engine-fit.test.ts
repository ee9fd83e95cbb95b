/**
 * The engine plugs Stack in through its StackPort; this checks (at compile time, and once at run time
 * with an engine Skb) that a Stack is one, so a change on either side shows here.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { Skb } from "../core/skb.js";
import type { StackPort } from "../engine/gateway.js";
import { buildPacket } from "../wire/build.js";
import { parsePacket } from "../wire/parse.js";
import { StackConfig } from "./config.js";
import { Stack } from "./stack.js";
import { testRoutes } from "./testdata/fixture.js";

test("a Stack is the engine's StackPort, and answers an engine Skb", () => {
  const port: StackPort = new Stack(new StackConfig(), testRoutes());
  const skb = new Skb();
  skb.reset(100, 2);
  const b = buildPacket({ src: "10.0.0.5", dst: "10.0.0.1", tcp: { flags: "S", dport: 22 } });
  parsePacket(skb.pi, b, 0, b.length);
  const out = new Uint8Array(2048);
  assert.equal(port.answer(skb, out), 40);
  assert.equal(port.attachToCt, false);
  assert.ok(port.icmpError(skb, 0, 0, out) > 0);
  assert.equal(port.attachToCt, true);
});
