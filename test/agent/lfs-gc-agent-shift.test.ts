/**
 * `kmlib agent` running an lfs-gc proxy whose workload shifts under the model: the real Agent
 * (SQLite store, runner, the lfs-gc adapter and model thread) on a simulated clock, the host
 * writing hot/cold 90/10 and then uniform (`hotcold-90-10@20x,uniform`). The learned table is
 * promoted to recommendation on the skewed part; after the shift the paired per-epoch WA
 * outcomes lose their gain and the controller demotes it step by step, each demotion in the
 * event log with its paired gain and bounds, after the adapter's own event saying the workload
 * shifted; the GC keeps serving with the default deciding.
 */
import { after, describe, test } from "node:test";
import assert from "node:assert/strict";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Agent } from "../../src/agent/agent.ts";
import { loadConfig, parseConfig } from "../../src/agent/config.ts";
import { memoryLogger } from "../../src/agent/log.ts";
import { ErrorCode, isKmlibError } from "../../src/errors.ts";
import type { Evidence } from "../../src/proxy/controller.ts";
import { sinceSnapshot } from "../../src/proxy/efficiency.ts";
import type { LfsGcAdapter } from "../../src/subsystems/lfs-gc/proxy/adapter.ts";
import { GC_THRESHOLDS } from "../../src/subsystems/lfs-gc/proxy/session.ts";
import { ShiftedWorkload, makeShiftedWorkload, makeWorkload } from "../../src/subsystems/lfs-gc/registry.ts";

const EXAMPLE = new URL("../../examples/agent-lfs-gc-shift.json", import.meta.url).pathname;
const dir = mkdtempSync(join(existsSync("/dev/shm") ? "/dev/shm" : tmpdir(), "kmlib-gc-shift-"));
after(() => rmSync(dir, { recursive: true, force: true }));

/** The example's device; its epochs are one device's worth of host writes. */
const U = 16384;
const PER_ROUND = U / 16;
const ROUND_MS = 50;
/** Hot/cold writes before the shift, in multiples of U: room for both promotions (about 13 U here). */
const SWITCH = 20;
const WORKLOAD = `hotcold-90-10@${SWITCH}x,uniform`;

const cfg = (options: Record<string, unknown>, store = "bad.db") => ({
  agent: { store: join(dir, store), heartbeatMs: 100, heartbeatTimeoutMs: 1000, evaluateMs: ROUND_MS },
  metrics: { enabled: false },
  proxies: [{ name: "gc0", adapter: "lfs-gc", retain: { datasetRows: 2 * U, feedback: 1000 }, options }],
});

describe("kmlib agent: an lfs-gc proxy whose workload shifts", () => {
  test("hotcold-90-10 then uniform: promoted on the skewed part, demoted after the shift with its evidence logged, the default serving", async () => {
    let ms = 1_000_000;
    const config = parseConfig(cfg({ workload: WORKLOAD, logicalBlocks: U, epochWrites: U, writesPerPoll: PER_ROUND, seed: 1 }, "shift.db"));
    const agent = await Agent.start(config, { logger: memoryLogger().logger, now: () => ms, nowNs: () => BigInt(ms) * 1_000_000n, timers: false });
    const round = async () => {
      ms += ROUND_MS;
      await agent.heartbeat();
      await agent.tick();
    };
    try {
      const runner = agent.runners[0]!;
      const adapter = runner.adapter as LfsGcAdapter;
      const host = adapter.workload;
      assert.ok(host instanceof ShiftedWorkload, "the sequence became a shifted workload");
      assert.deepEqual(host.starts, [0, SWITCH * U]);
      // Run until the model is back in learning (or a bound), noting where each move fell.
      const moves: Array<{ to: string; written: number }> = [];
      let mode = runner.controller.mode;
      const limit = ((SWITCH + 20) * U) / PER_ROUND;
      for (let r = 0; r < limit; r++) {
        await round();
        if (runner.controller.mode !== mode) {
          mode = runner.controller.mode;
          moves.push({ to: mode, written: host.written });
          if (moves.length > 2 && mode === "learning") break;
        }
      }
      const events = agent.store.events({ proxy: "gc0", kind: "mode" }).reverse();
      assert.deepEqual(events.map((e) => e.data.to), moves.map((m) => m.to), "every move is in the event log");

      // Promoted to recommendation while the writes were skewed.
      assert.deepEqual(
        events.slice(0, 2).map((e) => [e.data.from, e.data.to, e.data.reason]),
        [
          ["learning", "collaboration", "promote"],
          ["collaboration", "recommendation", "promote"],
        ],
      );
      assert.ok(moves[1]!.written <= SWITCH * U, `promoted to recommendation after ${moves[1]!.written} host writes, before the shift`);

      // Demoted after the shift, step by step down to learning, each step with its paired evidence.
      const after = events.slice(2);
      assert.ok(after.length >= 1, "demoted after the shift");
      assert.deepEqual(
        after.map((e) => [e.data.from, e.data.to, e.data.reason]),
        [
          ["recommendation", "collaboration", "demote"],
          ["collaboration", "learning", "demote"],
        ],
      );
      const switchClock = U + SWITCH * U; // the device's initial fill comes first
      const epochs = adapter.kernel.epochs;
      const preGain = mean(epochs.filter((e) => e.mode === "recommendation" && e.at <= switchClock).map((e) => e.gain));
      for (const [i, e] of after.entries()) {
        assert.ok(moves[2 + i]!.written > SWITCH * U, `${e.message}: after the shift`);
        const ev = e.data.evidence as Evidence;
        assert.ok(ev.paired, `${e.message}: paired evidence recorded`);
        assert.ok(ev.paired.n >= GC_THRESHOLDS.minDecisions!, `${ev.paired.n} epochs behind it`);
        assert.ok(ev.gain.lo <= ev.gain.diff && ev.gain.diff <= ev.gain.hi, "the gain lies within its bounds");
        assert.ok(ev.gain.hi < GC_THRESHOLDS.demoteMargin!, `gain upper bound ${ev.gain.hi} under the demotion margin`);
        assert.ok(ev.gain.diff < preGain - GC_THRESHOLDS.promoteMargin!, `gain ${ev.gain.diff} vs ${preGain} in recommendation before the shift`);
        assert.match(e.message, /: demote: model gain -?\d+\.\d\d% in \[-?\d+\.\d\d%, -?\d+\.\d\d%\] \(sd \d+\.\d\d%\) over \d+ paired outcomes: gain below 5\.00%, regression$/);
      }
      // The shift itself is in the event log (reported by the adapter), between the promotions
      // and the first demotion, with where it fell on the device's clock.
      const shifts = agent.store.events({ proxy: "gc0", kind: "workload" }).reverse();
      assert.deepEqual(
        shifts.map((e) => [e.data.part, e.data.workload, e.data.startsAt, e.data.writes]),
        [
          [1, "hotcold-90-10", 0, SWITCH * U],
          [2, "uniform", SWITCH * U, null],
        ],
      );
      const shift = shifts[1]!;
      assert.match(shift.message, new RegExp(`^host workload ${WORKLOAD}: part 2/2 \\(uniform\\) starts after ${SWITCH * U} host writes, running on$`));
      assert.equal(shift.data.deviceWrites, switchClock);
      assert.equal(shift.data.mode, "recommendation", "the shift came while the model decided");
      assert.ok(events[1]!.id < shift.id && shift.id < after[0]!.id, `log order: promotion ${events[1]!.id}, shift ${shift.id}, demotion ${after[0]!.id}`);
      const started = agent.store.events({ proxy: "gc0", kind: "agent" }).find((e) => e.message.startsWith("proxy started"))!;
      assert.ok(started.id < shifts[0]!.id && shifts[0]!.id < events[0]!.id, "part 1 is logged as the proxy starts");

      // The first demotion weighed only epochs that ended after the shift.
      const first = after[0]!.data.evidence as Evidence;
      const weighed = epochs.filter((e) => e.mode === "recommendation").slice(-first.paired!.n);
      assert.ok(weighed.every((e) => e.at > switchClock), `epochs behind the first demotion ended at ${weighed.map((e) => e.at).join(", ")}; shift at ${switchClock}`);
      assert.ok(
        weighed.some((e) => e.gain < 0),
        `the model lost an epoch after the shift: ${weighed.map((e) => e.gain.toFixed(3)).join(" ")}`,
      );

      // The GC keeps serving: two more epochs of uniform writes, the default deciding them all.
      assert.equal(runner.controller.mode, "learning");
      assert.equal((await adapter.systemState()).effectiveMode, "learning");
      const before = await adapter.estimateEfficiency();
      const pairedBefore = (await runner.status()).paired?.learning?.n ?? 0;
      const gc0 = adapter.kernel.store.gcWrites;
      for (let i = 0; i < (2 * U) / PER_ROUND; i++) await round();
      const d = sinceSnapshot(await adapter.estimateEfficiency(), before).learning;
      assert.ok(d.default.decided > 0 && d.model.decided === 0, `default ${d.default.decided}, model ${d.model.decided} decisions in learning`);
      assert.ok(adapter.kernel.store.gcWrites > gc0, "the GC still moves blocks");
      assert.ok(((await runner.status()).paired?.learning?.n ?? 0) > pairedBefore, "the model is still weighed in shadow");
      assert.equal(runner.controller.mode, "learning");
      assert.equal(host.current.workload.name, "uniform");
    } finally {
      await agent.stop();
    }
  });

  test("a bad sequence is refused by the config schema and at start, naming the field and the part", async () => {
    for (const workload of ["hotcold-90-10,uniform", "hotcold-90-10@20x,uniform@4x", "uniform@20x", "hotcold-90-10@2.5,uniform"]) {
      assert.throws(
        () => parseConfig(cfg({ workload })),
        (e: unknown) => isKmlibError(e, ErrorCode.InvalidConfig) && /^proxies\[0\]\.options\.workload: must be a workload name, or a sequence WORKLOAD@COUNT,\.\.\.,WORKLOAD \(COUNT: host writes, or Nx/.test(e.message),
        workload,
      );
    }
    const start = (workload: string) => Agent.start(parseConfig(cfg({ workload })), { logger: memoryLogger().logger, timers: false });
    await assert.rejects(
      start("hotcold-90-10@20x,hotcold-95"),
      (e: unknown) => isKmlibError(e, ErrorCode.InvalidConfig) && /^proxies\[0\] \(gc0\): lfs-gc options\.workload: workload sequence "hotcold-90-10@20x,hotcold-95", part 2: unknown workload "hotcold-95"/.test(e.message),
    );
    await assert.rejects(start("hotcold-90-10@0x,uniform"), /lfs-gc options\.workload: workload sequence .*part 1 .* must last at least one host write/);
  });

  test("the example configuration is valid and shifts the workload after the promotion has room to happen", () => {
    const c = loadConfig(EXAMPLE);
    const p = c.proxies[0]!;
    assert.equal(p.adapter, "lfs-gc");
    const o = p.options as { workload: string; logicalBlocks: number; seed: number };
    const w = makeShiftedWorkload(o.workload, { logicalBlocks: o.logicalBlocks, seed: o.seed }, makeWorkload);
    assert.ok(w instanceof ShiftedWorkload);
    assert.deepEqual(w.parts.map((x) => x.workload.name), ["hotcold-90-10", "uniform"]);
    assert.ok(w.starts[1]! >= SWITCH * o.logicalBlocks, `shift after ${w.starts[1]} host writes`);
  });
});

function mean(xs: readonly number[]): number {
  assert.ok(xs.length > 0);
  return xs.reduce((a, b) => a + b, 0) / xs.length;
}
