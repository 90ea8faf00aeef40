/**
 * @module ml/dataset/dataset
 * The typed in-memory dataset every trainer reads: a row-major float feature matrix, integer
 * class labels, and the names of features and classes. Plain data plus small pure helpers.
 */
import { ErrorCode, KmlibError } from "../../errors.ts";

export interface Dataset {
  /** Row-major features: row r, feature f is `x[r * nFeatures + f]`. */
  readonly x: Float64Array | Float32Array;
  /** Class index of each row, in [0, classNames.length). */
  readonly y: Int32Array;
  readonly nRows: number;
  readonly nFeatures: number;
  readonly featureNames: readonly string[];
  readonly classNames: readonly string[];
}

/** Builds a dataset, checking that the shapes agree and every label names a class. */
export function makeDataset(parts: {
  x: Float64Array | Float32Array;
  y: Int32Array;
  featureNames: readonly string[];
  classNames: readonly string[];
}): Dataset {
  const nFeatures = parts.featureNames.length;
  const nRows = parts.y.length;
  if (nFeatures === 0) throw new KmlibError(ErrorCode.InvalidArgument, "dataset: no feature columns");
  if (parts.x.length !== nRows * nFeatures) {
    throw new KmlibError(
      ErrorCode.InvalidArgument,
      `dataset: x has ${parts.x.length} values, expected ${nRows} rows x ${nFeatures} features`,
    );
  }
  const k = parts.classNames.length;
  for (let i = 0; i < nRows; i++) {
    const c = parts.y[i]!;
    if (c < 0 || c >= k) throw new KmlibError(ErrorCode.InvalidArgument, `dataset: row ${i} has label ${c}, outside [0, ${k})`);
  }
  return { x: parts.x, y: parts.y, nRows, nFeatures, featureNames: [...parts.featureNames], classNames: [...parts.classNames] };
}

/** The rows at `indices`, in that order. */
export function takeRows(ds: Dataset, indices: ArrayLike<number>): Dataset {
  const f = ds.nFeatures;
  const x = new Float64Array(indices.length * f);
  const y = new Int32Array(indices.length);
  for (let i = 0; i < indices.length; i++) {
    const r = indices[i]!;
    x.set(ds.x.subarray(r * f, r * f + f), i * f);
    y[i] = ds.y[r]!;
  }
  return { ...ds, x, y, nRows: indices.length };
}

/** Only the named (or numbered) feature columns, in the order given. */
export function selectFeatures(ds: Dataset, columns: readonly (string | number)[]): Dataset {
  const idx = columns.map((c) => {
    const i = typeof c === "number" ? c : ds.featureNames.indexOf(c);
    if (i < 0 || i >= ds.nFeatures) throw new KmlibError(ErrorCode.InvalidArgument, `dataset: no feature column ${JSON.stringify(c)}`);
    return i;
  });
  const nf = idx.length;
  const x = new Float64Array(ds.nRows * nf);
  for (let r = 0; r < ds.nRows; r++) for (let j = 0; j < nf; j++) x[r * nf + j] = ds.x[r * ds.nFeatures + idx[j]!]!;
  return makeDataset({ x, y: ds.y, featureNames: idx.map((i) => ds.featureNames[i]!), classNames: ds.classNames });
}

/** One feature row as a view (no copy). */
export function row(ds: Dataset, r: number): Float64Array | Float32Array {
  return ds.x.subarray(r * ds.nFeatures, (r + 1) * ds.nFeatures);
}

/** Number of rows of each class. */
export function classCounts(ds: Dataset): number[] {
  const n = new Array<number>(ds.classNames.length).fill(0);
  for (let i = 0; i < ds.nRows; i++) n[ds.y[i]!]!++;
  return n;
}

/**
 * Replaces NaN by 0 and +/-Infinity by the largest finite magnitude of the same column
 * (CICFlowMeter writes Infinity for rates over zero-length flows). Returns how many cells changed.
 */
export function replaceNonFinite(ds: Dataset): number {
  const f = ds.nFeatures;
  let changed = 0;
  for (let j = 0; j < f; j++) {
    let maxAbs = 0;
    for (let r = 0; r < ds.nRows; r++) {
      const v = ds.x[r * f + j]!;
      if (Number.isFinite(v) && Math.abs(v) > maxAbs) maxAbs = Math.abs(v);
    }
    for (let r = 0; r < ds.nRows; r++) {
      const v = ds.x[r * f + j]!;
      if (Number.isNaN(v)) ds.x[r * f + j] = 0;
      else if (v === Infinity) ds.x[r * f + j] = maxAbs;
      else if (v === -Infinity) ds.x[r * f + j] = -maxAbs;
      else continue;
      changed++;
    }
  }
  return changed;
}

/** Relabels to two classes: `negative` (index 0) and everything else (index 1). */
export function binarize(ds: Dataset, negative: string, names: [string, string] = [negative, "ATTACK"]): Dataset {
  const neg = ds.classNames.indexOf(negative);
  if (neg < 0) throw new KmlibError(ErrorCode.InvalidArgument, `dataset: no class ${JSON.stringify(negative)}`);
  const y = new Int32Array(ds.nRows);
  for (let i = 0; i < ds.nRows; i++) y[i] = ds.y[i] === neg ? 0 : 1;
  return { ...ds, y, classNames: names };
}
