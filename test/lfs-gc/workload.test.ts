/** Workloads: reproducible, with the skew they claim; MQSim traces parsed as the format says. */
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { existsSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ErrorCode, isKmlibError } from "../../src/errors.ts";
import { makeWorkload } from "../../src/subsystems/lfs-gc/registry.ts";
import { TraceWorkload } from "../../src/subsystems/lfs-gc/trace.ts";
import { HotColdWorkload, PhasedWorkload, UniformWorkload, ZipfWorkload } from "../../src/subsystems/lfs-gc/workload.ts";
import type { Workload } from "../../src/subsystems/lfs-gc/workload.ts";

function draw(w: Workload, n: number): Int32Array {
  const out = new Int32Array(n);
  w.next(out, n);
  return out;
}

describe("synthetic workloads", () => {
  test("same seed, same stream; another seed, another stream; always in range", () => {
    for (const make of [(s: number) => new UniformWorkload(1000, s), (s: number) => new HotColdWorkload(1000, 0.8, 0.2, s), (s: number) => new ZipfWorkload(1000, 1, s), (s: number) => new PhasedWorkload(1000, 500, 0.9, 0.1, s)]) {
      const a = draw(make(4), 5000);
      assert.deepEqual(a, draw(make(4), 5000));
      assert.notDeepEqual(a, draw(make(5), 5000));
      assert.ok(a.every((x) => x >= 0 && x < 1000));
    }
  });

  test("hot/cold sends the stated share of writes to the stated share of data", () => {
    const n = 200_000;
    const a = draw(new HotColdWorkload(10_000, 0.9, 0.1, 1), n);
    const hot = a.filter((x) => x < 1000).length / n;
    assert.ok(Math.abs(hot - 0.9) < 0.005, `hot share ${hot}`);
    assert.equal(makeWorkload("hotcold-80-20", { logicalBlocks: 100, seed: 1 }).name, "hotcold-80-20");
  });

  test("zipf frequencies follow 1/k^s", () => {
    const u = 1000;
    const s = 1.0;
    const n = 400_000;
    const counts = new Map<number, number>();
    for (const x of draw(new ZipfWorkload(u, s, 2), n)) counts.set(x, (counts.get(x) ?? 0) + 1);
    const sorted = [...counts.values()].sort((a, b) => b - a);
    let h = 0;
    for (let k = 1; k <= u; k++) h += Math.pow(k, -s);
    // The most popular block gets 1/H of the writes; the tenth gets a tenth of that.
    assert.ok(Math.abs(sorted[0]! / n - 1 / h) < 0.01, `top share ${sorted[0]! / n} vs ${1 / h}`);
    assert.ok(Math.abs(sorted[9]! / sorted[0]! - 0.1) < 0.02);
  });

  test("phases move the hot set", () => {
    const u = 10_000;
    const w = new PhasedWorkload(u, 50_000, 0.9, 0.1, 3);
    const hottest = (a: Int32Array): Set<number> => {
      const c = new Map<number, number>();
      for (const x of a) c.set(x, (c.get(x) ?? 0) + 1);
      return new Set([...c.entries()].sort((p, q) => q[1] - p[1]).slice(0, 500).map((e) => e[0]));
    };
    const first = hottest(draw(w, 50_000));
    const second = hottest(draw(w, 50_000));
    const overlap = [...first].filter((x) => second.has(x)).length;
    assert.ok(overlap < 100, `hot sets overlap by ${overlap} of 500`);
  });

  test("unknown workloads and bad parameters are typed errors", () => {
    assert.throws(() => makeWorkload("bogus", { logicalBlocks: 10, seed: 1 }), (e) => isKmlibError(e, ErrorCode.NotFound));
    assert.throws(() => new HotColdWorkload(100, 1.2, 0.1), (e) => isKmlibError(e, ErrorCode.InvalidArgument));
    assert.throws(() => makeWorkload("trace", { logicalBlocks: 10, seed: 1 }), (e) => isKmlibError(e, ErrorCode.InvalidArgument));
  });
});

describe("MQSim trace replay", () => {
  test("writes become the 4 KiB blocks they touch, densely numbered; reads are dropped; the trace loops", () => {
    const dir = mkdtempSync(join(tmpdir(), "kmlib-trace-"));
    const path = join(dir, "t.trace");
    // sectors 0-7 = block 0; 8-23 = blocks 1,2; a read; sector 7 again (block 0); 4096+ = block 512.
    writeFileSync(path, ["100 0 0 8 0", "200 0 8 16 0", "300 0 64 8 1", "400 1 7 1 0", "500 0 4096 9 0", ""].join("\n"));
    const t = new TraceWorkload(path);
    assert.equal(t.name, "trace:t");
    assert.deepEqual(t.stats, { requests: 5, writeRequests: 4, blockWrites: 6, distinctBlocks: 5 });
    assert.equal(t.logicalBlocks, 5);
    // blocks 0 | 1 2 | 0 | 512 513 → dense ids 0 | 1 2 | 0 | 3 4, then again.
    assert.deepEqual([...draw(t, 8)], [0, 1, 2, 0, 3, 4, 0, 1]);
  });

  test("malformed lines are reported with file and line", () => {
    const dir = mkdtempSync(join(tmpdir(), "kmlib-trace-"));
    const path = join(dir, "bad.trace");
    writeFileSync(path, "100 0 0 8 0\n200 0 x 8 0\n");
    assert.throws(() => new TraceWorkload(path), (e) => isKmlibError(e, ErrorCode.InvalidConfig) && /bad\.trace:2/.test(e.message));
    assert.throws(() => new TraceWorkload(join(dir, "missing.trace")), (e) => isKmlibError(e, ErrorCode.NotFound));
  });

  test("reads the shared TPC-C trace in place", (t) => {
    const path = new URL("../../../shared/traces/tpcc-small.trace", import.meta.url).pathname;
    if (!existsSync(path)) return t.skip("../shared/traces/tpcc-small.trace absent");
    const w = new TraceWorkload(path);
    assert.ok(w.stats.writeRequests > 1000 && w.stats.writeRequests < w.stats.requests);
    assert.ok(w.logicalBlocks > 1000 && w.logicalBlocks <= w.stats.blockWrites);
  });
});
