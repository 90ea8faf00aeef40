/**
 * The GC proxy's parts: the integer lifetime table and its artefact, the quantisation (WA
 * unchanged within noise), recommended victims (bounds-checked twice, stale ones dropped),
 * the datasets with their RFC states, feedback, device copies, and the heartbeat fallback.
 */
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { ErrorCode, isKmlibError } from "../../src/errors.ts";
import { greedy } from "../../src/subsystems/lfs-gc/policies/classical.ts";
import { LIFETIME_CELLS, REGION_BUCKETS } from "../../src/subsystems/lfs-gc/policies/ml-lifetime.ts";
import { LfsGcAdapter } from "../../src/subsystems/lfs-gc/proxy/adapter.ts";
import { recommendVictims, runGcSession } from "../../src/subsystems/lfs-gc/proxy/session.ts";
import { LifetimeTrainer, decodeTable, encodeTable, quantizeLifetimes } from "../../src/subsystems/lfs-gc/proxy/table.ts";
import { makeWorkload, policyFactory } from "../../src/subsystems/lfs-gc/registry.ts";
import { simulate } from "../../src/subsystems/lfs-gc/simulate.ts";
import { LogStore } from "../../src/subsystems/lfs-gc/store.ts";
import { SegState } from "../../src/subsystems/lfs-gc/policy.ts";

const invalidModel = (e: unknown) => isKmlibError(e, ErrorCode.InvalidModel);

async function running(options: Record<string, unknown> = {}) {
  let now = 1_000_000_000n;
  const a = new LfsGcAdapter("gc", { nowNs: () => now });
  await a.init({ logicalBlocks: 4096, blocksPerSegment: 32, epochWrites: 0, ...options });
  await a.start();
  await a.heartbeat(now);
  return { a, advance: (ms: number) => (now += BigInt(ms) * 1_000_000n), now: () => now };
}

describe("lifetime table", () => {
  test("the artefact round-trips and every defect is refused", () => {
    const t = new LifetimeTrainer(4096);
    const life = t.quantize(0);
    assert.equal(life.length, LIFETIME_CELLS);
    const bytes = encodeTable(life, 4096);
    assert.deepEqual(decodeTable(bytes, 4096), life);
    const flip = (i: number) => {
      const b = bytes.slice();
      b[i] = b[i]! ^ 1;
      return b;
    };
    assert.throws(() => decodeTable(flip(0), 4096), (e: unknown) => invalidModel(e) && /magic/.test((e as Error).message));
    assert.throws(() => decodeTable(flip(4), 4096), (e: unknown) => invalidModel(e) && /format/.test((e as Error).message));
    assert.throws(() => decodeTable(flip(100), 4096), (e: unknown) => invalidModel(e) && /checksum/.test((e as Error).message));
    assert.throws(() => decodeTable(bytes.subarray(0, 100), 4096), invalidModel);
    assert.throws(() => decodeTable(bytes, 8192), (e: unknown) => invalidModel(e) && /4096 logical blocks/.test((e as Error).message));
    assert.throws(() => encodeTable(new Uint32Array(LIFETIME_CELLS), 4096), (e: unknown) => isKmlibError(e, ErrorCode.OutOfBounds));
    assert.deepEqual([...quantizeLifetimes(Float64Array.from([0.2, 2.5, 1e12, NaN]))], [1, 3, 0xffff_ffff, 1]);
  });

  test("the trainer learns short lives for hot blocks and long ones for cold blocks", async () => {
    const { a } = await running({ workload: "hotcold-90-10" });
    const t = new LifetimeTrainer(4096);
    a.runHost(8 * 4096);
    t.ingest(a.readHistory(0));
    assert.equal(t.records, 9 * 4096, "the fill and every host write");
    const life = t.quantize(a.kernel.store.now);
    // Hot blocks live U/9 host writes (rewritten about 9 times per U, so activity near 9, long
    // activity near 8·9, in the hot regions: the hot set is the first 10% of the device);
    // cold ones 9 U (seen here 4 U after their previous write, activity near 1, long activity
    // near 8/9, in the cold regions).
    const hot = life[t.model.cell(455, 9, 72, REGION_BUCKETS - 1)]!, cold = life[t.model.cell(4 * 4096, 1, 8 / 9, 0)]!;
    assert.ok(Math.abs(hot / 455 - 1) < 0.25, `hot cell: ${hot} vs 455`);
    assert.ok(Math.abs(cold / (9 * 4096) - 1) < 0.5, `cold cell: ${cold} vs ${9 * 4096}`);
  });

  test("quantised to u32, WA is unchanged within noise (and close to the unproxied policy)", async () => {
    const U = 8192;
    for (const spec of ["hotcold-90-10", "zipf-1.0"]) {
      const wa: Record<string, number> = {};
      for (const floatTable of [false, true]) {
        const w = makeWorkload(spec, { logicalBlocks: U, seed: 5 });
        const r = await runGcSession({ phases: [{ workload: w, writes: 4 * U }, { workload: w, writes: 8 * U }], pinMode: "recommendation", floatTable, adapter: { logicalBlocks: U, epochWrites: 0 } });
        wa[floatTable ? "float" : "u32"] = r.phases[1]!.writeAmplification;
      }
      const ml = simulate({ policy: policyFactory("ml"), workload: makeWorkload(spec, { logicalBlocks: U, seed: 5 }), spareFactor: 0.1, blocksPerSegment: 32 }).writeAmplification;
      const g = simulate({ policy: greedy, workload: makeWorkload(spec, { logicalBlocks: U, seed: 5 }), spareFactor: 0.1, blocksPerSegment: 32 }).writeAmplification;
      assert.ok(Math.abs(wa.u32! / wa.float! - 1) < 0.01, `${spec}: u32 ${wa.u32} vs float ${wa.float}`);
      assert.ok(Math.abs(wa.u32! / ml - 1) < 0.03, `${spec}: proxied ${wa.u32} vs in-process ml ${ml}`);
      assert.ok(wa.u32! < 0.8 * g, `${spec}: proxied ${wa.u32} vs greedy ${g}`);
    }
  });
});

describe("recommended victims", () => {
  test("bounds-checked before anything is written, used first in recommendation mode, stale ones dropped", async () => {
    const { a } = await running();
    const k = a.kernel;
    await a.deployModel(1, encodeTable(new LifetimeTrainer(4096).quantize(0), 4096));
    await a.setMode("recommendation");
    a.runHost(4 * 4096);
    const top = recommendVictims(a.segmentState());
    assert.equal(top.length, 8);
    for (const s of top) assert.equal(k.store.segState[s], SegState.Sealed);
    const vals = (v: number[]) => Object.fromEntries(a.recommendationSchema.fields.map((f, i) => [f.name, v[i] ?? -1]));
    const seg = k.segments;
    await assert.rejects(a.applyRecommendation({ modelVersion: 2, values: vals([seg]) }), (e: unknown) => isKmlibError(e, ErrorCode.OutOfBounds) && /victim_0/.test((e as Error).message));
    await assert.rejects(a.applyRecommendation({ modelVersion: 2, values: { ...vals([]), victim_0: 1.5 } }), (e: unknown) => isKmlibError(e, ErrorCode.InvalidArgument));
    assert.equal(k.policy.pendingRecommendations, 0, "nothing queued by a refused recommendation");
    assert.equal((await a.systemState()).modelVersion, 1);
    // One free (invalid) segment first, then the real victims.
    let free = 0;
    while (k.store.segState[free] !== SegState.Free) free++;
    await a.applyRecommendation({ modelVersion: 2, values: vals([free, ...top.slice(0, 7)]) });
    assert.equal((await a.systemState()).modelVersion, 2, "the recommendation's model version");
    const before = { ...k.policy.stats };
    a.driveDecisions(3);
    assert.equal(k.policy.stats.staleRecommendations - before.staleRecommendations, 1, "the free segment was dropped");
    assert.equal(k.policy.stats.recommended - before.recommended, 3);
    assert.equal(k.policy.pendingRecommendations, 4);
  });
});

describe("datasets, feedback, copies", () => {
  test("history is a memory stream extracted in portions with the RFC's states; the ring bounds what is left", async () => {
    const { a } = await running({ historyCapacity: 8192 });
    const h = a.kernel.history;
    assert.equal(h.tracker.state, "clean");
    const first = await a.getDataset({ portion: { offset: 0, size: 100 } });
    assert.equal(first.rows.length, 100);
    assert.deepEqual(first.dataset.columns, ["time", "prev_cell", "cell"]);
    assert.equal(first.dataset.state, "extracted partially");
    assert.ok(first.rows.every((r) => r.features[1] === -1), "the fill: first writes");
    assert.deepEqual(await a.pollDatasets(), [], "polls start after the initial fill");
    const all = await a.getDataset();
    assert.deepEqual(all.portion, { offset: 0, size: 4096 });
    assert.equal(h.tracker.state, "extracted completely");
    a.runHost(100);
    assert.equal(h.tracker.state, "extracted partially", "more published");
    const polled = await a.pollDatasets();
    assert.deepEqual(polled.map((p) => p.portion), [{ offset: 4096, size: 100 }]);
    assert.equal(h.tracker.state, "extracted completely");
    a.runHost(10_000);
    await assert.rejects(a.getDataset({ portion: { offset: 0, size: 10 } }), (e: unknown) => isKmlibError(e, ErrorCode.OutOfBounds) && /overwritten/.test((e as Error).message));
    const cols = a.readHistory(h.end - 50);
    assert.equal(cols.length, 50);
    assert.ok(cols.time[49]! === a.kernel.store.now && cols.time[0]! < cols.time[49]!);
  });

  test("segment state is a structure prepared on request; a new snapshot makes the old one obsolete", async () => {
    const { a } = await running();
    const s1 = a.segmentState();
    assert.equal(s1.length, a.kernel.store.sealedCount);
    assert.equal(s1.tracker.state, "extracted completely");
    const p = await a.getDataset({ type: "structure", portion: { offset: 0, size: 5 } });
    assert.equal(s1.tracker.state, "obsolete");
    assert.equal(p.dataset.type, "structure");
    assert.equal(p.dataset.state, "extracted partially");
    assert.deepEqual(p.dataset.columns, ["segment", "valid", "rate_sum_q40", "quiet"]);
    for (const r of p.rows) assert.equal(r.features[1], a.kernel.store.segValid[r.features[0]!]);
    await assert.rejects(a.getDataset({ type: "value" }), (e: unknown) => isKmlibError(e, ErrorCode.NotFound));
  });

  test("collaboration: feedback for every decision, the model within its budget and under the default's veto", async () => {
    const { a } = await running({ budgetLimit: 10, budgetWindow: 40, confidenceThreshold: 0 });
    await a.deployModel(7, encodeTable(new LifetimeTrainer(4096).quantize(0), 4096));
    await a.setMode("collaboration");
    a.driveDecisions(400);
    const fb = await a.backPropagate();
    assert.equal(fb.length, 400);
    const byModel = fb.filter((r) => r.source === "model").length;
    assert.ok(byModel > 0 && byModel <= 100, `${byModel} model decisions within 10 per 40`);
    for (const r of fb) {
      assert.equal(r.modelVersion, 7);
      assert.equal(r.mode, "collaboration");
      const [dValid, mValid, b] = r.features!;
      if (r.source === "model") assert.ok(mValid! <= 1.5 * dValid! + 2 && mValid! < b!, "no vetoed victim was taken");
    }
    const c = await a.estimateEfficiency();
    assert.equal(c.collaboration.model.decided, byModel);
    assert.equal(c.collaboration.default.decided, 400 - byModel);
  });

  test("a copy of the device under the same policy and writes does exactly what the original does", () => {
    const w = makeWorkload("zipf-1.0", { logicalBlocks: 4096, seed: 3 });
    const s = new LogStore({ logicalBlocks: 4096, blocksPerSegment: 32, spareFactor: 0.1 }, greedy());
    const buf = new Int32Array(3 * 4096);
    w.next(buf, buf.length);
    s.writeBatch(buf, buf.length);
    const c = s.clone(greedy());
    w.next(buf, buf.length);
    s.writeBatch(buf, buf.length);
    c.writeBatch(buf, buf.length);
    assert.deepEqual(c.counters, s.counters);
    assert.deepEqual(c.l2p, s.l2p);
    c.checkInvariants();
    assert.throws(() => s.clone({ ...greedy(), logs: 2 }), (e: unknown) => isKmlibError(e, ErrorCode.InvalidArgument));
  });

  test("the shadow device: forked once per role and kept from collaboration to recommendation; the default's copy fills the model's open logs", async () => {
    const { a } = await running({ epochWrites: 4096, workload: "hotcold-90-10" });
    const k = a.kernel;
    const t = new LifetimeTrainer(4096);
    a.runHost(2 * 4096);
    t.ingest(a.readHistory(0));
    await a.deployModel(1, encodeTable(t.quantize(k.store.now), 4096));
    const open = (s: LogStore) => s.segState.reduce((n, st) => n + (st === SegState.Open ? 1 : 0), 0);
    // The model places into its lifetime logs; emergency keeps no shadow.
    await a.setMode("recommendation");
    a.runHost(2 * 4096);
    await a.setMode("emergency");
    a.runHost(5);
    assert.equal(k.shadow, undefined);
    // A few writes in, the real device is still filling the model's logs (see the next test).
    const stranded = open(k.store);
    assert.ok(stranded > 1 && k.policy.drainingLogs > 0, `${stranded} open segments on the real device`);
    await a.setMode("collaboration");
    a.runHost(10);
    const fork = k.shadow!;
    assert.equal(fork.role, "default");
    assert.ok(open(fork.store) > 1, "forked with the open segments of the model's logs");
    a.runHost(2 * 4096);
    assert.equal(k.shadow!.store, fork.store, "one shadow across epochs");
    // At most the default's one log is open (none between a segment sealing and the next write).
    assert.ok(open(fork.store) <= 1, "the default's copy filled the model's logs and writes one log");
    fork.store.checkInvariants();
    const evaluated = k.epochs.length;
    await a.setMode("recommendation");
    a.runHost(2 * 4096);
    assert.equal(k.shadow!.store, fork.store, "collaboration -> recommendation keeps the default's shadow");
    assert.ok(k.epochs.length > evaluated && k.epochs.at(-1)!.mode === "recommendation");
    await a.setMode("learning");
    a.runHost(10);
    assert.equal(k.shadow!.role, "model");
    assert.notEqual(k.shadow!.store, fork.store, "a new role forks a new shadow");
  });

  for (const demoted of ["learning", "emergency"] as const) {
    test(`demoted to ${demoted}: the default's writes fill the open segments of the model's logs on the real device`, async () => {
      const U = 4096;
      const { a } = await running({ epochWrites: U, workload: "hotcold-90-10" });
      const k = a.kernel;
      const t = new LifetimeTrainer(U);
      a.runHost(2 * U);
      t.ingest(a.readHistory(0));
      await a.deployModel(1, encodeTable(t.quantize(k.store.now), U));
      await a.setMode("recommendation");
      a.runHost(2 * U);
      const s = k.store;
      const openAt = [...s.segState.keys()].filter((seg) => s.segState[seg] === SegState.Open);
      const erased = s.segEraseCount.slice();
      assert.ok(openAt.length > k.policy.fallback.logs + 1, `the model's lifetime logs hold ${openAt.length} open segments`);
      await a.setMode(demoted);
      // One device's worth of writes: a segment open since the demotion and never erased was
      // never sealed, so its free space was never written nor reclaimed.
      a.runHost(U);
      const stuck = openAt.filter((seg) => s.segState[seg] === SegState.Open && s.segEraseCount[seg] === erased[seg]);
      assert.deepEqual(stuck, [], `segments open since the demotion (${openAt.length} were open)`);
      assert.equal(k.policy.drainingLogs, 0);
      // At most the default's logs are open now (the model's shadow in learning keeps its own).
      const nowOpen = s.segState.reduce((n, st) => n + (st === SegState.Open ? 1 : 0), 0);
      assert.ok(nowOpen <= k.policy.fallback.logs, `${nowOpen} open segments`);
      s.checkInvariants();
      if (demoted === "learning") assert.equal(k.shadow?.role, "model");
    });
  }

  test("the agent stops its heartbeat: the kernel side falls back to the default on its own, the open epoch is dropped", async () => {
    const U = 8192;
    const r = await runGcSession({
      phases: [{ workload: makeWorkload("hotcold-90-10", { logicalBlocks: U, seed: 1 }), writes: 12 * U }],
      adapter: { logicalBlocks: U, epochWrites: U, heartbeatTimeoutMs: 200 },
      heartbeatStopsAtTick: 60,
    });
    // 16 ticks of 10 ms per epoch: the timeout passes 20 ticks after the last heartbeat.
    assert.ok(r.decided.emergency.default > 0, "the default decided in emergency");
    assert.equal(r.decided.emergency.model, 0);
    assert.equal(r.transitions.at(-1)?.reason, "heartbeat-lost");
    assert.ok(r.droppedEpochs >= 1, "the epoch the mode changed under was dropped");
    assert.ok(r.epochs.every((e) => e.at <= (61 + 20) * (U / 16) + U), "no epoch evaluated in emergency");
  });
});
