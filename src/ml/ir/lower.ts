/**
 * @module ml/ir/lower
 * Lowers a trained float model to the integer form: quantized thresholds, fixed-point leaf
 * scores and sums, folded standardisation for linear models, int8 weights with per-layer
 * requantization shifts for perceptrons. Fixed-point widths are chosen as large as the
 * overflow bounds of `validateIr` allow, and the result is validated before it is returned.
 */
import { assertNever, ErrorCode, KmlibError } from "../../errors.ts";
import type { Dataset } from "../dataset/dataset.ts";
import { denseForward } from "../model/predict.ts";
import type { FlatTree, LinearModel, MlpModel, Model } from "../model/types.ts";
import { int8Exponent } from "../train/mlp.ts";
import { fitQuant, identityQuant, quantizeThreshold } from "./quantize.ts";
import { INT32_MAX, MLP_ACT_MAX, type FeatureQuant, type IrMlpLayer, type IrModel, type IrTree } from "./types.ts";
import { validateIr } from "./validate.ts";

export interface LowerOptions {
  /**
   * Feature quantization: "identity" (features already integers), "fit" (power-of-two scales
   * from `data`), or one {scale, offset} per feature. Default: "fit" when `data` is given.
   */
  quant?: "identity" | "fit" | FeatureQuant[];
  /** Training rows: fit the quantization, and calibrate perceptron activation ranges. */
  data?: Dataset;
  /** Fraction bits of tree / soft-forest leaf probabilities (lowered if the sum would overflow). Default 16. */
  leafFracBits?: number;
}

/** Math.round without negative zero (so files and generated code never show -0). */
function round(v: number): number {
  return Math.round(v) || 0;
}

function fail(msg: string): never {
  throw new KmlibError(ErrorCode.InvalidModel, msg);
}

function lowerTree(t: FlatTree, quant: readonly FeatureQuant[], leafScale: number): IrTree {
  return {
    feature: Array.from(t.feature),
    threshold: Array.from(t.threshold, (th, n) => quantizeThreshold(th, quant[t.feature[n]!]!)),
    left: Array.from(t.left),
    right: Array.from(t.right),
    leafValue: Array.from(t.leafValue, (v) => round(v * leafScale)),
  };
}

function resolveQuant(m: Model, opts: LowerOptions): FeatureQuant[] {
  const q = opts.quant ?? (opts.data ? "fit" : "identity");
  if (q === "identity") return identityQuant(m.nFeatures);
  if (q === "fit") {
    if (!opts.data) fail("lowering with quant \"fit\" needs the training data");
    if (opts.data.nFeatures !== m.nFeatures) fail(`feature count mismatch: model has ${m.nFeatures} features, data ${opts.data.nFeatures}`);
    return fitQuant(opts.data);
  }
  if (q.length !== m.nFeatures) fail(`feature count mismatch: model has ${m.nFeatures} features, quantization ${q.length}`);
  return q.map((e) => ({ scale: e.scale, offset: e.offset }));
}

export function lowerModel(m: Model, opts: LowerOptions = {}): IrModel {
  const quant = resolveQuant(m, opts);
  const base = {
    nFeatures: m.nFeatures,
    nClasses: m.classNames.length,
    featureNames: [...m.featureNames],
    classNames: [...m.classNames],
    quant,
  };
  const fb = opts.leafFracBits ?? 16;
  let ir: IrModel;
  switch (m.kind) {
    case "tree":
      ir = { ...base, kind: "tree", scoreFracBits: fb, tree: lowerTree(m.tree, quant, 2 ** fb) };
      break;
    case "forest": {
      // Soft: sum of fixed-point probabilities, each tree at most 2^bits.
      const bits = m.vote === "majority" ? 0 : Math.min(fb, Math.floor(Math.log2(INT32_MAX / m.trees.length)));
      ir = { ...base, kind: "forest", vote: m.vote, scoreFracBits: bits, trees: m.trees.map((t) => lowerTree(t, quant, 2 ** bits)) };
      break;
    }
    case "boosted": {
      const nScores = m.bias.length;
      const bound = Array.from(m.bias, (b) => Math.abs(b));
      m.trees.forEach((t, i) => (bound[m.treeScore[i]!]! += t.leafValue.reduce((a, v) => Math.max(a, Math.abs(v)), 0)));
      const worst = Math.max(...bound, 1e-300);
      // Each rounding adds at most 1/2, hence the margin of one unit per tree.
      const bits = Math.min(30, Math.floor(Math.log2((INT32_MAX - m.trees.length - nScores) / worst)));
      if (bits < 0) fail(`boosted model scores reach ${worst}: too large for int32 fixed point`);
      const s = 2 ** bits;
      ir = {
        ...base,
        kind: "boosted",
        scoreFracBits: bits,
        trees: m.trees.map((t) => lowerTree(t, quant, s)),
        treeScore: Array.from(m.treeScore),
        bias: Array.from(m.bias, (b) => round(b * s)),
      };
      break;
    }
    case "linear":
      ir = { ...base, ...lowerLinear(m, quant) };
      break;
    case "mlp":
      ir = { ...base, ...lowerMlp(m, quant, opts.data) };
      break;
    default:
      return assertNever(m, "model kind");
  }
  return validateIr(ir);
}

/** Largest integer e with |v| * 2^e <= limit (Infinity-safe for v = 0). */
function fitExp(v: number, limit: number): number {
  return v === 0 ? Infinity : Math.floor(Math.log2(limit / Math.abs(v)));
}

function lowerLinear(m: LinearModel, quant: readonly FeatureQuant[]) {
  const F = m.nFeatures;
  const { mean, std } = m.standardizer;
  // Real weight per unit of the integer feature, and the folded bias.
  const w = new Float64Array(m.weights.length);
  const b = Float64Array.from(m.bias);
  for (let c = 0; c < m.nScores; c++) {
    for (let j = 0; j < F; j++) {
      const q = quant[j]!;
      const wc = m.weights[c * F + j]!;
      w[c * F + j] = wc / (std[j]! * q.scale);
      b[c]! -= (wc * (mean[j]! + q.offset / q.scale)) / std[j]!;
    }
  }
  // sum |W| <= 2^30 keeps |acc| <= 2^30 * 2^31 + |B| < 2^63 with |B| <= 2^61.
  let S = 62;
  for (let c = 0; c < m.nScores; c++) {
    let sum = 0;
    for (let j = 0; j < F; j++) sum += Math.abs(w[c * F + j]!);
    S = Math.min(S, fitExp(sum, 2 ** 30 - F), fitExp(b[c]!, 2 ** 61));
  }
  if (S < 0) fail("linear model weights too large for int32 fixed point with this feature quantization");
  const scale = 2 ** S;
  const fracBits = Math.min(S, 16);
  return {
    kind: "linear" as const,
    nScores: m.nScores,
    weights: Array.from(w, (v) => round(v * scale)),
    bias: Array.from(b, (v) => BigInt(Math.round(v * scale))),
    shift: S - fracBits,
    scoreFracBits: fracBits,
  };
}

function lowerMlp(m: MlpModel, quant: readonly FeatureQuant[], data: Dataset | undefined) {
  const F = m.nFeatures;
  const { mean, std } = m.standardizer;
  const ka = Math.floor(Math.log2(MLP_ACT_MAX / m.inputClip));
  const inMax = Math.round(m.inputClip * 2 ** ka);
  const mul: number[] = [];
  const add: bigint[] = [];
  const shift: number[] = [];
  for (let j = 0; j < F; j++) {
    const q = quant[j]!;
    const mulReal = 2 ** ka / (q.scale * std[j]!);
    const addReal = (-(q.offset / q.scale + mean[j]!) / std[j]!) * 2 ** ka;
    const sh = Math.min(62, fitExp(mulReal, 2 ** 30), fitExp(Math.abs(addReal) + 1, 2 ** 60));
    if (sh < 0) fail(`perceptron input ${j} (${m.featureNames[j]}): quantization scale too small for an int32 multiplier`);
    mul.push(round(mulReal * 2 ** sh));
    add.push(BigInt(Math.round(addReal * 2 ** sh)) + (sh > 0 ? 1n << BigInt(sh - 1) : 0n));
    shift.push(sh);
  }
  // Calibration: the largest activation of each hidden layer on the data (float model).
  const maxAct = m.layers.map(() => 0);
  if (data) {
    for (let r = 0; r < data.nRows; r++) {
      let a: Float64Array = new Float64Array(F);
      for (let j = 0; j < F; j++) a[j] = Math.min(m.inputClip, Math.max(-m.inputClip, (data.x[r * F + j]! - mean[j]!) / std[j]!));
      m.layers.forEach((layer, l) => {
        a = denseForward(layer, a);
        for (const v of a) maxAct[l] = Math.max(maxAct[l]!, Math.abs(v));
      });
    }
  }
  const layers: IrMlpLayer[] = [];
  let eIn = ka;
  let fracBits = 0;
  m.layers.forEach((layer, l) => {
    const kw = m.weightExp?.[l] ?? int8Exponent(layer.weights);
    const weights = Array.from(layer.weights, (v) => Math.max(-127, Math.min(127, round(v * 2 ** kw))));
    const eAcc = eIn + kw;
    const bias = Array.from(layer.bias, (v) => round(v * 2 ** eAcc));
    const last = l === m.layers.length - 1;
    let sh = 0;
    if (!last) {
      // Without calibration data, the worst case bounds the activation instead.
      let mx = maxAct[l]!;
      if (!data) {
        const inMaxReal = l === 0 ? m.inputClip : MLP_ACT_MAX / 2 ** eIn;
        for (let o = 0; o < layer.nOut; o++) {
          let s = Math.abs(layer.bias[o]!);
          for (let i = 0; i < layer.nIn; i++) s += Math.abs(layer.weights[o * layer.nIn + i]!) * inMaxReal;
          mx = Math.max(mx, s);
        }
      }
      const eOut = mx > 0 ? Math.min(eAcc, Math.floor(Math.log2(MLP_ACT_MAX / mx))) : eAcc;
      sh = Math.min(30, Math.max(0, eAcc - eOut));
      eIn = eAcc - sh;
    } else {
      fracBits = Math.max(0, eAcc);
    }
    layers.push({ nIn: layer.nIn, nOut: layer.nOut, weights, bias, shift: sh, activation: layer.activation });
  });
  return { kind: "mlp" as const, input: { mul, add, shift, max: inMax }, layers, scoreFracBits: fracBits };
}
