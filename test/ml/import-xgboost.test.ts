/**
 * The XGBoost JSON importer on small hand-written models: `x < c` converted exactly (float
 * model and integer form), float32 conditions, base_score, best_iteration, dart weights, and
 * a clear KMLIB_INVALID_MODEL (or KMLIB_NOT_FOUND) for every bad file.
 */
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { isKmlibError } from "../../src/errors.ts";
import { importModelFile } from "../../src/ml/import/import.ts";
import { importXgboostJson } from "../../src/ml/import/xgboost.ts";
import { evaluateIr } from "../../src/ml/ir/evaluate.ts";
import { lowerModel } from "../../src/ml/ir/lower.ts";
import { predictClass, predictScores } from "../../src/ml/model/predict.ts";

/** A stump: x[feature] < cond -> leaf a, else leaf b. */
function stump(cond: number, a: number, b: number, feature = 0) {
  return {
    tree_param: { num_nodes: "3", num_feature: "2" },
    left_children: [1, -1, -1],
    right_children: [2, -1, -1],
    split_indices: [feature, 0, 0],
    split_conditions: [cond, a, b],
    split_type: [0, 0, 0],
    default_left: [1, 0, 0],
    base_weights: [0, a, b],
  };
}

function model(trees: object[], opts: { objective?: string; numClass?: number; baseScore?: string; info?: number[]; attributes?: object; booster?: object } = {}) {
  const gbtree = { name: "gbtree", model: { gbtree_model_param: { num_trees: String(trees.length), num_parallel_tree: "1" }, tree_info: opts.info ?? trees.map(() => 0), trees } };
  return JSON.stringify({
    version: [1, 7, 4],
    learner: {
      attributes: opts.attributes ?? {},
      feature_names: [],
      learner_model_param: { base_score: opts.baseScore ?? "5E-1", num_class: String(opts.numClass ?? 0), num_feature: "2", num_target: "1" },
      objective: { name: opts.objective ?? "binary:logistic" },
      gradient_booster: opts.booster ?? gbtree,
    },
  });
}

function rejects(text: string, pattern: RegExp): void {
  assert.throws(() => importXgboostJson(text), (e: unknown) => isKmlibError(e, "KMLIB_INVALID_MODEL") && pattern.test(e.message));
}

describe("XGBoost splits and scores", () => {
  test("x < 5 is exact on integers, in the float model and the integer form", () => {
    const { model: m } = importXgboostJson(model([stump(5, 1, -1)]));
    const ir = lowerModel(m, { quant: "identity" });
    for (let x = -3; x <= 10; x++) {
      const want = x < 5 ? 1 : 0;
      assert.equal(predictClass(m, [x, 0]), want, `float x=${x}`);
      assert.equal(evaluateIr(ir, [x, 0]).class, want, `integer x=${x}`);
    }
  });
  test("conditions are float32: 0.1 means Math.fround(0.1)", () => {
    const { model: m } = importXgboostJson(model([stump(0.1, 1, -1)]));
    const c = Math.fround(0.1); // slightly above 0.1
    assert.equal(predictClass(m, [0.1, 0]), 1, "0.1 < fround(0.1)");
    assert.equal(predictClass(m, [c, 0]), 0);
  });
  test("base_score: logit for binary:logistic, raw for multiclass", () => {
    const bin = importXgboostJson(model([stump(0, 0.25, -0.25)], { baseScore: "2E-1" })).model;
    const b = Math.log(Math.fround(0.2) / (1 - Math.fround(0.2)));
    assert.ok(Math.abs(predictScores(bin, [-1, 0])[0]! - (b + 0.25)) < 1e-12);
    const multi = importXgboostJson(model([stump(0, 1, 0), stump(0, 0, 1), stump(0, 0.5, 0.5)], { objective: "multi:softprob", numClass: 3, info: [0, 1, 2] })).model;
    assert.deepEqual([predictClass(multi, [-1, 0]), predictClass(multi, [1, 0])], [0, 1]);
    assert.deepEqual(Array.from(predictScores(multi, [-1, 0])), [1.5, 0.5, 1]);
  });
  test("only the rounds up to best_iteration count; dart scales trees by weight_drop", () => {
    const trees = [stump(0, 1, 1), stump(0, -5, -5)];
    assert.equal(predictClass(importXgboostJson(model(trees, { baseScore: "5E-1" })).model, [0, 0]), 0);
    assert.equal(predictClass(importXgboostJson(model(trees, { attributes: { best_iteration: "0" } })).model, [0, 0]), 1);
    const dart = { name: "dart", gbtree: { name: "gbtree", model: { gbtree_model_param: { num_parallel_tree: "1" }, tree_info: [0, 0], trees } }, weight_drop: [1, 0.1] };
    assert.equal(predictClass(importXgboostJson(model(trees, { booster: dart })).model, [0, 0]), 1, "1 - 0.5 > 0");
  });
  test("a tree that is a single leaf", () => {
    const leaf = { tree_param: { num_nodes: "1" }, left_children: [-1], right_children: [-1], split_indices: [0], split_conditions: [0.75] };
    const m = importXgboostJson(model([leaf])).model;
    assert.equal(predictClass(m, [123, 4]), 1);
  });
});

describe("XGBoost files kmlib refuses", () => {
  test("not JSON, not a model", () => {
    rejects("{ nope", /XGBoost model: not JSON/);
    rejects("[]", /the file is missing or not an object/);
    rejects(JSON.stringify({ version: [1] }), /learner is missing/);
  });
  test("unsupported objective, booster and split type are named", () => {
    rejects(model([stump(0, 1, 0)], { objective: "reg:squarederror" }), /objective reg:squarederror is not supported/);
    rejects(model([stump(0, 1, 0)], { booster: { name: "gblinear", model: {} } }), /booster gblinear is not supported/);
    rejects(model([{ ...stump(0, 1, 0), split_type: [1, 0, 0] }]), /categorical split/);
    rejects(model([stump(0, 1, 0)], { objective: "multi:softprob", numClass: 1 }), /num_class 1/);
  });
  test("broken trees", () => {
    rejects(model([{ ...stump(0, 1, 0), left_children: [1, -1] }]), /left_children must be an array of 3 numbers/);
    rejects(model([{ ...stump(0, 1, 0), right_children: [9, -1, -1] }]), /node 9 does not exist/);
    rejects(model([{ ...stump(0, 1, 0), left_children: [0, -1, -1] }]), /node 0 is reached twice/);
    rejects(model([stump(0, 1, 0, 7)]), /splits on feature 7, outside \[0, 2\)/);
    rejects(model([stump(0, 1, 0)], { info: [3] }), /tree 0 scores class 3/);
    rejects(model([stump(0, 1, 0)], { baseScore: "abc" }), /base_score is "abc"/);
  });
  test("files: binary formats and missing files get their own message", () => {
    const dir = mkdtempSync(join(tmpdir(), "kmlib-xgb-"));
    try {
      writeFileSync(join(dir, "m.ubj"), new Uint8Array([0x7b, 0x4c]));
      assert.throws(() => importModelFile(join(dir, "m.ubj")), (e: unknown) => isKmlibError(e, "KMLIB_INVALID_MODEL") && /save the model as JSON/.test(e.message));
      writeFileSync(join(dir, "m.json"), model([stump(0, 1, 0)]));
      assert.equal(importModelFile(join(dir, "m.json")).format, "xgboost");
      writeFileSync(join(dir, "noext"), model([stump(0, 1, 0)]));
      assert.equal(importModelFile(join(dir, "noext")).format, "xgboost", "sniffed from the first byte");
      assert.throws(() => importModelFile(join(dir, "absent.json")), (e: unknown) => isKmlibError(e, "KMLIB_NOT_FOUND"));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
