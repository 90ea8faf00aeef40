/**
 * @module ml/dataset/split
 * Seeded stratified train/test split: each class is shuffled on its own and cut at the same
 * fraction, so rare classes (Heartbleed: 11 rows) appear on both sides whenever they can.
 */
import { ErrorCode, KmlibError } from "../../errors.ts";
import { Rng } from "../rng.ts";
import { takeRows, type Dataset } from "./dataset.ts";

export interface SplitOptions {
  /** Fraction of each class put in the test set, in (0, 1). Default 0.25. */
  testFraction?: number;
  seed?: number;
}

export interface SplitIndices {
  train: Int32Array;
  test: Int32Array;
}

export function stratifiedSplitIndices(y: Int32Array, nClasses: number, opts: SplitOptions = {}): SplitIndices {
  const frac = opts.testFraction ?? 0.25;
  if (!(frac > 0 && frac < 1)) throw new KmlibError(ErrorCode.InvalidArgument, `split: testFraction ${frac} not in (0, 1)`);
  const rng = new Rng(opts.seed ?? 1);
  const byClass: number[][] = Array.from({ length: nClasses }, () => []);
  for (let i = 0; i < y.length; i++) byClass[y[i]!]!.push(i);
  const train: number[] = [];
  const test: number[] = [];
  for (const rows of byClass) {
    rng.shuffle(rows);
    // At least one row on each side when the class has two or more.
    let nTest = Math.round(rows.length * frac);
    if (rows.length >= 2) nTest = Math.min(Math.max(nTest, 1), rows.length - 1);
    test.push(...rows.slice(0, nTest));
    train.push(...rows.slice(nTest));
  }
  // Sorted so the split keeps file order (and so is independent of class iteration order).
  return { train: Int32Array.from(train).sort(), test: Int32Array.from(test).sort() };
}

export function stratifiedSplit(ds: Dataset, opts: SplitOptions = {}): { train: Dataset; test: Dataset } {
  const { train, test } = stratifiedSplitIndices(ds.y, ds.classNames.length, opts);
  return { train: takeRows(ds, train), test: takeRows(ds, test) };
}

/** A seeded stratified subsample of at most `n` rows (same class proportions). */
export function stratifiedSample(ds: Dataset, n: number, seed = 1): Dataset {
  if (n >= ds.nRows) return ds;
  const { test } = stratifiedSplitIndices(ds.y, ds.classNames.length, { testFraction: n / ds.nRows, seed });
  return takeRows(ds, test);
}
