/**
 * The learned policy against the hand-written ones and the oracle, at a size that runs in
 * seconds (2^14 blocks, 64 per segment, spare 0.1), plus its model and bookkeeping.
 */
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { ErrorCode, isKmlibError } from "../../src/errors.ts";
import { runMatrix, summarize } from "../../src/subsystems/lfs-gc/bench-matrix.ts";
import { lifetimeClass, SegmentLedger } from "../../src/subsystems/lfs-gc/policies/lifetime.ts";
import { LifetimeModel, MlLifetimePolicy } from "../../src/subsystems/lfs-gc/policies/ml-lifetime.ts";
import { oracle } from "../../src/subsystems/lfs-gc/policies/oracle.ts";
import { policyNames } from "../../src/subsystems/lfs-gc/registry.ts";
import { LogStore } from "../../src/subsystems/lfs-gc/store.ts";
import { ZipfWorkload } from "../../src/subsystems/lfs-gc/workload.ts";

describe("write amplification targets", () => {
  const results = runMatrix({
    policies: policyNames,
    workloads: ["uniform", "hotcold-90-10", "zipf-1.0"],
    spareFactor: 0.1,
    blocksPerSegment: 64,
    logicalBlocks: 1 << 14,
    warmupFactor: 4,
    measureFactor: 8,
    seed: 3,
  });
  const summary = new Map(summarize(results).map((s) => [s.workload, s]));

  test("on uniform writes the learned policy is never more than 2% worse than greedy (at the bench's 2^16 blocks)", () => {
    // Each of ml's lifetime logs keeps an open segment, half empty on average, inside the data
    // area (store.ts): ~3 segments for 6 logs. That is 2.6% of the spare segments at 2^16
    // blocks of 64 (ml/greedy 1.016 there) but 10% at this file's 2^14 (ml/greedy ~1.07),
    // where the proxy's controller keeps the model in learning (test/lfs-gc/proxy-*.test.ts).
    const big = summarize(
      runMatrix({ policies: ["greedy", "ml"], workloads: ["uniform"], spareFactor: 0.1, blocksPerSegment: 64, logicalBlocks: 1 << 16, warmupFactor: 4, measureFactor: 8, seed: 3 }),
    )[0]!;
    assert.ok(big.mlVsGreedy! <= 1.02, `ml ${big.mlWa} vs greedy ${big.greedyWa}`);
    const small = summary.get("uniform")!;
    assert.ok(small.mlVsGreedy! > big.mlVsGreedy!, `the open logs cost more on a smaller device: ${small.mlVsGreedy} at 2^14, ${big.mlVsGreedy} at 2^16`);
  });

  for (const w of ["hotcold-90-10", "zipf-1.0"]) {
    test(`on ${w} the learned policy beats the best classical policy by 10% or more`, () => {
      const s = summary.get(w)!;
      assert.ok(s.mlVsBestClassical! <= 0.9, `ml ${s.mlWa} vs ${s.bestClassical} ${s.bestClassicalWa}`);
    });
  }

  test("the oracle bounds everything", () => {
    for (const s of summary.values()) {
      const all = results.filter((r) => r.workload === s.workload);
      for (const r of all) assert.ok(s.oracleWa! <= r.writeAmplification, `${r.policy} ${r.writeAmplification} beats the oracle ${s.oracleWa} on ${s.workload}`);
    }
  });
});

describe("lifetime model", () => {
  test("learns overwrite rates from deaths over exposure, alive blocks included", () => {
    const u = 1000;
    const m = new LifetimeModel(u, { priorDeaths: 0, memory: 1 });
    const hot = m.cell(10, 8);
    const cold = m.cell(5000, 1);
    assert.notEqual(hot, cold);
    // Hot: 10 versions alive at any time, one overwritten (and rewritten) every 5 writes: each
    // lives 50 writes on average. Cold: 100 versions that never die.
    for (let i = 0; i < 10; i++) m.enter(hot, 0);
    for (let i = 0; i < 100; i++) m.enter(cold, 0);
    let t = 0;
    for (; t < 20 * u; t += 5) {
      m.die(hot, t, 50);
      m.enter(hot, t);
    }
    const hotRate = m.rate(hot, t);
    assert.ok(Math.abs(hotRate * 50 - 1) < 0.02, `hot rate ${hotRate}`);
    assert.equal(m.rate(cold, t), 0);
    const survivors = new LifetimeModel(u, { priorDeaths: 0, memory: 1e9 });
    const c = survivors.cell(-1, 1);
    // Ten versions: nine die at age 10, one lives on to 5·10^4 (inside the window of
    // first writes). A mean of observed lives would say 10; deaths over exposure says
    // 9 / (90 + 5·10^4).
    for (let i = 0; i < 10; i++) survivors.enter(c, 0);
    for (let i = 0; i < 9; i++) survivors.die(c, 10, 10);
    assert.ok(Math.abs(survivors.rate(c, 5e4) / (9 / (90 + 5e4)) - 1) < 1e-3);
  });

  test("members that cooled and sit alive leave the estimate after its window, so new hot members are seen as hot", () => {
    const u = 1000;
    const m = new LifetimeModel(u, { priorDeaths: 0, memory: 1 });
    const hot = m.cell(10, 8);
    // Phase 1: 10 versions cycling with lives of 50. Phase 2: those 10 stop being written
    // (alive forever), 10 new blocks in the same state cycle as fast.
    for (let i = 0; i < 10; i++) m.enter(hot, 0);
    let t = 5;
    for (; t < 5 * u; t += 5) {
      m.die(hot, t, 50);
      m.enter(hot, t);
    }
    for (let i = 0; i < 10; i++) m.enter(hot, t);
    for (t += 5; t < 10 * u; t += 5) {
      m.die(hot, t, 50);
      m.enter(hot, t);
    }
    const rate = m.rate(hot, t);
    // Counting the ten stale versions' exposure would halve the rate (1/100).
    assert.ok(Math.abs(rate * 50 - 1) < 0.1, `rate ${rate}, expected about 1/50`);
    assert.equal(m.alive[hot], 20);
  });

  test("lifetime classes: U/32 wide first class, 4x per class, capped", () => {
    const u = 3200;
    assert.equal(lifetimeClass(50, u, 6), 0);
    assert.equal(lifetimeClass(100, u, 6), 1);
    assert.equal(lifetimeClass(399, u, 6), 1);
    assert.equal(lifetimeClass(400, u, 6), 2);
    assert.equal(lifetimeClass(1e12, u, 6), 5);
    assert.equal(lifetimeClass(Infinity, u, 6), 5);
  });

  test("per-segment sums stay equal to the sums over the blocks each segment holds", () => {
    const u = 4096;
    const policy = new MlLifetimePolicy(u);
    const store = new LogStore({ logicalBlocks: u, blocksPerSegment: 32, spareFactor: 0.15 }, policy);
    const w = new ZipfWorkload(u, 1, 1);
    const buf = new Int32Array(u);
    store.writeBatch(Int32Array.from({ length: u }, (_, i) => i), u);
    for (let k = 0; k < 6; k++) {
      w.next(buf, u);
      store.writeBatch(buf, u);
    }
    const ledger = (policy as unknown as { ledger: SegmentLedger }).ledger;
    const sums = (ledger as unknown as { segSum: Float64Array }).segSum;
    for (let s = 0; s < store.segments; s++) {
      if (store.segValid[s] === 0) continue;
      let expect = 0;
      for (let off = 0; off < 32; off++) {
        const lba = store.p2l[s * 32 + off]!;
        if (lba >= 0) expect += ledger.value[lba]!;
      }
      assert.ok(Math.abs(sums[s]! - expect) <= 1e-9 * Math.max(1, expect), `segment ${s}: ${sums[s]} vs ${expect}`);
    }
  });

  test("the oracle refuses to run without the recorded future", () => {
    assert.throws(() => oracle(undefined, 100), (e) => isKmlibError(e, ErrorCode.InvalidArgument));
  });
});
