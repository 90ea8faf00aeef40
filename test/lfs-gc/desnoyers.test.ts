/** The analytic models themselves: fixed points, limits and orderings they must satisfy. */
import { test } from "node:test";
import assert from "node:assert/strict";
import { greedyUniformWa, lrwHotColdWa, lrwMixedWa, lrwUniformWa, lrwValidFraction } from "../../src/subsystems/lfs-gc/desnoyers.ts";

const sfs = [0.05, 0.1, 0.2, 0.3, 0.5];

test("LRW: X0 is the non-trivial root of X0 = exp(-α(1 - X0))", () => {
  for (const sf of sfs) {
    const a = 1 / (1 - sf);
    const x = lrwValidFraction(sf);
    assert.ok(x > 0 && x < 1);
    assert.ok(Math.abs(x - Math.exp(-a * (1 - x))) < 1e-9);
    assert.ok(Math.abs(lrwUniformWa(sf) - 1 / (1 - x)) < 1e-9);
  }
});

test("more spare, less amplification; greedy never worse than LRW and equal for huge segments", () => {
  for (let i = 1; i < sfs.length; i++) assert.ok(lrwUniformWa(sfs[i]!) < lrwUniformWa(sfs[i - 1]!));
  for (const sf of sfs) {
    const lrw = lrwUniformWa(sf);
    let prev = 0;
    for (const np of [4, 16, 64, 256, 4096]) {
      const g = greedyUniformWa(sf, np);
      assert.ok(g <= lrw + 1e-9, `greedy ${g} > LRW ${lrw} at Sf=${sf}, Np=${np}`);
      assert.ok(g >= prev, "greedy's advantage shrinks as segments grow");
      prev = g;
    }
    assert.ok(Math.abs(greedyUniformWa(sf, 1 << 16) / lrw - 1) < 0.002);
  }
});

test("the hot/cold model reduces to the uniform one and grows with skew", () => {
  for (const sf of sfs) {
    assert.ok(Math.abs(lrwHotColdWa(sf, 0.3, 0.3) / lrwUniformWa(sf) - 1) < 1e-6);
    assert.ok(lrwHotColdWa(sf, 0.9, 0.1) > lrwHotColdWa(sf, 0.8, 0.2));
    assert.ok(lrwHotColdWa(sf, 0.8, 0.2) > lrwUniformWa(sf));
  }
  assert.throws(() => lrwMixedWa(0.1, [{ dataFraction: 0.5, writeFraction: 0.5 }]));
  assert.throws(() => lrwUniformWa(1.5));
});
