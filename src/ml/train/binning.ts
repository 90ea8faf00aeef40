/**
 * @module ml/train/binning
 * Feature binning for histogram-based tree learners (as LightGBM and scikit-learn's
 * HistGradientBoosting do): each feature gets at most `maxBins` bins whose edges are midpoints
 * between adjacent distinct training values, so a split "bin <= b" is exactly the float test
 * "x <= edge[b]" on the training data, and trees keep real-valued thresholds.
 */
import type { Dataset } from "../dataset/dataset.ts";

export interface Binned {
  nRows: number;
  nFeatures: number;
  /** Column-major bin indices: feature f, row r at `bins[f * nRows + r]`. */
  bins: Uint8Array;
  /** Per feature, the thresholds between bins: bin b holds values <= edges[b] (and > edges[b-1]). */
  edges: Float64Array[];
}

export const MAX_BINS = 256;

/** Chooses bin edges on the training data and bins it. */
export function binDataset(ds: Dataset, maxBins = MAX_BINS): Binned {
  const n = ds.nRows;
  const f = ds.nFeatures;
  const nb = Math.min(Math.max(maxBins, 2), MAX_BINS);
  const bins = new Uint8Array(n * f);
  const edges: Float64Array[] = [];
  const col = new Float64Array(n);
  for (let j = 0; j < f; j++) {
    for (let r = 0; r < n; r++) col[r] = ds.x[r * f + j]!;
    const sorted = Float64Array.from(col).sort();
    // Distinct values with their counts.
    const vals: number[] = [];
    const counts: number[] = [];
    for (let i = 0; i < n; i++) {
      if (vals.length > 0 && sorted[i] === vals[vals.length - 1]) counts[counts.length - 1]!++;
      else {
        vals.push(sorted[i]!);
        counts.push(1);
      }
    }
    const e: number[] = [];
    if (vals.length <= nb) {
      for (let i = 0; i + 1 < vals.length; i++) e.push(midpoint(vals[i]!, vals[i + 1]!));
    } else {
      // Quantile cuts on the cumulative count, never two cuts in the same gap.
      let cum = 0;
      let next = 1;
      for (let i = 0; i + 1 < vals.length && e.length < nb - 1; i++) {
        cum += counts[i]!;
        if (cum >= (next * n) / nb) {
          e.push(midpoint(vals[i]!, vals[i + 1]!));
          while (cum >= (next * n) / nb) next++;
        }
      }
    }
    const ef = Float64Array.from(e);
    edges.push(ef);
    for (let r = 0; r < n; r++) bins[j * n + r] = binOf(ef, col[r]!);
  }
  return { nRows: n, nFeatures: f, bins, edges };
}

/** Midpoint that is strictly below b (a + (b - a) / 2 can round up to b for adjacent doubles). */
function midpoint(a: number, b: number): number {
  const m = a + (b - a) / 2;
  return m < b ? m : a;
}

/** Number of edges strictly below v: the bin of v. */
export function binOf(edges: Float64Array, v: number): number {
  let lo = 0;
  let hi = edges.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (edges[mid]! < v) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/**
 * Stable partition of rows[start, end) on "bin of feature f <= bin": the rows going left first,
 * then the others, each in their order (`tmp` is scratch of at least end - start). Returns
 * where the right part starts.
 */
export function partitionRows(binned: Binned, rows: Int32Array, tmp: Int32Array, start: number, end: number, f: number, bin: number): number {
  const col = f * binned.nRows;
  let nl = start;
  let nr = 0;
  for (let i = start; i < end; i++) {
    const r = rows[i]!;
    if (binned.bins[col + r]! <= bin) rows[nl++] = r;
    else tmp[nr++] = r;
  }
  rows.set(tmp.subarray(0, nr), nl);
  return nl;
}
