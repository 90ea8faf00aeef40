import { test } from "node:test";
import assert from "node:assert/strict";
import { requires } from "../helpers/kernel.ts";
import { runToolkitDemo } from "../../src/demo/toolkit.ts";
import { Progress } from "../../src/cli/progress.ts";

test("toolkit demo: real packets counted exactly, no packet lost across atomic swaps", async (t) => {
  if (!requires(t, "bpf", "netns", "hping3")) return;
  const r = await runToolkitDemo(new Progress(true));
  assert.equal(r.counted.icmp, r.sent.icmp);
  assert.equal(r.counted.tcp, r.sent.tcp);
  assert.equal(r.counted.udp, r.sent.udp);
  assert.equal(r.swap.lost, 0);
  assert.equal(r.swap.counted, r.swap.sent);
  // both program versions really served traffic, and every packet was seen by exactly one
  assert.ok(r.swap.byVersion[0] > 0 && r.swap.byVersion[1] > 0, `by version ${r.swap.byVersion}`);
  assert.ok(r.swap.byVersion[0] + r.swap.byVersion[1] >= r.swap.sent);
  assert.match(r.listing, /r0 = 2\n.*exit/);
});
