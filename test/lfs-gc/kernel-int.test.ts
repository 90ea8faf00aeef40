import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { Rng } from "../../src/ml/rng.ts";
import { bitLength, isqrt, mulShr, udiv } from "../../src/subsystems/lfs-gc/kernel-int/arith.ts";
import {
  ACT_ONE, ACT_THRESHOLDS, FeatureConfig, IntRegionActivity, LONG_THRESHOLDS_Q16, REGION_ONE, decayActivityQ16, decayFactorQ31, longBucketQ, recentCellQ,
} from "../../src/subsystems/lfs-gc/kernel-int/features.ts";
import { HORIZON_CAP, RATE_ONE, confidenceQ16, lifeClassQ, rateQ40, segmentScore } from "../../src/subsystems/lfs-gc/kernel-int/score.ts";
import { SegmentLedger, lifeScore, lifetimeClass, remainingFromRates } from "../../src/subsystems/lfs-gc/policies/lifetime.ts";
import { LONG_DECAY, RegionActivity, decayedActivity, longBucket, recentCell } from "../../src/subsystems/lfs-gc/policies/ml-lifetime.ts";

describe("kernel-int arithmetic", () => {
  test("udiv, mulShr, isqrt and bitLength are exact (checked in BigInt)", () => {
    const rng = new Rng(7);
    for (let i = 0; i < 20000; i++) {
      const a = Math.floor(rng.next() * 2 ** 53), b = 1 + Math.floor(rng.next() * 2 ** Math.floor(1 + rng.next() * 52));
      assert.equal(BigInt(udiv(a, b)), BigInt(a) / BigInt(b), `udiv ${a} ${b}`);
      const x = Math.floor(rng.next() * 2 ** 33), y = Math.floor(rng.next() * 2 ** 32), s = 16 + Math.floor(rng.next() * 33);
      assert.equal(BigInt(mulShr(x, y, s)), (BigInt(x) * BigInt(y)) >> BigInt(s), `mulShr ${x} ${y} ${s}`);
      const q = Math.floor(rng.next() * 2 ** 52);
      const r = BigInt(isqrt(q));
      assert.ok(r * r <= BigInt(q) && (r + 1n) * (r + 1n) > BigInt(q), `isqrt ${q}`);
      assert.equal(bitLength(a), a.toString(2).replace(/^0+/, "").length);
      // Just below and at perfect squares, where a rounded root could step over.
      const k = 1 + Math.floor(rng.next() * (2 ** 26 - 1));
      assert.equal(isqrt(k * k - 1), k - 1, `isqrt(${k}² - 1)`);
      assert.equal(isqrt(k * k), k, `isqrt(${k}²)`);
    }
  });
});

describe("kernel-int features", () => {
  test("the decay factor is exp(-interval/τ) within 3e-8", () => {
    for (const u of [1000, 4096, 65536, 2 ** 26, 2 ** 29, 2 ** 32]) {
      let worst = 0;
      for (let i = 1; i < 32 * u; i = Math.ceil(i * 1.013) + 1) worst = Math.max(worst, Math.abs(decayFactorQ31(i, u) / 2 ** 31 - Math.exp(-i / u)));
      assert.ok(worst < 3e-8, `u=${u}: worst ${worst}`);
    }
  });

  test("cells equal recentCell on a sweep of (interval, activity) save counted boundary ties", (t) => {
    let cells = 0, ties = 0, offEdge = 0;
    for (const u of [1000, 4096, 65536, 1 << 20, 2 ** 26]) {
      const cfg = new FeatureConfig(u);
      const intervals = new Set<number>([0, 1, 2, 3, 2 ** 32 - 1]);
      for (let i = 1; i < 2 ** 32; i = Math.ceil(i * 1.02) + 1) intervals.add(i);
      for (const t of cfg.intervalThresholds) for (const d of [-2, -1, 0, 1, 2]) if (t + d > 0 && t + d < 2 ** 32) intervals.add(t + d);
      const acts = new Set<number>([ACT_ONE, 2 ** 32 - 1]);
      for (let a = ACT_ONE; a < 2 ** 32; a = Math.ceil(a * 1.05)) acts.add(a);
      for (const t of ACT_THRESHOLDS) for (const d of [-2, -1, 0, 1, 2]) acts.add(t + d);
      for (const iv of intervals) {
        for (const a of acts) {
          cells++;
          if (recentCellQ(iv, a, cfg) === recentCell(iv === 0 ? -1 : iv, a / ACT_ONE, u)) continue;
          ties++;
          const nearI = cfg.intervalThresholds.some((t) => Math.abs(iv - t) <= 1);
          const nearA = ACT_THRESHOLDS.some((t) => Math.abs(a - t) <= 1);
          if (!nearI && !nearA) offEdge++;
        }
      }
    }
    t.diagnostic(`${cells} (interval, activity) pairs over 5 device sizes: ${ties} differ from the float cell, all within 1 of a bucket edge`);
    assert.equal(offEdge, 0, "every difference sits on a bucket edge");
    assert.ok(cells > 500_000, `${cells} cells swept`);
    assert.ok(ties / cells < 1e-3, `${ties} ties in ${cells}`);
  });

  test("decayed Q16 activity follows the float (Float32-stored) one within 1e-4 along random write histories", (t) => {
    const rng = new Rng(3);
    let writes = 0, cellDiffs = 0;
    for (const u of [4096, 65536]) {
      const cfg = new FeatureConfig(u);
      let worst = 0;
      for (let block = 0; block < 200; block++) {
        const mean = u * 2 ** (-10 + rng.next() * 13);
        let q = 0;
        const f = new Float32Array(1);
        for (let w = 0; w < 300; w++) {
          const iv = w === 0 ? -1 : 1 + Math.floor(-Math.log(1 - rng.next()) * mean);
          q = decayActivityQ16(q, iv === -1 ? 0 : iv, u);
          f[0] = decayedActivity(f[0]!, iv, u);
          worst = Math.max(worst, Math.abs(q / ACT_ONE - f[0]!) / f[0]!);
          writes++;
          if (recentCellQ(iv === -1 ? 0 : iv, q, cfg) !== recentCell(iv, f[0]!, u)) cellDiffs++;
        }
      }
      assert.ok(worst < 1e-4, `u=${u}: worst relative error ${worst}`);
    }
    // Where the two activities straddle a bucket edge the cells differ: rare, and only there.
    t.diagnostic(`${writes} writes: ${cellDiffs} cells differ between the Q16 and the Float32 activity chain`);
    assert.ok(cellDiffs / writes < 1e-3, `${cellDiffs} of ${writes}`);
  });

  test("long activity and region counts follow their float twins; their buckets differ only at edges", (t) => {
    const rng = new Rng(4);
    let writes = 0, longDiffs = 0, regionDiffs = 0, peeks = 0, worstLong = 0, worstRegion = 0;
    for (const u of [4096, 65536, 1 << 18]) {
      const cfg = new FeatureConfig(u);
      const ri = new IntRegionActivity(cfg), rf = new RegionActivity(u);
      // A few hot blocks and a hot region that moves: every bucket is visited.
      const hot = Array.from({ length: 8 }, () => Math.floor(rng.next() * u));
      const last = new Float64Array(u).fill(-1), lq = new Uint32Array(u), lf = new Float32Array(u);
      for (let now = 1; now <= 8 * u; now++) {
        const phase = Math.floor(now / (2 * u));
        const lba = rng.next() < 0.3 ? hot[Math.floor(rng.next() * hot.length)]! : rng.next() < 0.5 ? (phase * 977 + Math.floor(rng.next() * (u >> 5))) % u : Math.floor(rng.next() * u);
        const iv = last[lba]! < 0 ? -1 : now - last[lba]!;
        last[lba] = now;
        lq[lba] = decayActivityQ16(lq[lba]!, iv === -1 ? 0 : iv, cfg.longTau);
        lf[lba] = decayedActivity(lf[lba]!, iv, u, LONG_DECAY);
        // Past 65536 writes the Q16 long activity saturates (its buckets stop at 32).
        if (lf[lba]! < 60000) worstLong = Math.max(worstLong, Math.abs(lq[lba]! / ACT_ONE - lf[lba]!) / lf[lba]!);
        if (longBucketQ(lq[lba]!) !== longBucket(lf[lba]!)) longDiffs++;
        if (ri.write(lba, now) !== rf.write(lba, now)) regionDiffs++;
        const r = lba >> cfg.regionShift;
        // Q8 counts: each decay floors by < 1/256 of a write, so a count of N writes kept over
        // its τ is at most ~N/256 low: relative error below 2^-8.
        worstRegion = Math.max(worstRegion, Math.abs(ri.count[r]! / REGION_ONE - rf.count[r]!) / rf.count[r]!);
        writes++;
        if (now % 97 === 0) {
          const q = Math.floor(rng.next() * u), later = now + Math.floor(rng.next() * u);
          if (ri.peek(q, later) !== rf.peek(q, later)) regionDiffs++;
          peeks++;
        }
      }
    }
    t.diagnostic(`${writes} writes, ${peeks} peeks: long buckets differ ${longDiffs}, region buckets ${regionDiffs}; worst relative error long ${worstLong.toExponential(1)}, region ${worstRegion.toExponential(1)}`);
    assert.ok(worstLong < 5e-4 && worstRegion < 2 ** -8, "fixed point follows float");
    assert.ok(longDiffs / writes < 1e-3 && regionDiffs / writes < 1e-3, `${longDiffs}, ${regionDiffs} of ${writes}`);
  });

  test("long buckets are exact at their thresholds (powers of two writes)", () => {
    for (let k = 0; k < LONG_THRESHOLDS_Q16.length; k++) {
      const t = LONG_THRESHOLDS_Q16[k]!;
      assert.equal(longBucketQ(t), k + 1);
      assert.equal(longBucketQ(t - 1), k);
      assert.equal(longBucket(t / ACT_ONE), k + 1);
    }
  });

  test("activity saturates at 2^32 - 1 (act < 65536) instead of wrapping", () => {
    let q = 0;
    for (let i = 0; i < 200_000; i++) q = decayActivityQ16(q, 1, 1 << 20);
    assert.equal(q, 2 ** 32 - 1);
  });
});

/** A random segment as the ledger holds it: v valid blocks with lives drawn log-uniform. */
function randomSegment(rng: Rng, u: number, b: number) {
  const v = 1 + Math.floor(rng.next() * (b - 1));
  const hot = rng.next() < 0.5;
  let s = 0;
  for (let i = 0; i < v; i++) s += rateQ40(Math.round(2 ** ((hot ? 3 : 10) + rng.next() * 12) * (u / 4096)), u);
  const quiet = Math.floor(2 ** (rng.next() * 22));
  return { v, s, quiet };
}
const floatScore = (v: number, b: number, s: number, quiet: number) => lifeScore(v, b, remainingFromRates(v, s / RATE_ONE, quiet));

describe("kernel-int victim score", () => {
  test("rates are floor(2^40 / life), clamped as SegmentLedger.setLife clamps", () => {
    const u = 4096;
    const ref = new SegmentLedger(u, "rate");
    for (const life of [0, 1, 2, 3, 1000, 12345, HORIZON_CAP * u - 1, HORIZON_CAP * u, HORIZON_CAP * u + 7, 2 ** 40]) {
      ref.setLife(0, life);
      assert.equal(rateQ40(life, u), Math.floor(ref.value[0]! * RATE_ONE + 1e-6), `life ${life}`);
    }
  });

  test("integer scores track (1-u)√R/(1+u) x 2^32 within 1e-6, staleness included", (t) => {
    const rng = new Rng(11);
    let stale = 0, worst = 0;
    for (let i = 0; i < 50_000; i++) {
      const b = [32, 64, 512, 4096][i % 4]!;
      const { v, s, quiet } = randomSegment(rng, 1 << 16, b);
      const f = floatScore(v, b, s, quiet) * 2 ** 32;
      const q = segmentScore(v, b, s, quiet);
      if (remainingFromRates(v, s / RATE_ONE, quiet) !== v / Math.max(s / RATE_ONE, 1e-300)) stale++;
      assert.ok(Number.isSafeInteger(q) && q < 2 ** 53, `score ${q} is a safe integer`);
      assert.ok(Math.abs(q - f) <= 1e-6 * f + 1, `v=${v} b=${b} s=${s} quiet=${quiet}: ${q} vs ${f}`);
      if (f > 0) worst = Math.max(worst, Math.abs(q - f) / f);
    }
    t.diagnostic(`worst relative score error ${worst.toExponential(2)} over 50000 states (${stale} stale)`);
    assert.ok(stale > 1000, `stale branch exercised (${stale})`);
  });

  test("victim choice agrees with the float rule on random segment states", (t) => {
    const rng = new Rng(5);
    const N = 4000, b = 64;
    let agree = 0, nearTie = 0;
    for (let d = 0; d < N; d++) {
      const segs = Array.from({ length: 8 + Math.floor(rng.next() * 120) }, () => randomSegment(rng, 1 << 16, b));
      let bi = -1, bf = -1, si = -1, sf = -1;
      segs.forEach((g, k) => {
        const q = segmentScore(g.v, b, g.s, g.quiet), f = floatScore(g.v, b, g.s, g.quiet);
        if (q > si) [si, bi] = [q, k];
        if (f > sf) [sf, bf] = [f, k];
      });
      if (bi === bf) agree++;
      else {
        const fi = floatScore(segs[bi]!.v, b, segs[bi]!.s, segs[bi]!.quiet);
        if (Math.abs(fi - sf) <= 1e-6 * sf) nearTie++;
      }
    }
    t.diagnostic(`victim choice: ${agree}/${N} decisions agree, ${nearTie} differ only between scores within 1e-6 of each other`);
    assert.equal(agree + nearTie, N, "every disagreement is a tie within the quantisation");
    assert.ok(agree / N >= 0.999, `agreement ${agree}/${N}`);
  });

  test("confidence in Q16 matches 1 - sd/sm", () => {
    const rng = new Rng(9);
    for (let i = 0; i < 10000; i++) {
      const sm = Math.floor(rng.next() * 2 ** 52), sd = Math.floor(rng.next() * 2 ** 52);
      const want = sm <= 0 ? 0 : Math.max(0, Math.min(1, 1 - sd / sm));
      assert.ok(Math.abs(confidenceQ16(sm, sd) / 2 ** 16 - want) <= 2 ** -15, `${sm} ${sd}`);
    }
  });

  test("log classes equal lifetimeClass exactly", () => {
    for (const u of [1000, 4096, 65536]) {
      for (const logs of [1, 2, 6, 8]) {
        for (let life = 1; life < 2 ** 34; life = Math.ceil(life * 1.01) + 1) {
          for (const l of [life - 1, life, life + 1]) assert.equal(lifeClassQ(l, u, logs), lifetimeClass(l, u, logs), `life ${l} u ${u} logs ${logs}`);
        }
        for (let j = 0; j < logs; j++) {
          const edge = (u * 4 ** j) / 32;
          for (const l of [Math.floor(edge) - 1, Math.floor(edge), Math.ceil(edge), Math.ceil(edge) + 1]) assert.equal(lifeClassQ(l, u, logs), lifetimeClass(l, u, logs));
        }
      }
    }
  });
});
