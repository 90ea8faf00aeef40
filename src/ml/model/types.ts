/**
 * @module ml/model/types
 * The trained (floating-point) models, one discriminated union over every kind kmlib trains.
 * Trees are stored flat, exactly in the shape the integer form uses (see `ml/ir/types`), so
 * lowering a tree only quantizes its thresholds and leaves.
 */

/**
 * A binary tree as flat arrays over its internal nodes; node 0 is the root. A row goes left
 * when `x[feature[n]] <= threshold[n]`. A child index >= 0 is an internal node (always greater
 * than its parent's index); a negative child `c` is leaf `-c - 1`. A tree with no internal
 * node is the single leaf 0. Leaf `l` holds `width` values at `leafValue[l * width ...]`.
 */
export interface FlatTree {
  feature: Int32Array;
  threshold: Float64Array;
  left: Int32Array;
  right: Int32Array;
  leafValue: Float64Array;
  width: number;
}

interface ModelBase {
  nFeatures: number;
  featureNames: string[];
  classNames: string[];
}

/** One CART tree; leaves hold class probabilities (width = number of classes). */
export interface TreeModel extends ModelBase {
  kind: "tree";
  tree: FlatTree;
}

/**
 * A forest. "soft": leaves hold class probabilities and the scores are their mean;
 * "majority": leaves are one-hot and the scores are vote counts.
 */
export interface ForestModel extends ModelBase {
  kind: "forest";
  vote: "soft" | "majority";
  trees: FlatTree[];
}

/**
 * Gradient-boosted trees: score `treeScore[t]` gets tree t's leaf (width 1); plus `bias`.
 * One score (binary logloss: class 1 when the margin > 0) or one per class (softmax).
 */
export interface BoostedModel extends ModelBase {
  kind: "boosted";
  objective: "binary" | "multiclass";
  trees: FlatTree[];
  treeScore: Int32Array;
  bias: Float64Array;
}

/** Standardisation applied before linear and perceptron models: z = (x - mean) / std. */
export interface Standardizer {
  mean: Float64Array;
  std: Float64Array;
}

/**
 * Logistic regression over standardised features: score c = bias[c] + sum_j w[c, j] z_j;
 * one score (binary: class 1 when > 0) or one per class (multinomial: argmax).
 */
export interface LinearModel extends ModelBase {
  kind: "linear";
  standardizer: Standardizer;
  /** Row-major nScores x nFeatures. */
  weights: Float64Array;
  bias: Float64Array;
  nScores: number;
}

export interface DenseLayer {
  nIn: number;
  nOut: number;
  /** Row-major nOut x nIn. */
  weights: Float64Array;
  bias: Float64Array;
  activation: "relu" | "none";
}

/**
 * A small multilayer perceptron. Inputs are standardised and clipped to [-inputClip, inputClip]
 * (the integer form has a bounded input range, so the float model has the same bound). After
 * quantization-aware training every weight lies on its layer's int8 grid, w = k / 2^weightExp[l].
 */
export interface MlpModel extends ModelBase {
  kind: "mlp";
  standardizer: Standardizer;
  inputClip: number;
  layers: DenseLayer[];
  /** Per-layer power-of-two weight scale exponent, when the weights are on an int8 grid. */
  weightExp?: number[];
}

export type Model = TreeModel | ForestModel | BoostedModel | LinearModel | MlpModel;
export type ModelKind = Model["kind"];
export const MODEL_KINDS = ["tree", "forest", "boosted", "linear", "mlp"] as const satisfies readonly ModelKind[];
