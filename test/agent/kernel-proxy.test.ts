import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { once } from "node:events";
import { KernelProxy } from "../../src/agent/kernel/kernel-proxy.ts";
import { loadProgram, unpin, XdpAction } from "../../src/bpf/index.ts";
import { effectiveMode, monotonicNs } from "../../src/proxy/control.ts";
import { DEMO_DEFAULT_DECISION, DEMO_MODEL_DECISION, demoProxyProgram } from "../../src/proxy/kernel/demo-program.ts";
import { sinceSnapshot } from "../../src/proxy/efficiency.ts";
import { MODES } from "../../src/proxy/mode.ts";
import { assertAnswers, awaitFallback } from "../helpers/fallback.ts";
import { requires } from "../helpers/kernel.ts";
import { FeedbackDataPath } from "../../src/agent/kernel/feedback-data-path.ts";

const PACKET = new Uint8Array(64);

function load(kp: KernelProxy) {
  return loadProgram({ name: "kmlib_proxy", type: "XDP", instructions: demoProxyProgram({ control: "control", counters: "counters" }), maps: kp.maps() });
}

describe("kernel-side eBPF proxy", () => {
  test("the demo program decides as decide() says and counts each decision per mode and source", (t) => {
    if (!requires(t, "bpf")) return;
    using kp = KernelProxy.open("unit");
    using prog = load(kp);
    assert.equal(DEMO_DEFAULT_DECISION, XdpAction.PASS);
    const expect = { emergency: DEMO_DEFAULT_DECISION, learning: DEMO_DEFAULT_DECISION, collaboration: DEMO_MODEL_DECISION, recommendation: DEMO_MODEL_DECISION } as const;
    for (const mode of MODES) {
      kp.writeControl({ mode, heartbeatNs: monotonicNs(), heartbeatTimeoutNs: 5_000_000_000n, confidenceThreshold: 0.5 });
      const before = kp.readCounters();
      const r = prog.testRun({ data: PACKET, repeat: 10 });
      assert.equal(r.retval, expect[mode], mode);
      const d = sinceSnapshot(kp.readCounters(), before);
      const source = expect[mode] === DEMO_MODEL_DECISION ? "model" : "default";
      assert.equal(d[mode][source].decided, 10, `${mode}: 10 decisions by ${source}`);
    }
    // Collaboration with a threshold above the model's confidence (1.0): the default decides.
    kp.writeControl({ mode: "collaboration", heartbeatNs: monotonicNs(), confidenceThreshold: 1.5 });
    assert.equal(prog.testRun({ data: PACKET }).retval, DEMO_DEFAULT_DECISION);
  });

  test("the eBPF effective-mode rule agrees with effectiveMode() on fresh, stale, missing heartbeats and bad modes", (t) => {
    if (!requires(t, "bpf")) return;
    using kp = KernelProxy.open("rule");
    using prog = load(kp);
    const cases: Array<{ code: number; ageMs: number | null; timeoutMs: number }> = [];
    for (const code of [0, 1, 2, 3, 4, 5, 200]) for (const ageMs of [null, 0, 2000]) cases.push({ code, ageMs, timeoutMs: 1000 });
    for (const c of cases) {
      const now = monotonicNs();
      const hb = c.ageMs === null ? 0n : now - BigInt(c.ageMs) * 1_000_000n;
      // Write the raw record so invalid mode codes reach the kernel too.
      kp.writeControl({ heartbeatNs: hb, heartbeatTimeoutNs: BigInt(c.timeoutMs) * 1_000_000n, confidenceThreshold: 0 });
      const raw = kp.control.lookup(new Uint8Array(4))!;
      new DataView(raw.buffer, raw.byteOffset).setUint32(0, c.code, true);
      kp.control.update(new Uint8Array(4), raw);
      const before = kp.readCounters();
      prog.testRun({ data: PACKET });
      const d = sinceSnapshot(kp.readCounters(), before);
      const kernelMode = MODES.find((m) => d[m].default.decided + d[m].model.decided === 1);
      const valid = c.code >= 1 && c.code <= 4;
      const want = valid ? effectiveMode({ mode: MODES[c.code - 1]!, heartbeatNs: hb, heartbeatTimeoutNs: BigInt(c.timeoutMs) * 1_000_000n }, monotonicNs()).mode : "emergency";
      assert.equal(kernelMode, want, JSON.stringify(c));
    }
  });

  test("the kernel side bounds-checks the recommendation again: a value written past user-space validation is ignored", (t) => {
    if (!requires(t, "bpf")) return;
    using kp = KernelProxy.open("bounds");
    using dp = FeedbackDataPath.load(kp, { name: "kmlib_bounds", ringBytes: 1 << 16 });
    const { prog } = dp;
    kp.writeControl({ mode: "recommendation", heartbeatNs: monotonicNs(), heartbeatTimeoutNs: 5_000_000_000n });
    const write = (version: bigint, decision: bigint, conf: bigint) => dp.writeRecommendation(version, decision, conf);
    write(1n, 1n, 65536n);
    assert.equal(prog.testRun({ data: PACKET }).retval, 1, "a valid recommendation: the model decides");
    for (const [d, c] of [[5n, 65536n], [-1n, 65536n], [1n, 65537n], [1n, -5n], [1n << 40n, 1n]] as const) {
      write(1n, d, c);
      assert.equal(prog.testRun({ data: PACKET }).retval, XdpAction.PASS, `decision ${d}, confidence ${c}: out of bounds, the default decides`);
    }
    write(0n, 1n, 65536n);
    assert.equal(prog.testRun({ data: PACKET }).retval, XdpAction.PASS, "model version 0: no model");
  });

  test("collaboration: the kernel enforces the budget (model decisions per window, per CPU)", (t) => {
    if (!requires(t, "bpf")) return;
    using kp = KernelProxy.open("budget");
    using dp = FeedbackDataPath.load(kp, { name: "kmlib_budget", ringBytes: 1 << 16 });
    const { prog } = dp;
    dp.writeRecommendation(1n, 1n, 65536n);
    kp.writeControl({ mode: "collaboration", heartbeatNs: monotonicNs(), heartbeatTimeoutNs: 60_000_000_000n, confidenceThreshold: 0.5, budgetLimit: 3, budgetWindow: 10 });
    const before = kp.readCounters();
    // One test-run executes its repeats on one CPU (migration disabled): 10 windows of 10.
    prog.testRun({ data: PACKET, repeat: 100 });
    const d = sinceSnapshot(kp.readCounters(), before);
    assert.equal(d.collaboration.model.decided, 30, "3 model decisions per window of 10");
    assert.equal(d.collaboration.default.decided, 70);
    kp.writeControl({ budgetLimit: 0 });
    const b2 = kp.readCounters();
    prog.testRun({ data: PACKET, repeat: 20 });
    assert.equal(sinceSnapshot(kp.readCounters(), b2).collaboration.model.decided, 0, "a zero budget keeps the model out");
  });

  test("heartbeat: the agent is SIGKILLed and the kernel side falls back to emergency within the timeout, the default deciding", async (t) => {
    if (!requires(t, "bpf")) return;
    const pin = `test-hb-${process.pid}`;
    const timeoutMs = 400, heartbeatMs = 50;
    unpin(pin);
    const child = spawn(process.execPath, ["--import", "tsx", new URL("./fixtures/heartbeat-agent.ts", import.meta.url).pathname, pin, String(timeoutMs), String(heartbeatMs)], {
      stdio: ["ignore", "pipe", "inherit"],
    });
    try {
      const [chunk] = (await Promise.race([once(child.stdout, "data"), new Promise((_, rej) => setTimeout(() => rej(new Error("agent did not start in 20 s")), 20_000))])) as [Buffer];
      assert.equal(chunk.toString().trim(), "ready");
      using kp = KernelProxy.open("hbtest", { pin });
      assert.ok(kp.reattached, "the test attaches to the agent's pinned maps");
      using prog = load(kp);
      // While the agent heartbeats: recommendation, the model decides, for longer than the timeout.
      await assertAnswers(prog, DEMO_MODEL_DECISION, timeoutMs * 2, "model decides while the agent is alive");
      const killedAt = monotonicNs();
      child.kill("SIGKILL");
      await once(child, "exit");
      // The agent is gone: its last heartbeat is final, and the kernel must switch exactly at hb + timeout.
      const deadline = kp.readControl().heartbeatNs + BigInt(timeoutMs) * 1_000_000n;
      const { lastModelAt, firstDefaultAt } = await awaitFallback(prog, DEMO_DEFAULT_DECISION, killedAt, timeoutMs);
      const fellBackMs = Number(firstDefaultAt - killedAt) / 1e6;
      t.diagnostic(`fell back to emergency ${fellBackMs.toFixed(1)} ms after SIGKILL (timeout ${timeoutMs} ms, heartbeat every ${heartbeatMs} ms)`);
      assert.ok(firstDefaultAt > deadline, "not before the heartbeat timed out");
      assert.ok(lastModelAt <= deadline, "the model kept deciding until the timeout and no longer");
      assert.ok(fellBackMs <= timeoutMs + 150, `fallback observed ${fellBackMs} ms after the kill, timeout ${timeoutMs} ms`);
      const c = kp.readControl();
      assert.equal(c.mode, "recommendation", "the requested mode is untouched: the kernel decided the fallback alone");
      const before = kp.readCounters();
      prog.testRun({ data: PACKET, repeat: 100 });
      const d = sinceSnapshot(kp.readCounters(), before);
      assert.equal(d.emergency.default.decided, 100);
      assert.equal(d.recommendation.model.decided, 0);
    } finally {
      if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
      unpin(pin);
    }
  });
});
