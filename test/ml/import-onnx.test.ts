/**
 * The ONNX importer on small hand-made graphs: split modes converted exactly (float model and
 * integer form), the binary and aggregation rules, wrappers, and a clear KMLIB_INVALID_MODEL
 * for every malformed or unsupported file.
 */
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { isKmlibError } from "../../src/errors.ts";
import { importModelBytes } from "../../src/ml/import/import.ts";
import { importOnnx } from "../../src/ml/import/onnx.ts";
import { encodeOnnx } from "../../src/ml/import/onnx-proto.ts";
import { evaluateIr } from "../../src/ml/ir/evaluate.ts";
import { lowerModel } from "../../src/ml/ir/lower.ts";
import { predictClass } from "../../src/ml/model/predict.ts";

type Attr = { ints: number[] } | { floats: number[] } | { strings: string[] } | { s: string } | { i: number };
const ML = "ai.onnx.ml";

function node(op: string, inputs: string[], outputs: string[], attrs: Record<string, Attr> = {}, domain = ML) {
  const attribute = Object.entries(attrs).map(([name, a]) => {
    if ("strings" in a) return { name, type: 8, strings: a.strings.map((s) => Buffer.from(s)) };
    if ("s" in a) return { name, type: 3, s: Buffer.from(a.s) };
    if ("ints" in a) return { name, type: 7, ints: a.ints };
    if ("floats" in a) return { name, type: 6, floats: a.floats };
    return { name, type: 2, i: a.i };
  });
  return { op_type: op, input: inputs, output: outputs, attribute, domain };
}

function onnx(nodes: ReturnType<typeof node>[], nFeatures = 1, inputs = ["X"]): Uint8Array {
  return encodeOnnx({
    ir_version: 8,
    producer_name: "kmlib-test",
    opset_import: [{ domain: "", version: 13 }, { domain: ML, version: 3 }],
    graph: {
      name: "g",
      node: nodes,
      input: inputs.map((name) => ({ name, type: { tensor_type: { elem_type: 1, shape: { dim: [{ dim_param: "N" }, { dim_value: nFeatures }] } } } })),
      output: [{ name: "label" }],
    },
  });
}

/** One split on feature 0 (`mode`, threshold t): the true branch votes class 1, the false one class 0. */
function stump(mode: string, t: number, extra: Record<string, Attr> = {}) {
  return node("TreeEnsembleClassifier", ["X"], ["label", "probabilities"], {
    nodes_treeids: { ints: [0, 0, 0] },
    nodes_nodeids: { ints: [0, 1, 2] },
    nodes_featureids: { ints: [0, 0, 0] },
    nodes_values: { floats: [t, 0, 0] },
    nodes_modes: { strings: [mode, "LEAF", "LEAF"] },
    nodes_truenodeids: { ints: [1, 0, 0] },
    nodes_falsenodeids: { ints: [2, 0, 0] },
    class_treeids: { ints: [0, 0] },
    class_nodeids: { ints: [1, 2] },
    class_ids: { ints: [1, 0] },
    class_weights: { floats: [1, 1] },
    classlabels_int64s: { ints: [0, 1] },
    ...extra,
  });
}

function rejects(bytes: Uint8Array, pattern: RegExp): void {
  assert.throws(() => importOnnx(bytes), (e: unknown) => isKmlibError(e, "KMLIB_INVALID_MODEL") && pattern.test(e.message));
}

describe("ONNX split modes convert exactly", () => {
  const cond: Record<string, (x: number, t: number) => boolean> = {
    BRANCH_LEQ: (x, t) => x <= t,
    BRANCH_LT: (x, t) => x < t,
    BRANCH_GTE: (x, t) => x >= t,
    BRANCH_GT: (x, t) => x > t,
  };
  for (const [mode, f] of Object.entries(cond)) {
    for (const t of [5, 4.5, -3, 0]) {
      test(`${mode} ${t}: float model and integer form (identity) decide as the mode says`, () => {
        const { model } = importOnnx(onnx([stump(mode, t)]));
        assert.equal(model.kind, "tree");
        const ir = lowerModel(model, { quant: "identity" });
        for (let x = -8; x <= 8; x++) {
          const want = f(x, t) ? 1 : 0;
          assert.equal(predictClass(model, [x]), want, `float x=${x}`);
          assert.equal(evaluateIr(ir, [x]).class, want, `integer x=${x}`);
        }
        for (const x of [t - 1e-9, t, t + 1e-9, 4.5, 5.5]) assert.equal(predictClass(model, [x]), f(x, t) ? 1 : 0, `float x=${x}`);
      });
    }
  }
  test("BRANCH_EQ and BRANCH_NEQ are refused by name", () => {
    rejects(onnx([stump("BRANCH_EQ", 1)]), /split mode BRANCH_EQ .*not supported/);
    rejects(onnx([stump("BRANCH_NEQ", 1)]), /BRANCH_NEQ/);
  });
});

describe("ONNX classifier and regressor rules", () => {
  /** A stump whose leaves carry only class-1 weights a (true) and b (false). */
  const oneColumn = (a: number, b: number) =>
    stump("BRANCH_LEQ", 0, { class_nodeids: { ints: [1, 2] }, class_ids: { ints: [1, 1] }, class_weights: { floats: [a, b] } });
  test("binary, one weight column, weights >= 0: class 1 when the sum > 0.5", () => {
    const { model, notes } = importOnnx(onnx([oneColumn(0.6, 0.4)]));
    assert.equal(model.kind, "boosted");
    assert.equal(predictClass(model, [-1]), 1);
    assert.equal(predictClass(model, [1]), 0, "0.4 > 0 but not > 0.5");
    assert.ok(notes.some((n) => /> 0.5/.test(n)));
  });
  test("binary, one weight column, a negative weight: class 1 when the sum > 0", () => {
    const { model } = importOnnx(onnx([oneColumn(0.3, -0.2)]));
    assert.equal(predictClass(model, [-1]), 1);
    assert.equal(predictClass(model, [1]), 0);
  });
  test("multiclass with unequal base_values becomes a boosted model that keeps them", () => {
    const n = stump("BRANCH_LEQ", 0, {
      classlabels_int64s: { ints: [0, 1, 2] },
      class_treeids: { ints: [0, 0, 0, 0] },
      class_nodeids: { ints: [1, 1, 2, 2] },
      class_ids: { ints: [0, 1, 1, 2] },
      class_weights: { floats: [0.2, 0.8, 0.3, 0.7] },
      base_values: { floats: [0, 0, 1] },
    });
    const { model } = importOnnx(onnx([n]));
    assert.equal(model.kind, "boosted");
    assert.deepEqual([predictClass(model, [-1]), predictClass(model, [1])], [2, 2]);
    const plain = importOnnx(onnx([stump("BRANCH_LEQ", 0, { classlabels_int64s: { ints: [0, 1, 2] }, class_treeids: { ints: [0, 0, 0, 0] }, class_nodeids: { ints: [1, 1, 2, 2] }, class_ids: { ints: [0, 1, 1, 2] }, class_weights: { floats: [0.2, 0.8, 0.3, 0.7] } })]));
    assert.equal(plain.model.kind, "tree");
    assert.deepEqual([predictClass(plain.model, [-1]), predictClass(plain.model, [1])], [1, 2]);
  });

  const regressor = (agg: string, base: number) =>
    node("TreeEnsembleRegressor", ["X"], ["variable"], {
      n_targets: { i: 1 },
      aggregate_function: { s: agg },
      base_values: { floats: [base] },
      nodes_treeids: { ints: [0, 1, 1, 1] },
      nodes_nodeids: { ints: [0, 0, 1, 2] },
      nodes_featureids: { ints: [0, 0, 0, 0] },
      nodes_values: { floats: [0, 0, 0, 0] },
      nodes_modes: { strings: ["LEAF", "BRANCH_LEQ", "LEAF", "LEAF"] },
      nodes_truenodeids: { ints: [0, 1, 0, 0] },
      nodes_falsenodeids: { ints: [0, 2, 0, 0] },
      target_treeids: { ints: [0, 1, 1] },
      target_nodeids: { ints: [0, 1, 2] },
      target_ids: { ints: [0, 0, 0] },
      target_weights: { floats: [1, -3, 1] },
    });
  test("regressor SUM vs AVERAGE with a base value: the logit's sign decides", () => {
    // x > 0: SUM 1 + 1 - 1.25 = 0.75 -> 1; AVERAGE (1 + 1) / 2 - 1.25 = -0.25 -> 0.
    const sum = importOnnx(onnx([regressor("SUM", -1.25)])).model;
    const avg = importOnnx(onnx([regressor("AVERAGE", -1.25)])).model;
    assert.deepEqual([predictClass(sum, [-1]), predictClass(sum, [1])], [0, 1]);
    assert.deepEqual([predictClass(avg, [-1]), predictClass(avg, [1])], [0, 0]);
    rejects(onnx([regressor("MAX", 0)]), /aggregate_function MAX/);
  });

  const linear = (coef: number[], icpt: number[], labels: number[]) =>
    node("LinearClassifier", ["X"], ["label", "scores"], { coefficients: { floats: coef }, intercepts: { floats: icpt }, classlabels_ints: { ints: labels } });
  test("LinearClassifier: one row is binary (score > 0), several rows the top one", () => {
    const bin = importOnnx(onnx([linear([1, -1], [0.5], [0, 1])], 2)).model;
    assert.equal(predictClass(bin, [0, 0]), 1);
    assert.equal(predictClass(bin, [0, 1]), 0);
    const multi = importOnnx(onnx([linear([1, 0, 0, 1, -1, -1], [0, 0, 0], [7, 8, 9])], 2)).model;
    assert.deepEqual(multi.classNames, ["7", "8", "9"]);
    assert.equal(predictClass(multi, [2, 1]), 0);
    assert.equal(predictClass(multi, [1, 2]), 1);
    assert.equal(predictClass(multi, [-1, -1]), 2);
    rejects(onnx([linear([1, 2, 3], [0], [0, 1])], 2), /uses 3 features, but the graph input "X" has 2/);
    rejects(onnx([linear([1], [0], [0, 1])], 2), /1 coefficients for 1 classes x 2 features/);
    rejects(onnx([linear([1, 2, 3, 4], [0, 0], [0, 1, 2])], 2), /2 coefficient row\(s\) for 3 class labels/);
  });
  test("Scaler folds into a LinearClassifier; Normalizer and ZipMap after it are no-ops", () => {
    const nodes = [
      node("Scaler", ["X"], ["s"], { offset: { floats: [10] }, scale: { floats: [0.5] } }),
      node("LinearClassifier", ["s"], ["label", "scores"], { coefficients: { floats: [1] }, intercepts: { floats: [-1] }, classlabels_ints: { ints: [0, 1] } }),
      node("Normalizer", ["scores"], ["p"], { norm: { s: "L1" } }),
      node("ZipMap", ["p"], ["zp"], { classlabels_int64s: { ints: [0, 1] } }),
    ];
    const r = importOnnx(onnx(nodes));
    // (x - 10) * 0.5 - 1 > 0  <=>  x > 12
    assert.equal(predictClass(r.model, [12]), 0);
    assert.equal(predictClass(r.model, [12.5]), 1);
    assert.ok(r.notes.some((n) => /Normalizer/.test(n)) && r.notes.some((n) => /ZipMap/.test(n)));
  });
});

describe("ONNX files kmlib refuses, with KMLIB_INVALID_MODEL", () => {
  test("bytes that are not an ONNX model", () => {
    rejects(new Uint8Array(0), /not an ONNX model file/);
    rejects(new Uint8Array([0xff, 0xff, 0xff, 0xff, 0x0f, 1, 2, 3]), /not an ONNX model file/);
    rejects(new TextEncoder().encode("hello, I am not protobuf at all"), /not an ONNX model file/);
    const good = onnx([stump("BRANCH_LEQ", 1)]);
    rejects(good.subarray(0, Math.floor(good.length / 2)), /not an ONNX model file|ONNX/);
  });
  test("an unsupported operator is named", () => {
    rejects(onnx([node("SVMClassifier", ["X"], ["label"], {})]), /unsupported ONNX operator SVMClassifier/);
    rejects(onnx([stump("BRANCH_LEQ", 1), node("Gemm", ["probabilities"], ["g"], {}, "")]), /unsupported ONNX operator Gemm/);
  });
  test("graph shapes kmlib does not import", () => {
    rejects(onnx([node("Scaler", ["X"], ["s"], { scale: { floats: [2] } }), { ...stump("BRANCH_LEQ", 1), input: ["s"] }]), /Scaler.*would move every threshold/);
    rejects(onnx([node("Cast", ["X"], ["c"], { to: { i: 7 } }, ""), { ...stump("BRANCH_LEQ", 1), input: ["c"] }]), /casts the features to type 7/);
    rejects(onnx([stump("BRANCH_LEQ", 1), { ...stump("BRANCH_LEQ", 2), output: ["l2", "p2"] }]), /2 model operators/);
    rejects(onnx([stump("BRANCH_LEQ", 1)], 1, ["X", "Y"]), /2 inputs \(X, Y\)/);
    rejects(onnx([{ ...stump("BRANCH_LEQ", 1), input: ["nowhere"] }]), /comes neither from the graph input nor from a node/);
  });
  test("broken trees", () => {
    rejects(onnx([stump("BRANCH_LEQ", 1, { class_nodeids: { ints: [0, 2] } })]), /names tree 0 node 0, which is not a leaf/);
    rejects(onnx([stump("BRANCH_LEQ", 1, { nodes_falsenodeids: { ints: [7, 0, 0] } })]), /node 7 does not exist|root nodes/);
    rejects(onnx([stump("BRANCH_LEQ", 1, { nodes_truenodeids: { ints: [0, 0, 0] } })]), /2 of its 3 nodes cannot be reached from root node 1 \(a cycle\?\)/);
    rejects(onnx([stump("BRANCH_LEQ", 1, { nodes_featureids: { ints: [3, 0, 0] } })]), /uses 4 features, but the graph input "X" has 1/);
    rejects(onnx([stump("BRANCH_LEQ", 1, { nodes_values: { floats: [1, 0] } })]), /nodes_values has 2 entries, nodes_treeids has 3/);
    rejects(onnx([stump("BRANCH_LEQ", 1, { class_ids: { ints: [1, 5] } })]), /class 5, outside \[0, 2\)/);
    rejects(onnx([stump("BRANCH_LEQ", 1, { classlabels_int64s: { ints: [] } })]), /neither classlabels_strings nor classlabels_int64s/);
  });
  test("the file name leads the message; feature names must match", () => {
    assert.throws(() => importModelBytes(new Uint8Array([1, 2, 3]), "bad.onnx"), (e: unknown) => isKmlibError(e, "KMLIB_INVALID_MODEL") && /^bad\.onnx: not an ONNX/.test(e.message));
    assert.throws(() => importOnnx(onnx([stump("BRANCH_LEQ", 1)]), { featureNames: ["a", "b"] }), /feature count mismatch: the ONNX model has 1 features, 2 names/);
  });
});
