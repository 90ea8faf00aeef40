/**
 * Lifetime logs in use: a class too small to pay for its open segment is merged into the
 * nearest class in use, a log that fell out of use is drained, and the per-log fill the rule
 * counts matches the store's open segments.
 */
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { LogUsage, USAGE_SEGMENTS } from "../../src/subsystems/lfs-gc/policies/lifetime.ts";
import { MlLifetimePolicy } from "../../src/subsystems/lfs-gc/policies/ml-lifetime.ts";
import type { GcView } from "../../src/subsystems/lfs-gc/policy.ts";
import { SegState } from "../../src/subsystems/lfs-gc/policy.ts";
import { LogStore } from "../../src/subsystems/lfs-gc/store.ts";
import { UniformWorkload } from "../../src/subsystems/lfs-gc/workload.ts";

// 100 spare blocks, 10 per segment: a class needs USAGE_SEGMENTS · 10 / 100 of the writes.
const U = 1000;
const B = 10;
const view = { segments: 110, blocksPerSegment: B, logicalBlocks: U } as unknown as GcView;
const threshold = (USAGE_SEGMENTS * B) / 100;

describe("lifetime logs in use", () => {
  test("a class under the share threshold goes to the nearest class in use; the busiest always stays", () => {
    const usage = new LogUsage(6);
    usage.attach(view);
    // Shares: class 1 most, class 4 well over the threshold, class 2 and 5 under it.
    const small = Math.floor((threshold / 2) * U);
    const plan = [0, U - 2 * small - Math.ceil(threshold * 2 * U), small, 0, Math.ceil(threshold * 2 * U), small];
    for (let c = 0; c < 6; c++) for (let k = 0; k < plan[c]!; k++) usage.log(c);
    assert.deepEqual([...usage.map], [1, 1, 1, 4, 4, 4]);
    // Before the first device's worth of writes every class had its own log.
    const fresh = new LogUsage(6);
    fresh.attach(view);
    assert.equal(fresh.log(5), 5);
  });

  test("a log that fell out of use is filled by its nearest class's writes until its segment seals", () => {
    const usage = new LogUsage(3);
    usage.attach(view);
    for (let k = 0; k < 3; k++) usage.log(2); // log 2: 3 of 10 blocks open
    for (let k = 3; k < U; k++) usage.log(0); // class 2 falls out of use at the epoch
    assert.equal(usage.map[2], 0);
    assert.equal(usage.fill[2], 4); // the write that closed the epoch went to log 2 first
    const to: number[] = [];
    for (let k = 0; k < 8; k++) to.push(usage.log(0));
    assert.deepEqual(to, [2, 2, 2, 2, 2, 2, 0, 0]);
    assert.equal(usage.fill[2], 0);
  });

  test("under uniform writes the learned policy keeps one open segment, and its fill counts match the store", () => {
    const u = 1 << 14;
    const policy = new MlLifetimePolicy(u);
    const store = new LogStore({ logicalBlocks: u, blocksPerSegment: 64, spareFactor: 0.1 }, policy);
    const w = new UniformWorkload(u, 1);
    store.writeBatch(Int32Array.from({ length: u }, (_, i) => i), u);
    const buf = new Int32Array(u);
    for (let r = 0; r < 6; r++) {
      w.next(buf, u);
      store.writeBatch(buf, u);
    }
    let partial = 0;
    for (let s = 0; s < store.segments; s++) if (store.segState[s] === SegState.Open && store.segWritten[s]! > 0 && store.segWritten[s]! < 64) partial++;
    const usage = (policy as unknown as { usage: LogUsage }).usage;
    assert.equal(partial, usage.fill.filter((f) => f > 0).length);
    // Six lifetime logs each held a segment open before; memoryless writes need one.
    assert.ok(partial <= 1, `${partial} partly filled open segments`);
  });
});
