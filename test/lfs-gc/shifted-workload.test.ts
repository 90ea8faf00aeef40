/**
 * Shifting host workloads (`A@COUNT,...,Z`): parsing with errors that say what is wrong, the
 * switch at exactly the named write whatever the batch sizes, and the ground truth following it.
 */
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { ErrorCode, isKmlibError } from "../../src/errors.ts";
import { ShiftedWorkload, makeShiftedWorkload, makeWorkload, parseWorkloadSequence } from "../../src/subsystems/lfs-gc/registry.ts";

const U = 1000;

describe("shifted workloads", () => {
  test("parse: counts in host writes or multiples of the logical blocks, the last part runs on", () => {
    assert.deepEqual(parseWorkloadSequence("hotcold-90-10", U), [{ spec: "hotcold-90-10", writes: undefined }]);
    assert.deepEqual(parseWorkloadSequence("hotcold-90-10@40x,zipf-1.0@2500,uniform", U), [
      { spec: "hotcold-90-10", writes: 40 * U },
      { spec: "zipf-1.0", writes: 2500 },
      { spec: "uniform", writes: undefined },
    ]);
    assert.deepEqual(parseWorkloadSequence("uniform@0.5x,uniform", U)[0], { spec: "uniform", writes: U / 2 });
    // One name is taken whole: a trace path may hold '@'.
    assert.deepEqual(parseWorkloadSequence("trace:/x/a@b", U), [{ spec: "trace:/x/a@b", writes: undefined }]);
    const cases: Array<[string, RegExp]> = [
      ["hotcold-90-10,uniform", /part 1 \(hotcold-90-10\) needs @COUNT/],
      ["hotcold-90-10@4x,uniform@4x", /the last part \(uniform@4x\) runs on: it takes no @COUNT/],
      ["uniform@4x", /a single workload takes no @COUNT/],
      ["hotcold-90-10@0x,uniform", /part 1 .* must last at least one host write/],
      ["hotcold-90-10@2.5,uniform", /part 1 .* a count of host writes must be an integer \(or Nx\)/],
      ["@4x,uniform", /part 1 names no workload/],
    ];
    for (const [spec, re] of cases) {
      assert.throws(
        () => parseWorkloadSequence(spec, U),
        (e: unknown) => isKmlibError(e, ErrorCode.InvalidArgument) && re.test(e.message) && e.message.includes("e.g. hotcold-90-10@40x,uniform"),
        spec,
      );
    }
  });

  test("make: a plain name is the registry's workload; a bad part is named", () => {
    const plain = makeShiftedWorkload("zipf-1.0", { logicalBlocks: U, seed: 3 }, makeWorkload);
    assert.ok(!(plain instanceof ShiftedWorkload));
    assert.equal(plain.name, "zipf-1.0");
    assert.throws(() => makeShiftedWorkload("hotcold-90-10@2x,hotcold-95", { logicalBlocks: U, seed: 1 }, makeWorkload), /workload sequence "hotcold-90-10@2x,hotcold-95", part 2: unknown workload "hotcold-95"/);
  });

  test("the switch falls on the named write whatever the batch sizes; each part draws its own stream", () => {
    const spec = "hotcold-90-10@1234,uniform";
    const w = makeShiftedWorkload(spec, { logicalBlocks: U, seed: 1 }, makeWorkload);
    assert.ok(w instanceof ShiftedWorkload);
    assert.equal(w.name, spec);
    assert.deepEqual(w.starts, [0, 1234]);
    const hot = makeWorkload("hotcold-90-10", { logicalBlocks: U, seed: 1 });
    const uni = makeWorkload("uniform", { logicalBlocks: U, seed: 2 });
    const n = 5000;
    const want = new Int32Array(n);
    hot.next(want, 1234);
    uni.next(want.subarray(1234), n - 1234);
    const got = new Int32Array(n);
    for (let off = 0, k = 1; off < n; off += k, k = (k * 7) % 997 || 1) {
      k = Math.min(k, n - off);
      assert.equal(w.partAt(off), off < 1234 ? 0 : 1);
      w.next(got.subarray(off), k);
    }
    assert.deepEqual(got, want);
    assert.equal(w.written, n);
    assert.equal(w.current.workload.name, "uniform");
    // Ground truth follows the switch: the hot blocks' rate before, the uniform one after.
    assert.equal(w.trueRate!(0, 1233), hot.trueRate!(0, 1233));
    assert.equal(w.trueRate!(0, 1234), 1 / U);
    assert.ok(w.trueRate!(0, 0) > 5 / U);
  });
});
