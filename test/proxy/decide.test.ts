import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { CollaborationBudget, decide, type DecideInput } from "../../src/proxy/decide.ts";
import { MODES } from "../../src/proxy/mode.ts";

const base: DecideInput<number> = { mode: "learning", defaultDecision: 1, model: { decision: 2, confidence: 0.9 }, confidenceThreshold: 0.8, budgetRemaining: 10 };

describe("decide", () => {
  test("emergency: the default decides and the model is not even reported", () => {
    const d = decide({ ...base, mode: "emergency" });
    assert.deepEqual(d, { decision: 1, source: "default", reason: "emergency", shadow: undefined, consumesBudget: false });
  });

  test("no model answer: the default decides in every mode", () => {
    for (const mode of MODES) {
      const d = decide({ ...base, mode, model: undefined });
      assert.equal(d.source, "default", mode);
      assert.equal(d.decision, 1, mode);
    }
  });

  test("learning: the default decides, the model's answer is the shadow", () => {
    const d = decide(base);
    assert.equal(d.source, "default");
    assert.equal(d.reason, "shadow");
    assert.equal(d.shadow, 2);
  });

  test("collaboration: confident and within budget -> model; otherwise default with the reason", () => {
    const c = { ...base, mode: "collaboration" as const };
    assert.deepEqual(decide(c), { decision: 2, source: "model", reason: "confident", shadow: 1, consumesBudget: true });
    assert.equal(decide({ ...c, model: { decision: 2, confidence: 0.5 } }).reason, "low-confidence");
    assert.equal(decide({ ...c, model: { decision: 2, confidence: Number.NaN } }).reason, "low-confidence");
    assert.equal(decide({ ...c, budgetRemaining: 0 }).reason, "budget-exhausted");
    const vetoed = decide({ ...c, guard: (m, d) => Math.abs(m - d) < 1 });
    assert.equal(vetoed.source, "default");
    assert.equal(vetoed.reason, "veto");
  });

  test("recommendation: the model decides regardless of confidence and budget; the guard still vetoes", () => {
    const r = { ...base, mode: "recommendation" as const, budgetRemaining: 0, model: { decision: 7, confidence: 0 } };
    assert.deepEqual(decide(r), { decision: 7, source: "model", reason: "model", shadow: 1, consumesBudget: false });
    assert.equal(decide({ ...r, guard: (m) => m < 5 }).decision, 1);
  });

  test("the collaboration budget caps model decisions per window", () => {
    const b = new CollaborationBudget(3, 10);
    let byModel = 0;
    for (let i = 0; i < 100; i++) {
      const d = decide({ ...base, mode: "collaboration", budgetRemaining: b.remaining });
      if (d.source === "model") byModel++;
      b.record(d.consumesBudget);
    }
    assert.equal(byModel, 30);
  });
});
