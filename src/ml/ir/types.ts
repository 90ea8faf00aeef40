/**
 * @module ml/ir/types
 * THE INTEGER FORM: one neutral intermediate form for every model kmlib runs in the kernel.
 * Every code generator (eBPF inline/table, C) reads only this form, and `evaluateIr` in
 * `./evaluate.ts` is its reference semantics. This comment is the contract.
 *
 * ## Inputs
 * A model reads `nFeatures` signed 32-bit integers `x[0..nFeatures)`. They arrive in the
 * kernel already as integers (netguard's flow counters use the identity quantization). When
 * features start as floats, user space quantizes feature j with `quant[j] = {scale, offset}`:
 *
 *     x[j] = clamp(floor(v * scale + 0.5) + offset, -2^31, 2^31 - 1)      (float64 arithmetic)
 *
 * with NaN -> offset, +Infinity -> 2^31 - 1, -Infinity -> -2^31. Identity: scale 1, offset 0.
 * Quantization never runs in the kernel; it only tells user space how to feed the model.
 *
 * ## Trees (kinds tree, forest, boosted)
 * A tree is flat arrays over its internal nodes, node 0 the root (emlearn's layout):
 * `feature[n]`, `threshold[n]` (int32), `left[n]`, `right[n]`. The walk goes to `left[n]`
 * when `x[feature[n]] <= threshold[n]` (signed 32-bit compare), else to `right[n]`. A child
 * `c >= 0` is an internal node and always `c > n` (so every walk ends within `nNodes` steps);
 * a child `c < 0` is leaf `-c - 1`. A tree with no internal node is leaf 0. Every node but
 * the root and every leaf is referenced exactly once. Leaf `l` holds `width` int32 values at
 * `leafValue[l * width ..]`; width = nClasses for tree and forest, 1 for boosted.
 * - tree:    scores[c] = leafValue[leaf * nClasses + c]
 * - forest:  scores[c] = sum over trees of leafValue_t[leaf_t * nClasses + c]
 *            (vote "soft": leaves are class probabilities in fixed point; "majority": one-hot)
 * - boosted: scores[s] = bias[s] + sum over trees t with treeScore[t] = s of leafValue_t[leaf_t]
 *
 * ## Linear (logistic regression)
 *     acc[s]    = bias[s] + sum_j weights[s * nFeatures + j] * x[j]        (signed 64-bit)
 *     scores[s] = clamp(acc[s] >> shift, -2^31, 2^31 - 1)                 (arithmetic shift)
 * weights are int32, bias int64 (a decimal string in JSON).
 *
 * ## MLP (int8 weights, int16-range activations, int32 accumulators)
 *     a[j]    = clamp((x[j] * input.mul[j] + input.add[j]) >> input.shift[j], -input.max, input.max)
 *     per layer, for each output o (weights row-major nOut x nIn, int8; bias int32):
 *       acc[o] = bias[o] + sum_i weights[o * nIn + i] * a[i]
 *       r[o]   = shift > 0 ? (acc[o] + 2^(shift - 1)) >> shift : acc[o]   (round half up)
 *       out[o] = activation "relu" ? min(max(r[o], 0), MLP_ACT_MAX) : r[o]
 *     scores = the last layer's out.
 * input.mul is int32, input.add int64 (decimal string in JSON), input.max <= MLP_ACT_MAX.
 *
 * ## Decision and arithmetic
 * One score: class = scores[0] > 0 ? 1 : 0. Several: the index of the largest score, the
 * lowest index winning a tie. Every operation is add, sub, mul, arithmetic right shift by a
 * constant, compare, or min/max: no division, no floating point. All arithmetic may be done in
 * signed 64-bit; `validateIr` proves for EVERY int32 input that no 64-bit intermediate
 * overflows, and moreover that every tree-ensemble score (each partial sum included) and every
 * MLP accumulator fits in int32, so 32-bit code is exact there too. Overflow is therefore
 * impossible in a valid model, not merely defined. Scores are int32 in every kind and stand
 * for real values scaled by 2^scoreFracBits (approximately; for confidence thresholds).
 */

export const IR_FORMAT = "kmlib-ir";
export const IR_VERSION = 1;
export const INT32_MIN = -2147483648;
export const INT32_MAX = 2147483647;
/** Largest MLP activation (int16 range), the saturation point of relu layers and the input. */
export const MLP_ACT_MAX = 32767;

export interface FeatureQuant {
  /** Positive finite multiplier (a power of two when chosen by kmlib, so x * scale is exact). */
  scale: number;
  /** int32 added after rounding. */
  offset: number;
}

export interface IrTree {
  feature: number[];
  threshold: number[];
  left: number[];
  right: number[];
  leafValue: number[];
}

interface IrBase {
  nFeatures: number;
  nClasses: number;
  featureNames: string[];
  classNames: string[];
  quant: FeatureQuant[];
  /** Scores represent real values times 2^scoreFracBits (informative). */
  scoreFracBits: number;
}

export interface IrTreeModel extends IrBase {
  kind: "tree";
  tree: IrTree;
}

export interface IrForest extends IrBase {
  kind: "forest";
  vote: "soft" | "majority";
  trees: IrTree[];
}

export interface IrBoosted extends IrBase {
  kind: "boosted";
  trees: IrTree[];
  /** Which score each tree adds to. */
  treeScore: number[];
  /** Initial value of each score (int32); its length is the number of scores. */
  bias: number[];
}

export interface IrLinear extends IrBase {
  kind: "linear";
  nScores: number;
  /** int32, row-major nScores x nFeatures. */
  weights: number[];
  /** int64. */
  bias: bigint[];
  shift: number;
}

export interface IrMlpInput {
  /** int32 per feature. */
  mul: number[];
  /** int64 per feature. */
  add: bigint[];
  /** Per feature, in [0, 62]. */
  shift: number[];
  /** Inputs are clamped to [-max, max]. */
  max: number;
}

export interface IrMlpLayer {
  nIn: number;
  nOut: number;
  /** int8, row-major nOut x nIn. */
  weights: number[];
  /** int32. */
  bias: number[];
  /** In [0, 30]. */
  shift: number;
  activation: "relu" | "none";
}

export interface IrMlp extends IrBase {
  kind: "mlp";
  input: IrMlpInput;
  layers: IrMlpLayer[];
}

export type IrModel = IrTreeModel | IrForest | IrBoosted | IrLinear | IrMlp;
export type IrKind = IrModel["kind"];

export interface IrResult {
  class: number;
  scores: number[];
}

/** Number of scores a model outputs. */
export function irScoreCount(ir: IrModel): number {
  switch (ir.kind) {
    case "tree":
    case "forest":
      return ir.nClasses;
    case "boosted":
      return ir.bias.length;
    case "linear":
      return ir.nScores;
    case "mlp":
      return ir.layers[ir.layers.length - 1]!.nOut;
  }
}

/** The trees of a tree-based model (empty for linear and mlp). */
export function irTrees(ir: IrModel): IrTree[] {
  switch (ir.kind) {
    case "tree":
      return [ir.tree];
    case "forest":
    case "boosted":
      return ir.trees;
    case "linear":
    case "mlp":
      return [];
  }
}
