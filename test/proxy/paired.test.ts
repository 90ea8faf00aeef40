/** Paired metric evidence: Student t statistics, fixed-point paired counters, and the controller on them. */
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { ModeController } from "../../src/proxy/controller.ts";
import { emptyCounters } from "../../src/proxy/efficiency.ts";
import { ErrorCode, isKmlibError } from "../../src/errors.ts";
import { Rng } from "../../src/ml/rng.ts";
import {
  PAIRED_SCALE,
  type PairedCounters,
  addPaired,
  emptyPaired,
  incompleteBeta,
  pairedEstimate,
  relativeGain,
  sincePaired,
  studentTCdf,
  studentTQuantile,
} from "../../src/proxy/paired.ts";

const close = (a: number, b: number, tol: number, what: string) => assert.ok(Math.abs(a - b) <= tol, `${what}: ${a} vs ${b}`);

/** Deterministic standard normal draws (mulberry32 + Box-Muller; uniforms in (0, 1), never 0). */
function normals(seed: number): () => number {
  const r = new Rng(seed);
  const u = () => (r.nextU32() + 0.5) / 4294967296;
  return () => Math.sqrt(-2 * Math.log(u())) * Math.cos(2 * Math.PI * u());
}

describe("Student t", () => {
  test("quantiles match the published table", () => {
    // Two-sided 95%, 90%, 99% critical values.
    const table: Array<[number, number, number]> = [
      [0.975, 1, 12.7062],
      [0.975, 2, 4.3027],
      [0.975, 5, 2.5706],
      [0.95, 10, 1.8125],
      [0.995, 30, 2.75],
      [0.975, 120, 1.9799],
    ];
    for (const [p, df, t] of table) close(studentTQuantile(p, df), t, 1e-3, `t(${p}, ${df})`);
    close(studentTQuantile(0.025, 5), -2.5706, 1e-3, "lower tail");
    close(studentTQuantile(0.975, 1e7), 1.959964, 1e-5, "normal limit");
    close(studentTCdf(studentTQuantile(0.9, 7), 7), 0.9, 1e-9, "cdf inverts quantile");
    close(studentTCdf(0, 3), 0.5, 1e-12, "symmetric");
    close(incompleteBeta(0.5, 2, 3), 0.6875, 1e-12, "I_0.5(2,3)");
  });

  test("bad arguments are typed errors", () => {
    assert.throws(() => studentTQuantile(1, 3), (e: unknown) => isKmlibError(e, ErrorCode.InvalidArgument));
    assert.throws(() => studentTQuantile(0.9, 0), (e: unknown) => isKmlibError(e, ErrorCode.InvalidArgument));
  });
});

describe("paired counters", () => {
  test("a window's mean gain and t interval, from integer sums", () => {
    let c = emptyPaired();
    for (const g of [0.1, 0.2, 0.3]) c = addPaired(c, "learning", g);
    assert.deepEqual(c.learning, { n: 3, sum: 0.6 * PAIRED_SCALE, sumSq: 0.14 * PAIRED_SCALE * PAIRED_SCALE });
    assert.equal(c.recommendation.n, 0, "other modes untouched");
    const e = pairedEstimate(c.learning, 0.95);
    close(e.mean, 0.2, 1e-12, "mean");
    close(e.sd, 0.1, 1e-9, "sd");
    const half = 4.302653 * (0.1 / Math.sqrt(3));
    close(e.lo, 0.2 - half, 1e-5, "lo");
    close(e.hi, 0.2 + half, 1e-5, "hi");
  });

  test("fewer than two outcomes say nothing; windows are snapshot differences", () => {
    assert.deepEqual([pairedEstimate(emptyPaired().learning).lo, pairedEstimate(emptyPaired().learning).hi], [-1, 1]);
    const one = addPaired(emptyPaired(), "collaboration", 0.5);
    assert.deepEqual([pairedEstimate(one.collaboration).lo, pairedEstimate(one.collaboration).hi], [-1, 1]);
    let later: PairedCounters = one;
    for (const g of [0.1, -0.1]) later = addPaired(later, "collaboration", g);
    const w = sincePaired(later, one).collaboration;
    assert.equal(w.n, 2);
    close(pairedEstimate(w).mean, 0, 1e-12, "window mean excludes the first outcome");
    assert.deepEqual(sincePaired(one, later).collaboration, one.collaboration, "a reset source: now is the delta");
  });

  test("gains are relative, clamped, and checked", () => {
    close(relativeGain(2, 4), 0.5, 1e-12, "half the WA");
    assert.equal(relativeGain(9, 3), -1, "clamped at -1");
    assert.throws(() => relativeGain(0, 3), (e: unknown) => isKmlibError(e, ErrorCode.InvalidArgument));
    assert.throws(() => addPaired(emptyPaired(), "learning", 1.5), (e: unknown) => isKmlibError(e, ErrorCode.InvalidArgument));
  });

  test("the interval covers the true mean at about its confidence", () => {
    const draw = normals(11);
    let covered = 0;
    const trials = 400;
    for (let i = 0; i < trials; i++) {
      let c = emptyPaired();
      for (let k = 0; k < 6; k++) c = addPaired(c, "learning", 0.1 + 0.05 * draw());
      const e = pairedEstimate(c.learning, 0.9);
      if (e.lo <= 0.1 && 0.1 <= e.hi) covered++;
    }
    // Binomial(400, 0.9): 3 standard deviations is 18.
    assert.ok(Math.abs(covered - 360) <= 18, `${covered} of ${trials} 90% intervals covered the mean`);
  });
});

describe("mode controller on paired evidence", () => {
  /** Feeds one paired outcome per evaluation, drawn around `gain(mode)`. */
  function run(ctl: ModeController, gain: (mode: string, i: number) => number, epochs: number, seed = 1, sd = 0.02): PairedCounters {
    const draw = normals(seed);
    let p = emptyPaired();
    for (let i = 0; i < epochs; i++) {
      if (ctl.mode !== "emergency") p = addPaired(p, ctl.mode, Math.max(-1, Math.min(1, gain(ctl.mode, i) + sd * draw())));
      ctl.evaluate(emptyCounters(), p);
    }
    return p;
  }
  const thresholds = { minDecisions: 5, promoteStreak: 2, promoteMargin: 0.1, demoteMargin: 0.05, collapseMargin: 0.3 };

  test("a clear gain climbs to recommendation, each step with its paired evidence", () => {
    const ctl = new ModeController({ evidence: "paired", thresholds });
    run(ctl, () => 0.4, 30);
    assert.equal(ctl.mode, "recommendation");
    assert.deepEqual(ctl.history.map((t) => t.reason), ["promote", "promote"]);
    for (const t of ctl.history) {
      assert.ok(t.evidence?.paired && t.evidence.paired.n >= 5, "promotion carries its paired outcomes");
      assert.ok(t.evidence.gain.lo > 0.1);
      assert.match(t.detail, /paired outcomes/);
    }
  });

  test("a gain below the margin is never promoted, however many epochs", () => {
    for (let seed = 1; seed <= 10; seed++) {
      const ctl = new ModeController({ evidence: "paired", thresholds });
      run(ctl, () => 0.04, 60, seed);
      assert.equal(ctl.mode, "learning", `seed ${seed}`);
    }
  });

  test("when the gain goes away the model is demoted; when it turns into a heavy loss, emergency", () => {
    const ctl = new ModeController({ evidence: "paired", initial: "recommendation", thresholds });
    run(ctl, (_m, i) => (i < 10 ? 0.4 : 0), 30);
    const demote = ctl.history.find((t) => t.reason === "demote");
    assert.ok(demote, "demoted");
    assert.equal(demote.from, "recommendation");
    assert.ok(demote.evidence!.gain.hi < 0.05);
    const ctl2 = new ModeController({ evidence: "paired", initial: "recommendation", thresholds });
    run(ctl2, () => -0.6, 10);
    assert.equal(ctl2.history[0]?.reason, "efficiency-collapse");
    assert.equal(ctl2.mode, "emergency");
  });

  test("a paired controller needs paired counters; a rate controller ignores them", () => {
    const ctl = new ModeController({ evidence: "paired" });
    assert.throws(() => ctl.evaluate(emptyCounters()), (e: unknown) => isKmlibError(e, ErrorCode.InvalidArgument));
    const rate = new ModeController({ thresholds: { minDecisions: 1, promoteStreak: 1 } });
    let p = emptyPaired();
    for (let i = 0; i < 10; i++) p = addPaired(p, "learning", 0.9);
    assert.equal(rate.evaluate(emptyCounters(), p), undefined, "no rate evidence, no move");
    assert.throws(() => new ModeController({ evidence: "median" as "rate" }), (e: unknown) => isKmlibError(e, ErrorCode.InvalidConfig));
  });
});
