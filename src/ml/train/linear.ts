/**
 * @module ml/train/linear
 * Logistic regression on standardised features: binary (sigmoid, one score) or multinomial
 * (softmax, one score per class), L2-regularised, trained by seeded mini-batch Adam.
 */
import type { Dataset } from "../dataset/dataset.ts";
import type { LinearModel } from "../model/types.ts";
import { Rng } from "../rng.ts";
import { Adam } from "./adam.ts";
import { fitStandardizer, standardizeMatrix } from "./standardize.ts";

export interface LinearOptions {
  epochs?: number;
  batchSize?: number;
  learningRate?: number;
  /** L2 penalty on the weights (per sample, like scikit-learn's 1 / (C * n)). Default 1e-4. */
  l2?: number;
  seed?: number;
}

export function trainLinear(ds: Dataset, opts: LinearOptions = {}): LinearModel {
  const K = ds.classNames.length;
  const S = K === 2 ? 1 : K;
  const F = ds.nFeatures;
  const n = ds.nRows;
  const standardizer = fitStandardizer(ds);
  const z = standardizeMatrix(ds, standardizer);
  // Parameters: S x F weights, then S biases.
  const params = new Float64Array(S * F + S);
  const grad = new Float64Array(params.length);
  const adam = new Adam(params, opts.learningRate ?? 0.01);
  const rng = new Rng(opts.seed ?? 1);
  const order = Int32Array.from({ length: n }, (_, i) => i);
  const batch = opts.batchSize ?? 128;
  const l2 = opts.l2 ?? 1e-4;
  const s = new Float64Array(S);
  for (let epoch = 0; epoch < (opts.epochs ?? 30); epoch++) {
    rng.shuffle(order);
    for (let b0 = 0; b0 < n; b0 += batch) {
      const b1 = Math.min(n, b0 + batch);
      grad.fill(0);
      for (let bi = b0; bi < b1; bi++) {
        const r = order[bi]!;
        const zr = r * F;
        for (let c = 0; c < S; c++) {
          let v = params[S * F + c]!;
          for (let j = 0; j < F; j++) v += params[c * F + j]! * z[zr + j]!;
          s[c] = v;
        }
        // s becomes dLoss/dscore.
        if (S === 1) s[0] = 1 / (1 + Math.exp(-s[0]!)) - ds.y[r]!;
        else {
          let m = -Infinity;
          for (let c = 0; c < S; c++) m = Math.max(m, s[c]!);
          let sum = 0;
          for (let c = 0; c < S; c++) sum += s[c] = Math.exp(s[c]! - m);
          for (let c = 0; c < S; c++) s[c] = s[c]! / sum - (ds.y[r] === c ? 1 : 0);
        }
        for (let c = 0; c < S; c++) {
          const d = s[c]!;
          if (d === 0) continue;
          for (let j = 0; j < F; j++) grad[c * F + j]! += d * z[zr + j]!;
          grad[S * F + c]! += d;
        }
      }
      const inv = 1 / (b1 - b0);
      for (let i = 0; i < grad.length; i++) grad[i]! *= inv;
      for (let i = 0; i < S * F; i++) grad[i]! += l2 * params[i]!;
      adam.step(grad);
    }
  }
  return {
    kind: "linear",
    standardizer,
    weights: params.slice(0, S * F),
    bias: params.slice(S * F),
    nScores: S,
    nFeatures: F,
    featureNames: [...ds.featureNames],
    classNames: [...ds.classNames],
  };
}
