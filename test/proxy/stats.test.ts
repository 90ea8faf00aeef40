import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { beatsByMargin, normalQuantile, rateDifference, wilson } from "../../src/proxy/stats.ts";

const close = (a: number, b: number, eps: number, what: string) => assert.ok(Math.abs(a - b) <= eps, `${what}: ${a} vs ${b}`);

describe("stats", () => {
  test("normal quantiles match tables", () => {
    close(normalQuantile(0.975), 1.959964, 1e-6, "0.975");
    close(normalQuantile(0.95), 1.644854, 1e-6, "0.95");
    close(normalQuantile(0.5), 0, 1e-9, "0.5");
    close(normalQuantile(0.001), -3.090232, 1e-6, "0.001");
    assert.throws(() => normalQuantile(1), /p must be in/);
  });

  test("Wilson interval: Newcombe (1998) table I examples", () => {
    const a = wilson(81, 263);
    close(a.lo, 0.2553, 1e-4, "81/263 lo");
    close(a.hi, 0.3662, 1e-4, "81/263 hi");
    const b = wilson(0, 20);
    assert.equal(b.lo, 0);
    close(b.hi, 0.1611, 1e-4, "0/20 hi");
    const c = wilson(29, 29);
    close(c.lo, 0.8830, 1e-4, "29/29 lo");
    assert.equal(c.hi, 1);
  });

  test("Newcombe method 10 difference: 56/70 - 48/80", () => {
    const d = rateDifference(wilson(56, 70), wilson(48, 80));
    close(d.diff, 0.2, 1e-12, "diff");
    close(d.lo, 0.0524, 1e-4, "lo");
    close(d.hi, 0.3339, 1e-4, "hi");
  });

  test("beatsByMargin: a clear gain passes, a small sample or a gain under the margin does not", () => {
    assert.ok(beatsByMargin(950, 1000, 800, 1000, 0.05, 0.95).beats);
    assert.ok(!beatsByMargin(19, 20, 16, 20, 0.05, 0.95).beats, "too few samples");
    assert.ok(!beatsByMargin(820, 1000, 800, 1000, 0.05, 0.95).beats, "gain below margin");
    assert.ok(!beatsByMargin(0, 0, 0, 0, -1, 0.95).beats, "no data never beats");
  });

  test("bad input is a typed error", () => {
    assert.throws(() => wilson(5, 3), /good <= n/);
    assert.throws(() => wilson(1, 3, 1.5), /confidence/);
  });
});
