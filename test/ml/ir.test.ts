import { test } from "node:test";
import assert from "node:assert/strict";
import { isKmlibError } from "../../src/errors.ts";
import { evaluateIr } from "../../src/ml/ir/evaluate.ts";
import { fitQuant, identityQuant, quantizeRow, quantizeThreshold, quantizeValue } from "../../src/ml/ir/quantize.ts";
import { parseIr, serializeIr } from "../../src/ml/ir/serialize.ts";
import { INT32_MAX, INT32_MIN, type IrLinear, type IrMlp, type IrTreeModel } from "../../src/ml/ir/types.ts";
import { validateIr } from "../../src/ml/ir/validate.ts";
import { makeDataset } from "../../src/ml/dataset/dataset.ts";
import { Rng } from "../../src/ml/rng.ts";

const base = (nFeatures: number, nClasses = 2) => ({
  nFeatures,
  nClasses,
  featureNames: Array.from({ length: nFeatures }, (_, i) => `f${i}`),
  classNames: Array.from({ length: nClasses }, (_, i) => `c${i}`),
  quant: identityQuant(nFeatures),
  scoreFracBits: 0,
});

// node 0: x0 <= 5 ? node 1 : leaf 1;  node 1: x1 <= -3 ? leaf 0 : leaf 2.
const tree = (): IrTreeModel => ({
  ...base(2, 3),
  kind: "tree",
  tree: { feature: [0, 1], threshold: [5, -3], left: [1, -1], right: [-2, -3], leafValue: [9, 0, 0, 0, 0, 9, 0, 9, 0] },
});

test("ir tree: left on <=, negative children are leaves, argmax class", () => {
  const t = validateIr(tree());
  assert.deepEqual(evaluateIr(t, [5, -3]), { class: 0, scores: [9, 0, 0] });
  assert.deepEqual(evaluateIr(t, [5, -2]), { class: 1, scores: [0, 9, 0] });
  assert.deepEqual(evaluateIr(t, [6, -100]), { class: 2, scores: [0, 0, 9] });
  assert.deepEqual(evaluateIr(t, [INT32_MIN, INT32_MIN]).class, 0);
});

test("ir: ties go to the lowest class; one score means class 1 only when > 0", () => {
  const t = tree();
  t.tree.leafValue = [4, 4, 0, 0, 7, 7, 1, 2, 2];
  assert.equal(evaluateIr(validateIr(t), [0, -5]).class, 0);
  assert.equal(evaluateIr(validateIr(t), [0, 0]).class, 1);
  assert.equal(evaluateIr(validateIr(t), [9, 0]).class, 1);
  const lin: IrLinear = { ...base(1), kind: "linear", nScores: 1, weights: [1], bias: [0n], shift: 0 };
  assert.equal(evaluateIr(validateIr(lin), [0]).class, 0);
  assert.equal(evaluateIr(validateIr(lin), [1]).class, 1);
});

test("ir linear: arithmetic shift floors negative accumulators; scores clamp to int32", () => {
  const lin: IrLinear = { ...base(1), kind: "linear", nScores: 1, weights: [3], bias: [-10n], shift: 2 };
  assert.deepEqual(evaluateIr(validateIr(lin), [1]).scores, [-2]); // -7 >> 2 = floor(-1.75)
  assert.deepEqual(evaluateIr(validateIr(lin), [6]).scores, [2]); // 8 >> 2
  const big: IrLinear = { ...base(2), kind: "linear", nScores: 1, weights: [INT32_MAX, INT32_MAX], bias: [0n], shift: 0 };
  assert.deepEqual(evaluateIr(validateIr(big), [INT32_MAX, 1]).scores, [INT32_MAX]);
  assert.deepEqual(evaluateIr(validateIr(big), [INT32_MIN, 0]).scores, [INT32_MIN]);
});

/** Independent BigInt reference of the linear and MLP semantics in ir/types.ts. */
function reference(ir: IrLinear | IrMlp, x: number[]): number[] {
  const clamp = (v: bigint, lo: bigint, hi: bigint) => (v < lo ? lo : v > hi ? hi : v);
  if (ir.kind === "linear") {
    return Array.from({ length: ir.nScores }, (_, s) => {
      let acc = ir.bias[s]!;
      x.forEach((xj, j) => (acc += BigInt(ir.weights[s * ir.nFeatures + j]!) * BigInt(xj)));
      return Number(clamp(acc >> BigInt(ir.shift), BigInt(INT32_MIN), BigInt(INT32_MAX)));
    });
  }
  let a = x.map((xj, j) => clamp((BigInt(xj) * BigInt(ir.input.mul[j]!) + ir.input.add[j]!) >> BigInt(ir.input.shift[j]!), BigInt(-ir.input.max), BigInt(ir.input.max)));
  for (const l of ir.layers) {
    a = Array.from({ length: l.nOut }, (_, o) => {
      let acc = BigInt(l.bias[o]!);
      a.forEach((ai, i) => (acc += BigInt(l.weights[o * l.nIn + i]!) * ai));
      let r = l.shift > 0 ? (acc + (1n << BigInt(l.shift - 1))) >> BigInt(l.shift) : acc;
      if (l.activation === "relu") r = clamp(r, 0n, 32767n);
      return r;
    });
  }
  return a.map(Number);
}

function randInt32(rng: Rng): number {
  const k = rng.int(4);
  return k === 0 ? INT32_MIN + rng.int(3) : k === 1 ? INT32_MAX - rng.int(3) : (rng.nextU32() | 0) >> rng.int(31);
}

test("ir linear and mlp: the evaluator equals a BigInt reference on random models and extreme inputs", () => {
  const rng = new Rng(42);
  for (let trial = 0; trial < 60; trial++) {
    const F = 1 + rng.int(6);
    const lin: IrLinear = {
      ...base(F, 3),
      kind: "linear",
      nScores: 3,
      weights: Array.from({ length: 3 * F }, () => (rng.nextU32() | 0) >> (2 + rng.int(30))),
      bias: Array.from({ length: 3 }, () => BigInt((rng.nextU32() | 0) >> rng.int(31)) << BigInt(rng.int(30))),
      shift: rng.int(40),
    };
    const mlp: IrMlp = {
      ...base(F),
      kind: "mlp",
      input: {
        mul: Array.from({ length: F }, () => (rng.nextU32() | 0) >> (1 + rng.int(30))),
        add: Array.from({ length: F }, () => BigInt((rng.nextU32() | 0) >> 1) << BigInt(rng.int(29))),
        shift: Array.from({ length: F }, () => rng.int(63)),
        max: 1 + rng.int(32767),
      },
      layers: [
        { nIn: F, nOut: 4, weights: Array.from({ length: 4 * F }, () => rng.int(255) - 127), bias: Array.from({ length: 4 }, () => rng.int(2001) - 1000), shift: rng.int(12), activation: "relu" },
        { nIn: 4, nOut: 2, weights: Array.from({ length: 8 }, () => rng.int(255) - 127), bias: [rng.int(100), -rng.int(100)], shift: rng.int(4), activation: "none" },
      ],
    };
    for (const ir of [lin, mlp]) {
      validateIr(ir);
      for (let k = 0; k < 20; k++) {
        const x = Array.from({ length: F }, () => randInt32(rng));
        assert.deepEqual(evaluateIr(ir, x).scores, reference(ir, x), `${ir.kind} trial ${trial} x=${x}`);
      }
    }
  }
});

test("ir mlp: input requantization rounds, clamps, relu saturates", () => {
  const mlp: IrMlp = {
    ...base(1),
    kind: "mlp",
    input: { mul: [3], add: [2n], shift: [2], max: 100 },
    layers: [
      { nIn: 1, nOut: 2, weights: [1, -1], bias: [0, 0], shift: 1, activation: "relu" },
      { nIn: 2, nOut: 2, weights: [1, 0, 0, 1], bias: [0, 0], shift: 0, activation: "none" },
    ],
  };
  validateIr(mlp);
  assert.deepEqual(evaluateIr(mlp, [5]), { class: 0, scores: [2, 0] }); // (15+2)>>2 = 4; (4+1)>>1 = 2
  assert.deepEqual(evaluateIr(mlp, [-5]), { class: 1, scores: [0, 2] }); // (-13)>>2 = -4; (4+1)>>1 = 2
  assert.deepEqual(evaluateIr(mlp, [1000]).scores, [50, 0]); // clamp 750 -> 100; (100+1)>>1 = 50
});

test("ir: inputs must be nFeatures int32 values", () => {
  const t = tree();
  assert.throws(() => evaluateIr(t, [1]), (e) => isKmlibError(e, "KMLIB_INVALID_ARGUMENT") && /feature count mismatch/.test(e.message));
  assert.throws(() => evaluateIr(t, [1, 2 ** 31]), /not an int32/);
  assert.throws(() => evaluateIr(t, [1, 0.5]), /not an int32/);
});

function expectInvalid(m: unknown, field: RegExp): void {
  assert.throws(() => validateIr(m), (e) => isKmlibError(e, "KMLIB_INVALID_MODEL") && field.test(e.message), `expected an error naming ${field}`);
}

test("validateIr: names the offending field", () => {
  const mutate = (f: (t: IrTreeModel) => void) => {
    const t = tree();
    f(t);
    return t;
  };
  expectInvalid({ ...tree(), kind: "svm" }, /kind: unsupported model kind "svm"/);
  expectInvalid(mutate((t) => (t.tree.feature[1] = 2)), /tree\.feature\[1\]: 2 outside/);
  expectInvalid(mutate((t) => (t.tree.threshold[0] = 1.5)), /tree\.threshold\[0\]: expected an integer/);
  expectInvalid(mutate((t) => (t.tree.left[1] = 0)), /tree\.left\[1\]: child node 0 does not come after/);
  expectInvalid(mutate((t) => (t.tree.right[1] = -1)), /tree\.right\[1\]: leaf 0 is referenced twice/);
  expectInvalid(mutate((t) => t.tree.leafValue.pop()), /tree\.leafValue: expected 9 entries/);
  expectInvalid(mutate((t) => (t.quant[0]!.scale = 0)), /quant\[0\]\.scale/);
  expectInvalid(mutate((t) => (t.featureNames = ["a"])), /featureNames/);
  const forest = { ...base(1), kind: "forest", vote: "soft", trees: [0, 1, 2].map(() => ({ feature: [], threshold: [], left: [], right: [], leafValue: [2 ** 30, 0] })) };
  expectInvalid(forest, /trees: scores can reach 3221225472, beyond int32/);
  const lin = { ...base(3), kind: "linear", nScores: 1, weights: [INT32_MAX, INT32_MAX, INT32_MAX], bias: [0n], shift: 0 };
  expectInvalid(lin, /weights\[0\.\.\]: score 0 accumulator can reach .* beyond int64/);
  expectInvalid({ ...lin, weights: [1, 1, 1], bias: [1] }, /bias\[0\]: expected a bigint/);
  const mlp = (w: number, nIn = 1) => ({
    ...base(nIn),
    kind: "mlp",
    input: { mul: Array(nIn).fill(1), add: Array(nIn).fill(0n), shift: Array(nIn).fill(0), max: 32767 },
    layers: [{ nIn, nOut: 2, weights: Array(2 * nIn).fill(w), bias: [0, 0], shift: 0, activation: "none" }],
  });
  validateIr(mlp(127));
  expectInvalid(mlp(200), /layers\[0\]\.weights\[0\]: 200 outside \[-128, 127\]/);
  expectInvalid(mlp(127, 600), /layers\[0\]\.weights\[0\.\.\]: accumulator of output 0 can reach .* beyond int32/);
});

test("serialization: versioned JSON, int64 as decimal strings, round trip, clear errors", () => {
  const lin: IrLinear = { ...base(2), kind: "linear", nScores: 1, weights: [5, -7], bias: [-(2n ** 61n) + 3n], shift: 3 };
  const text = serializeIr(lin);
  const doc = JSON.parse(text);
  assert.equal(doc.format, "kmlib-ir");
  assert.equal(doc.version, 1);
  assert.equal(doc.model.bias[0], "-2305843009213693949");
  const back = parseIr(text) as IrLinear;
  assert.equal(back.bias[0], lin.bias[0]);
  assert.deepEqual(evaluateIr(back, [123456, -99]), evaluateIr(lin, [123456, -99]));
  const bad = (t: string, re: RegExp) => assert.throws(() => parseIr(t), (e) => isKmlibError(e, "KMLIB_INVALID_MODEL") && re.test(e.message));
  bad("{not json", /not JSON/);
  bad(JSON.stringify({ ...doc, format: "onnx" }), /format: expected "kmlib-ir"/);
  bad(JSON.stringify({ ...doc, version: 9 }), /version: unsupported version 9/);
  bad(JSON.stringify({ ...doc, model: { ...doc.model, bias: ["1.5"] } }), /bias\[0\]: expected an int64/);
  const t = tree();
  assert.deepEqual(parseIr(serializeIr(t)), t);
});

test("quantization: formula, clamping, NaN/Infinity, identity, fitted power-of-two scales", () => {
  assert.equal(quantizeValue(2.5, { scale: 1, offset: 0 }), 3);
  assert.equal(quantizeValue(-2.5, { scale: 1, offset: 0 }), -2);
  assert.equal(quantizeValue(1.25, { scale: 4, offset: -1 }), 4);
  assert.equal(quantizeValue(NaN, { scale: 4, offset: 7 }), 7);
  assert.equal(quantizeValue(Infinity, { scale: 1, offset: 0 }), INT32_MAX);
  assert.equal(quantizeValue(-1e300, { scale: 1, offset: 0 }), INT32_MIN);
  assert.deepEqual([...quantizeRow([7, -3], identityQuant(2))], [7, -3]);
  const ds = makeDataset({ x: Float64Array.from([1000, 0.001, -3e9, 0, 5, 0]), y: Int32Array.from([0, 1, 0]), featureNames: ["a", "b"], classNames: ["n", "p"] });
  const q = fitQuant(ds);
  for (const [j, maxAbs] of [[0, 3e9], [1, 0.001]] as const) {
    const e = Math.log2(q[j]!.scale);
    assert.ok(Number.isInteger(e), "power of two");
    assert.ok(maxAbs * q[j]!.scale <= 2 ** 30 && maxAbs * q[j]!.scale > 2 ** 29, `feature ${j} uses the range`);
  }
});

test("quantization: for integer-valued features the integer split equals the float split", () => {
  const rng = new Rng(5);
  for (let trial = 0; trial < 200; trial++) {
    const scale = 2 ** rng.int(8);
    const q = { scale, offset: rng.int(1000) - 500 };
    const a = rng.int(20001) - 10000;
    const t = a + (1 + rng.int(5)) / 2; // a midpoint between integers, as CART makes
    const T = quantizeThreshold(t, q);
    for (let x = a - 5; x <= a + 5; x++) assert.equal(quantizeValue(x, q) <= T, x <= t, `x=${x} t=${t} scale=${scale}`);
  }
});
