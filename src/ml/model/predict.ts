/**
 * @module ml/model/predict
 * Floating-point inference for every model kind, and the class decision rule shared with the
 * integer form: one score means class 1 when the score > 0 (else 0); several scores mean the
 * index of the largest, the lowest index winning a tie.
 */
import { assertNever, ErrorCode, KmlibError } from "../../errors.ts";
import type { Dataset } from "../dataset/dataset.ts";
import type { FlatTree, Model } from "./types.ts";

type Row = ArrayLike<number>;

/** Index of the leaf a row reaches. */
export function treeLeaf(t: FlatTree, x: Row): number {
  if (t.feature.length === 0) return 0;
  let n = 0;
  for (;;) {
    const c = x[t.feature[n]!]! <= t.threshold[n]! ? t.left[n]! : t.right[n]!;
    if (c < 0) return -c - 1;
    n = c;
  }
}

/** The class rule (also the integer form's, `irDecide`): one score -> (score > 0); several -> first index of the maximum. */
export function decide(scores: ArrayLike<number>): number {
  if (scores.length === 1) return scores[0]! > 0 ? 1 : 0;
  let best = 0;
  for (let i = 1; i < scores.length; i++) if (scores[i]! > scores[best]!) best = i;
  return best;
}

export function scoreCount(m: Model): number {
  switch (m.kind) {
    case "tree":
    case "forest":
      return m.classNames.length;
    case "boosted":
      return m.bias.length;
    case "linear":
      return m.nScores;
    case "mlp":
      return m.layers[m.layers.length - 1]!.nOut;
    default:
      return assertNever(m, "model kind");
  }
}

/** Standardised, optionally clipped inputs. */
function standardize(m: { standardizer: { mean: Float64Array; std: Float64Array } }, x: Row, clip = Infinity): Float64Array {
  const { mean, std } = m.standardizer;
  const z = new Float64Array(mean.length);
  for (let j = 0; j < z.length; j++) z[j] = Math.min(clip, Math.max(-clip, (x[j]! - mean[j]!) / std[j]!));
  return z;
}

/** Raw scores (probabilities, margins or logits, by kind) of one row. */
export function predictScores(m: Model, x: Row): Float64Array {
  switch (m.kind) {
    case "tree": {
      const w = m.tree.width;
      const l = treeLeaf(m.tree, x);
      return m.tree.leafValue.slice(l * w, l * w + w);
    }
    case "forest": {
      const k = m.classNames.length;
      const s = new Float64Array(k);
      for (const t of m.trees) {
        const l = treeLeaf(t, x);
        for (let c = 0; c < k; c++) s[c]! += t.leafValue[l * k + c]!;
      }
      if (m.vote === "soft") for (let c = 0; c < k; c++) s[c]! /= m.trees.length;
      return s;
    }
    case "boosted": {
      const s = Float64Array.from(m.bias);
      m.trees.forEach((t, i) => (s[m.treeScore[i]!]! += t.leafValue[treeLeaf(t, x)]!));
      return s;
    }
    case "linear": {
      const z = standardize(m, x);
      const f = m.nFeatures;
      const s = Float64Array.from(m.bias);
      for (let c = 0; c < m.nScores; c++) for (let j = 0; j < f; j++) s[c]! += m.weights[c * f + j]! * z[j]!;
      return s;
    }
    case "mlp": {
      let a = standardize(m, x, m.inputClip);
      for (const layer of m.layers) a = denseForward(layer, a);
      return a;
    }
    default:
      return assertNever(m, "model kind");
  }
}

export function denseForward(layer: { nIn: number; nOut: number; weights: Float64Array; bias: Float64Array; activation: "relu" | "none" }, a: Float64Array): Float64Array {
  const out = new Float64Array(layer.nOut);
  for (let o = 0; o < layer.nOut; o++) {
    let s = layer.bias[o]!;
    const base = o * layer.nIn;
    for (let i = 0; i < layer.nIn; i++) s += layer.weights[base + i]! * a[i]!;
    out[o] = layer.activation === "relu" && s < 0 ? 0 : s;
  }
  return out;
}

export function predictClass(m: Model, x: Row): number {
  return decide(predictScores(m, x));
}

/** Predicted class of every row of a dataset. */
export function predictDataset(m: Model, ds: Dataset): Int32Array {
  if (ds.nFeatures !== m.nFeatures) {
    throw new KmlibError(ErrorCode.InvalidArgument, `feature count mismatch: model expects ${m.nFeatures} features, dataset has ${ds.nFeatures}`);
  }
  const out = new Int32Array(ds.nRows);
  for (let r = 0; r < ds.nRows; r++) out[r] = predictClass(m, ds.x.subarray(r * ds.nFeatures, (r + 1) * ds.nFeatures));
  return out;
}
