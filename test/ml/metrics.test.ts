import { test } from "node:test";
import assert from "node:assert/strict";
import { classificationReport, formatConfusion, formatReport } from "../../src/ml/eval/metrics.ts";

test("metrics: accuracy, confusion, per-class precision/recall/F1 and averages by hand", () => {
  // truth: a a a b b c ; pred: a a b b c c
  const r = classificationReport([0, 0, 0, 1, 1, 2], [0, 0, 1, 1, 2, 2], ["a", "b", "c"]);
  assert.equal(r.accuracy, 4 / 6);
  assert.deepEqual(r.confusion, [[2, 1, 0], [0, 1, 1], [0, 0, 1]]);
  const [a, b, c] = r.classes;
  assert.deepEqual([a!.precision, a!.recall, a!.support], [1, 2 / 3, 3]);
  assert.deepEqual([b!.precision, b!.recall], [0.5, 0.5]);
  assert.deepEqual([c!.precision, c!.recall, c!.f1], [0.5, 1, 2 / 3]);
  assert.ok(Math.abs(a!.f1 - 0.8) < 1e-12);
  assert.ok(Math.abs(r.macro.recall - (2 / 3 + 0.5 + 1) / 3) < 1e-12);
  assert.ok(Math.abs(r.weighted.recall - r.accuracy) < 1e-12, "weighted recall equals accuracy");
  const text = formatReport(r);
  assert.match(text, /^\s+precision\s+recall\s+f1\s+support/);
  assert.match(text, /\nc\s+0\.5000\s+1\.0000\s+0\.6667\s+1\n/);
  assert.match(formatConfusion(r, ["a", "b", "c"]), /\n0\s+2\s+1\s+0\n/);
});

test("metrics: a class never predicted has precision 0, not NaN", () => {
  const r = classificationReport([0, 1], [0, 0], ["x", "y"]);
  assert.equal(r.classes[1]!.precision, 0);
  assert.equal(r.classes[1]!.f1, 0);
});
