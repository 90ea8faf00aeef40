/** The log-structured store: map consistency under every policy, exact accounting, the C twin. */
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { isKmlibError, ErrorCode } from "../../src/errors.ts";
import { SegState } from "../../src/subsystems/lfs-gc/policy.ts";
import type { GcPolicy } from "../../src/subsystems/lfs-gc/policy.ts";
import { greedy } from "../../src/subsystems/lfs-gc/policies/classical.ts";
import { policyFactory, policyNames } from "../../src/subsystems/lfs-gc/registry.ts";
import { FutureIndex } from "../../src/subsystems/lfs-gc/future.ts";
import { simulate } from "../../src/subsystems/lfs-gc/simulate.ts";
import { LogStore } from "../../src/subsystems/lfs-gc/store.ts";
import { HotColdWorkload, UniformWorkload } from "../../src/subsystems/lfs-gc/workload.ts";
import { requires } from "../helpers/kernel.ts";

const U = 4096;
const B = 16;

function fill(u: number): Int32Array {
  return Int32Array.from({ length: u }, (_, i) => i);
}

describe("store", () => {
  for (const name of policyNames) {
    test(`map, counters and buckets stay consistent under ${name}`, () => {
      const w = new HotColdWorkload(U, 0.9, 0.1, 5);
      const writes = 6 * U;
      const f = fill(U);
      const future = FutureIndex.record(new HotColdWorkload(U, 0.9, 0.1, 5), f, writes);
      const policy = policyFactory(name)({ logicalBlocks: U, blocksPerSegment: B, seed: 3, future, workload: w });
      const store = new LogStore({ logicalBlocks: U, blocksPerSegment: B, spareFactor: 0.1 }, policy);
      store.writeBatch(f, U);
      const buf = new Int32Array(U);
      for (let i = 0; i < writes / U; i++) {
        w.next(buf, U);
        store.writeBatch(buf, U);
        store.checkInvariants();
      }
      assert.ok(store.victims > 0, "GC ran");
      assert.equal(store.hostWrites, U + writes);
      // Every logical block is mapped exactly once and free space never went below zero.
      let mapped = 0;
      for (let s = 0; s < store.segments; s++) mapped += store.segValid[s]!;
      assert.equal(mapped, U);
      assert.ok(store.freeSegments >= 1);
    });
  }

  test("sequential overwrites never copy (WA exactly 1)", () => {
    const seq = { name: "seq", logicalBlocks: U, pos: 0, next(out: Int32Array, n: number) { for (let i = 0; i < n; i++) out[i] = this.pos++ % U; } };
    const r = simulate({ policy: greedy, workload: seq, spareFactor: 0.1, blocksPerSegment: B });
    assert.equal(r.gcWrites, 0);
    assert.equal(r.writeAmplification, 1);
  });

  test("sizes the data area by the spare factor and reserves logs + 1 segments", () => {
    const s = new LogStore({ logicalBlocks: 64000, blocksPerSegment: 64, spareFactor: 0.2 }, greedy());
    assert.equal(s.dataSegments, 1250);
    assert.equal(s.reservedSegments, 2);
    assert.equal(s.segments, 1252);
  });

  test("rejects bad configurations with typed errors", () => {
    const bad = [
      { logicalBlocks: 1000, blocksPerSegment: 1, spareFactor: 0.1 },
      { logicalBlocks: 1000, blocksPerSegment: 16, spareFactor: 0 },
      { logicalBlocks: 1000, blocksPerSegment: 16, spareFactor: 0.95 },
      { logicalBlocks: 8, blocksPerSegment: 16, spareFactor: 0.1 },
    ];
    for (const c of bad) assert.throws(() => new LogStore(c, greedy()), (e) => isKmlibError(e, ErrorCode.InvalidArgument));
    const s = new LogStore({ logicalBlocks: 1000, blocksPerSegment: 16, spareFactor: 0.1 }, greedy());
    assert.throws(() => s.writeBatch(Int32Array.of(1000), 1), (e) => isKmlibError(e, ErrorCode.InvalidArgument));
  });

  test("a policy naming a segment that is not sealed is an error, not corruption", () => {
    const rogue: GcPolicy = { name: "rogue", logs: 1, selectVictim: (v) => { for (let s = 0; s < v.segments; s++) if (v.segState[s] !== SegState.Sealed) return s; return -1; } };
    const w = new UniformWorkload(U, 1);
    assert.throws(() => simulate({ policy: () => rogue, workload: w, spareFactor: 0.1, blocksPerSegment: B }), (e) => isKmlibError(e, ErrorCode.IllegalState));
  });

  test("the C anchor simulates exactly the same run", (t) => {
    if (!requires(t, "gcc")) return;
    const dir = mkdtempSync(join(tmpdir(), "kmlib-test-"));
    const bin = join(dir, "greedy-sim");
    execFileSync("gcc", ["-O2", "-o", bin, fileURLToPath(new URL("../../src/subsystems/lfs-gc/anchor/greedy-sim.c", import.meta.url)), "-lm"]);
    for (const [u, b, sf] of [[20000, 32, 0.07], [8192, 64, 0.25]] as const) {
      const c = JSON.parse(execFileSync(bin, [String(u), String(b), String(sf), String(3 * u), String(5 * u), "9"], { encoding: "utf8" })) as { hostWrites: number; gcWrites: number };
      const r = simulate({ policy: greedy, workload: new UniformWorkload(u, 9), spareFactor: sf, blocksPerSegment: b, warmupWrites: 3 * u, measureWrites: 5 * u });
      assert.deepEqual({ hostWrites: r.hostWrites, gcWrites: r.gcWrites }, { hostWrites: c.hostWrites, gcWrites: c.gcWrites });
    }
  });
});
