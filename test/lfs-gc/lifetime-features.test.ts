/**
 * The lifetime table's features: the composite cell's layout round-trips, the long-term and
 * region buckets rise with activity, a region's bucket is read without counting a write.
 */
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import {
  COUNT_BUCKETS, INTERVAL_BUCKETS, LIFETIME_CELLS, LONG_BUCKETS, LONG_DECAY, RECENT_CELLS, REGION_BUCKETS, REGIONS, RegionActivity, composeCell, decayedActivity,
  intervalBucketOf, longBucket, regionShift, withRegion,
} from "../../src/subsystems/lfs-gc/policies/lifetime-features.ts";

describe("lifetime features", () => {
  test("composite cells cover the table once; withRegion changes only the region part", () => {
    const seen = new Set<number>();
    for (let r = 0; r < REGION_BUCKETS; r++) {
      for (let l = 0; l < LONG_BUCKETS; l++) {
        for (let ib = 0; ib < INTERVAL_BUCKETS; ib++) {
          for (let ab = 0; ab < COUNT_BUCKETS; ab++) {
            const c = composeCell(r, l, ib * COUNT_BUCKETS + ab);
            seen.add(c);
            assert.equal(intervalBucketOf(c), ib);
            const moved = withRegion(c, (r + 1) % REGION_BUCKETS);
            assert.equal(moved, composeCell((r + 1) % REGION_BUCKETS, l, ib * COUNT_BUCKETS + ab));
          }
        }
      }
    }
    assert.equal(seen.size, LIFETIME_CELLS);
    assert.equal(Math.min(...seen), 0);
    assert.equal(Math.max(...seen), LIFETIME_CELLS - 1);
    assert.equal(LIFETIME_CELLS, REGION_BUCKETS * LONG_BUCKETS * RECENT_CELLS);
  });

  test("the long bucket climbs one octave of rate per bucket and stays low for a once-written block", () => {
    const u = 4096;
    const steady = (perU: number) => {
      let a = 0;
      for (let i = 0; i < 400; i++) a = decayedActivity(a, i === 0 ? -1 : Math.round(u / perU), u, LONG_DECAY);
      return longBucket(a);
    };
    assert.equal(longBucket(decayedActivity(0, -1, u, LONG_DECAY)), 0);
    const buckets = [0.125, 0.5, 1.5, 3, 6, 64].map(steady);
    for (let k = 1; k < buckets.length; k++) assert.ok(buckets[k]! >= buckets[k - 1]!, `monotone: ${buckets.join(", ")}`);
    assert.equal(buckets[0], 0);
    assert.equal(buckets.at(-1), LONG_BUCKETS - 1);
  });

  test("a region written far more than average reaches the top bucket; peek counts nothing and the count decays", () => {
    const u = 1 << 16;
    const r = new RegionActivity(u);
    assert.ok(u >> regionShift(u) <= REGIONS);
    let now = 0, hot = 0;
    // 90% of writes into region 0, the rest spread: region 0 is ~58 times the average.
    for (let i = 0; i < u; i++) {
      now++;
      const lba = i % 10 === 0 ? (i * 7919) % u : i % (u >> r.shift);
      const b = r.write(lba, now);
      if (lba >> r.shift === 0) hot = b;
    }
    assert.equal(hot, REGION_BUCKETS - 1);
    const farLba = u - 1;
    assert.ok(r.peek(farLba, now) < REGION_BUCKETS - 1, "a cold region stays below the top");
    const before = r.count[0]!;
    assert.equal(r.peek(0, now), REGION_BUCKETS - 1);
    assert.equal(r.count[0], before, "peek leaves the count alone");
    // Quiet for 1 device's worth of writes = 10 region time constants: the region cools.
    assert.equal(r.peek(0, now + u), 0);
  });
});
