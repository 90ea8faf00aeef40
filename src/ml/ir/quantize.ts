/**
 * @module ml/ir/quantize
 * Feature quantization: float features to the int32 inputs of the integer form, with the
 * formula stated in `./types.ts`. Scales are chosen from training data as powers of two, so
 * `v * scale` is exact and integer-valued features stay exact.
 */
import { ErrorCode, KmlibError } from "../../errors.ts";
import type { Dataset } from "../dataset/dataset.ts";
import { INT32_MAX, INT32_MIN, type FeatureQuant } from "./types.ts";

/** Largest magnitude a fitted quantization maps the training data to (headroom x2 below int32). */
export const QUANT_TARGET = 2 ** 30;
const MIN_EXP = -32;
const MAX_EXP = 40;

export function quantizeValue(v: number, q: FeatureQuant): number {
  if (Number.isNaN(v)) return q.offset;
  const r = Math.floor(v * q.scale + 0.5) + q.offset;
  return r > INT32_MAX ? INT32_MAX : r < INT32_MIN ? INT32_MIN : r;
}

/** Quantizes one row (length = quant.length). */
export function quantizeRow(row: ArrayLike<number>, quant: readonly FeatureQuant[]): Int32Array {
  const out = new Int32Array(quant.length);
  for (let j = 0; j < quant.length; j++) out[j] = quantizeValue(row[j]!, quant[j]!);
  return out;
}

/** Quantizes every row: a row-major Int32Array. */
export function quantizeDataset(ds: Dataset, quant: readonly FeatureQuant[]): Int32Array {
  if (quant.length !== ds.nFeatures) {
    throw new KmlibError(ErrorCode.InvalidArgument, `feature count mismatch: quantization has ${quant.length} features, dataset ${ds.nFeatures}`);
  }
  const f = ds.nFeatures;
  const out = new Int32Array(ds.nRows * f);
  for (let i = 0; i < ds.nRows * f; i++) out[i] = quantizeValue(ds.x[i]!, quant[i % f]!);
  return out;
}

/** scale 1, offset 0 for every feature: for features that already are integers (counters). */
export function identityQuant(nFeatures: number): FeatureQuant[] {
  return Array.from({ length: nFeatures }, () => ({ scale: 1, offset: 0 }));
}

/**
 * Per feature, the power-of-two scale that maps the largest finite training magnitude to at
 * most 2^30 (offset 0); a constant-zero feature gets scale 1.
 */
export function fitQuant(ds: Dataset): FeatureQuant[] {
  const f = ds.nFeatures;
  const maxAbs = new Float64Array(f);
  for (let i = 0; i < ds.nRows * f; i++) {
    const v = Math.abs(ds.x[i]!);
    if (Number.isFinite(v) && v > maxAbs[i % f]!) maxAbs[i % f] = v;
  }
  return Array.from(maxAbs, (m) => {
    if (m === 0) return { scale: 1, offset: 0 };
    const e = Math.min(MAX_EXP, Math.max(MIN_EXP, Math.floor(Math.log2(QUANT_TARGET / m))));
    return { scale: 2 ** e, offset: 0 };
  });
}

/**
 * The int32 threshold T for a float split `v <= t`: T = clamp(floor(t * scale) + offset).
 * When v * scale is an integer (integer features, power-of-two scale >= 1) the integer test
 * x <= T is exactly the float test; otherwise they can differ only within one quantum of t.
 */
export function quantizeThreshold(t: number, q: FeatureQuant): number {
  if (t === Infinity) return INT32_MAX;
  if (t === -Infinity) return INT32_MIN;
  const r = Math.floor(t * q.scale) + q.offset;
  return r > INT32_MAX ? INT32_MAX : r < INT32_MIN ? INT32_MIN : r;
}
