/**
 * @module ml/train/cart
 * CART decision tree training (gini impurity, histogram splits over at most 256 bins per
 * feature; thresholds are midpoints between training values).
 */
import type { Dataset } from "../dataset/dataset.ts";
import type { TreeModel } from "../model/types.ts";
import { binDataset, MAX_BINS } from "./binning.ts";
import { growClassificationTree } from "./grow-tree.ts";

export interface CartOptions {
  maxDepth?: number;
  minSamplesSplit?: number;
  minSamplesLeaf?: number;
  maxBins?: number;
}

export function trainCart(ds: Dataset, opts: CartOptions = {}): TreeModel {
  const binned = binDataset(ds, opts.maxBins ?? MAX_BINS);
  const rows = Int32Array.from({ length: ds.nRows }, (_, i) => i);
  const tree = growClassificationTree(binned, ds.y, ds.classNames.length, rows, undefined, {
    maxDepth: opts.maxDepth,
    minSamplesSplit: opts.minSamplesSplit,
    minSamplesLeaf: opts.minSamplesLeaf,
  });
  return { kind: "tree", nFeatures: ds.nFeatures, featureNames: [...ds.featureNames], classNames: [...ds.classNames], tree };
}
