/**
 * @module ml/train/standardize
 * Per-feature mean and standard deviation from training data (a constant column gets std 1,
 * so it maps to 0 instead of dividing by zero).
 */
import type { Dataset } from "../dataset/dataset.ts";
import type { Standardizer } from "../model/types.ts";

export function fitStandardizer(ds: Dataset): Standardizer {
  const f = ds.nFeatures;
  const mean = new Float64Array(f);
  const std = new Float64Array(f);
  for (let r = 0; r < ds.nRows; r++) for (let j = 0; j < f; j++) mean[j]! += ds.x[r * f + j]!;
  for (let j = 0; j < f; j++) mean[j]! /= Math.max(ds.nRows, 1);
  for (let r = 0; r < ds.nRows; r++) {
    for (let j = 0; j < f; j++) {
      const d = ds.x[r * f + j]! - mean[j]!;
      std[j]! += d * d;
    }
  }
  for (let j = 0; j < f; j++) {
    const s = Math.sqrt(std[j]! / Math.max(ds.nRows, 1));
    std[j] = s > 1e-12 * Math.max(1, Math.abs(mean[j]!)) ? s : 1;
  }
  return { mean, std };
}

/** Standardised copy of the feature matrix, values clipped to [-clip, clip]. */
export function standardizeMatrix(ds: Dataset, s: Standardizer, clip = Infinity): Float64Array {
  const f = ds.nFeatures;
  const z = new Float64Array(ds.nRows * f);
  for (let r = 0; r < ds.nRows; r++) {
    for (let j = 0; j < f; j++) z[r * f + j] = Math.min(clip, Math.max(-clip, (ds.x[r * f + j]! - s.mean[j]!) / s.std[j]!));
  }
  return z;
}
