import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { CONTROL_SIZE, decodeControl, effectiveMode, encodeControl } from "../../src/proxy/control.ts";
import { boundsCheck, countDecision, decideFragment, effectiveMode as effectiveModeFragment } from "../../src/proxy/kernel/fragment.ts";
import { demoProxyProgram } from "../../src/proxy/kernel/demo-program.ts";
import { assemble, label, Exit, Mov } from "../../src/bpf/asm/index.ts";

const c = { mode: "collaboration" as const, modelVersion: 12, heartbeatNs: 123_456_789_012n, heartbeatTimeoutNs: 1_000_000_000n, confidenceThreshold: 0.75, budgetLimit: 50, budgetWindow: 100, generation: 9n };

describe("control record", () => {
  test("round-trips through the 64-byte layout with the RFC mode codes", () => {
    const b = encodeControl(c);
    assert.equal(b.length, CONTROL_SIZE);
    assert.equal(new DataView(b.buffer).getUint32(0, true), 3, "collaboration = 3");
    assert.equal(new DataView(b.buffer).getUint32(32, true), 49152, "0.75 in Q16");
    assert.deepEqual(decodeControl(b), c);
  });

  test("an unset or unknown mode code reads as emergency, as the kernel treats it", () => {
    const b = encodeControl(c);
    new DataView(b.buffer).setUint32(0, 0, true);
    assert.equal(decodeControl(b).mode, "emergency");
    new DataView(b.buffer).setUint32(0, 77, true);
    assert.equal(decodeControl(b).mode, "emergency");
  });

  test("effective mode: fresh heartbeat keeps the mode; none, stale or future means emergency", () => {
    const t = 5_000_000_000n;
    assert.deepEqual(effectiveMode({ ...c, heartbeatNs: 0n }, t), { mode: "emergency", fallback: "no-heartbeat" });
    assert.deepEqual(effectiveMode({ ...c, heartbeatNs: t - 1_000_000_000n }, t), { mode: "collaboration", fallback: "none" }, "age == timeout is still fresh");
    assert.deepEqual(effectiveMode({ ...c, heartbeatNs: t - 1_000_000_001n }, t), { mode: "emergency", fallback: "stale-heartbeat" });
    assert.equal(effectiveMode({ ...c, heartbeatNs: t + 5n }, t).mode, "emergency");
  });

  test("bad fields are typed errors", () => {
    assert.throws(() => encodeControl({ ...c, budgetLimit: -1 }), /control\.budgetLimit/);
    assert.throws(() => decodeControl(new Uint8Array(10)), /expected 64 bytes/);
  });
});

describe("proxy eBPF fragments", () => {
  test("fragments assemble, compose with distinct prefixes, and reference the named maps", () => {
    const a = assemble(demoProxyProgram({ control: "ctl", counters: "eff" }));
    assert.deepEqual([...new Set(a.relocations.map((r) => r.map))].sort(), ["ctl", "eff"]);
    const two = assemble([
      effectiveModeFragment({ map: "ctl", ctl: 6, mode: 7, stackOff: -4, prefix: "a" }),
      effectiveModeFragment({ map: "ctl", ctl: 8, mode: 9, stackOff: -8, prefix: "b" }),
      decideFragment({ mode: 7, ctl: 6, defaultDecision: 2, modelDecision: 3, confidenceQ16: 4, veto: 5, decision: 8, source: 9 }),
      countDecision({ map: "eff", mode: 7, source: 9, stackOff: -12 }),
      Mov.imm(0, 0),
      Exit(),
    ]);
    assert.ok(two.instructions.length > 40);
  });

  test("boundsCheck uses immediates for 32-bit bounds and a 64-bit load otherwise", () => {
    const small = boundsCheck(1, -100, 100, "fail", 2).flat();
    assert.equal(small.length, 2);
    const big = boundsCheck(1, 0, 2 ** 40, "fail", 2).flat();
    assert.equal(big.length, 3);
    assert.ok(assemble([...big, Mov.imm(0, 1), Exit(), label("fail"), Mov.imm(0, 0), Exit()]));
  });
});
