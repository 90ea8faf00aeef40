/**
 * The simulator against Desnoyers' analytic model ("Analytic Modeling of SSD Write
 * Performance"): FIFO and greedy under uniform random overwrites, and FIFO under hot/cold
 * writes, each within 2% of the model for spare factors 0.05–0.30.
 */
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { greedyUniformWa, lrwHotColdWa, lrwUniformWa } from "../../src/subsystems/lfs-gc/desnoyers.ts";
import { fifo, greedy } from "../../src/subsystems/lfs-gc/policies/classical.ts";
import { simulate } from "../../src/subsystems/lfs-gc/simulate.ts";
import { HotColdWorkload, UniformWorkload } from "../../src/subsystems/lfs-gc/workload.ts";

// 2^16 blocks and 12 device-writes per run: the measured WA settles within ~0.3% of the
// model, well inside the 2% bound, at about 0.1 s a run.
const U = 1 << 16;
const spareFactors = [0.05, 0.1, 0.15, 0.2, 0.25, 0.3];

function within(actual: number, expected: number, tol: number, what: string): void {
  const err = Math.abs(actual / expected - 1);
  assert.ok(err <= tol, `${what}: simulated ${actual.toFixed(4)} vs model ${expected.toFixed(4)} (${(err * 100).toFixed(2)}% > ${tol * 100}%)`);
}

describe("uniform random overwrites", () => {
  for (const sf of spareFactors) {
    test(`FIFO matches the LRW model at Sf=${sf}`, () => {
      const r = simulate({ policy: fifo, workload: new UniformWorkload(U, 11), spareFactor: sf, blocksPerSegment: 64 });
      within(r.writeAmplification, lrwUniformWa(sf), 0.02, `FIFO Sf=${sf}`);
    });
    for (const np of [16, 64]) {
      test(`greedy matches the greedy model at Sf=${sf}, Np=${np}`, () => {
        const r = simulate({ policy: greedy, workload: new UniformWorkload(U, 12), spareFactor: sf, blocksPerSegment: np });
        within(r.writeAmplification, greedyUniformWa(sf, np), 0.02, `greedy Sf=${sf} Np=${np}`);
      });
    }
  }
});

describe("hot/cold overwrites", () => {
  for (const [hotWrites, hotData] of [
    [0.8, 0.2],
    [0.9, 0.1],
  ] as const) {
    for (const sf of spareFactors) {
      test(`FIFO matches the hot/cold model at ${hotWrites * 100}/${hotData * 100}, Sf=${sf}`, () => {
        const r = simulate({ policy: fifo, workload: new HotColdWorkload(U, hotWrites, hotData, 13), spareFactor: sf, blocksPerSegment: 64 });
        within(r.writeAmplification, lrwHotColdWa(sf, hotWrites, hotData), 0.02, `FIFO hot/cold Sf=${sf}`);
      });
    }
  }
});
