/**
 * @module ml/train/forest
 * Random forest: each tree grows on a bootstrap sample (as integer weights, no row copies)
 * with a random feature subset per node; trees vote softly (mean class probability) or by
 * majority. Tree k draws from its own forked generator, so results depend only on the seed.
 */
import type { Dataset } from "../dataset/dataset.ts";
import type { FlatTree, ForestModel } from "../model/types.ts";
import { Rng } from "../rng.ts";
import { binDataset, MAX_BINS } from "./binning.ts";
import { growClassificationTree } from "./grow-tree.ts";

export interface ForestOptions {
  nTrees?: number;
  maxDepth?: number;
  minSamplesSplit?: number;
  minSamplesLeaf?: number;
  /** Features tried per node; default round(sqrt(nFeatures)). */
  maxFeatures?: number;
  bootstrap?: boolean;
  vote?: "soft" | "majority";
  maxBins?: number;
  seed?: number;
}

export function trainForest(ds: Dataset, opts: ForestOptions = {}): ForestModel {
  const nTrees = opts.nTrees ?? 100;
  const K = ds.classNames.length;
  const vote = opts.vote ?? "soft";
  const binned = binDataset(ds, opts.maxBins ?? MAX_BINS);
  const rng = new Rng(opts.seed ?? 1);
  const maxFeatures = opts.maxFeatures ?? Math.max(1, Math.round(Math.sqrt(ds.nFeatures)));
  const trees: FlatTree[] = [];
  const weight = new Float64Array(ds.nRows);
  for (let t = 0; t < nTrees; t++) {
    const tr = rng.fork(t);
    let rows: Int32Array;
    if (opts.bootstrap ?? true) {
      weight.fill(0);
      for (let i = 0; i < ds.nRows; i++) weight[tr.int(ds.nRows)]!++;
      const used: number[] = [];
      for (let i = 0; i < ds.nRows; i++) if (weight[i]! > 0) used.push(i);
      rows = Int32Array.from(used);
    } else {
      weight.fill(1);
      rows = Int32Array.from({ length: ds.nRows }, (_, i) => i);
    }
    const tree = growClassificationTree(binned, ds.y, K, rows, weight, {
      maxDepth: opts.maxDepth,
      minSamplesSplit: opts.minSamplesSplit,
      minSamplesLeaf: opts.minSamplesLeaf,
      maxFeatures,
      rng: tr,
    });
    if (vote === "majority") toOneHot(tree);
    trees.push(tree);
  }
  return { kind: "forest", vote, trees, nFeatures: ds.nFeatures, featureNames: [...ds.featureNames], classNames: [...ds.classNames] };
}

/** Replaces each leaf's probabilities by a one-hot vote for its most probable class. */
function toOneHot(t: FlatTree): void {
  const k = t.width;
  for (let l = 0; l < t.leafValue.length / k; l++) {
    let best = 0;
    for (let c = 1; c < k; c++) if (t.leafValue[l * k + c]! > t.leafValue[l * k + best]!) best = c;
    for (let c = 0; c < k; c++) t.leafValue[l * k + c] = c === best ? 1 : 0;
  }
}
