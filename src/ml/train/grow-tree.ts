/**
 * @module ml/train/grow-tree
 * Grows one classification tree (CART, gini impurity) on binned features, with optional
 * integer sample weights (bootstrap counts) and per-node feature subsampling (random forests).
 * Deterministic: candidates are tried in a fixed order and only a strictly better split wins.
 */
import type { Rng } from "../rng.ts";
import { FlatTreeBuilder } from "../model/flat-tree-builder.ts";
import type { FlatTree } from "../model/types.ts";
import { partitionRows, type Binned } from "./binning.ts";

export interface GrowOptions {
  /** Maximum depth (root at depth 0). Default: unlimited. */
  maxDepth?: number;
  /** A node with fewer (weighted) samples is not split. Default 2. */
  minSamplesSplit?: number;
  /** Each child keeps at least this many (weighted) samples. Default 1. */
  minSamplesLeaf?: number;
  /** Features examined per node (random subset); default all. Needs `rng` when smaller. */
  maxFeatures?: number;
  rng?: Rng;
}

/**
 * @param rows the training rows to use (the tree reorders this array).
 * @param weight per-row weight (bootstrap count); undefined means 1 for every row.
 */
export function growClassificationTree(
  binned: Binned,
  y: Int32Array,
  nClasses: number,
  rows: Int32Array,
  weight: Float64Array | undefined,
  opts: GrowOptions = {},
): FlatTree {
  const K = nClasses;
  const n = binned.nRows;
  const F = binned.nFeatures;
  const maxDepth = opts.maxDepth ?? Infinity;
  const minSplit = opts.minSamplesSplit ?? 2;
  const minLeaf = opts.minSamplesLeaf ?? 1;
  const mtry = Math.min(opts.maxFeatures ?? F, F);
  const feats = Int32Array.from({ length: F }, (_, i) => i);
  const hist = new Float64Array(256 * K);
  const parent = new Float64Array(K);
  const leftC = new Float64Array(K);
  const tmp = new Int32Array(rows.length);
  const tree = new FlatTreeBuilder(K);

  const leaf = (total: number): number => tree.leaf(parent.map((c) => (total > 0 ? c / total : 0)));

  const grow = (start: number, end: number, depth: number): number => {
    parent.fill(0);
    let total = 0;
    for (let i = start; i < end; i++) {
      const r = rows[i]!;
      const w = weight ? weight[r]! : 1;
      parent[y[r]!]! += w;
      total += w;
    }
    let pureClasses = 0;
    let parentSq = 0;
    for (let c = 0; c < K; c++) {
      if (parent[c]! > 0) pureClasses++;
      parentSq += parent[c]! * parent[c]!;
    }
    if (depth >= maxDepth || total < minSplit || total < 2 * minLeaf || pureClasses <= 1) return leaf(total);

    if (mtry < F) {
      for (let i = 0; i < mtry; i++) {
        const j = i + opts.rng!.int(F - i);
        const t = feats[i]!;
        feats[i] = feats[j]!;
        feats[j] = t;
      }
    }
    let bestScore = parentSq / total + 1e-12 * total;
    let bestF = -1;
    let bestBin = -1;
    for (let fi = 0; fi < mtry; fi++) {
      const f = feats[fi]!;
      const nb = binned.edges[f]!.length + 1;
      if (nb < 2) continue;
      hist.fill(0, 0, nb * K);
      const col = f * n;
      for (let i = start; i < end; i++) {
        const r = rows[i]!;
        hist[binned.bins[col + r]! * K + y[r]!]! += weight ? weight[r]! : 1;
      }
      leftC.fill(0);
      let wL = 0;
      let sqL = 0;
      let sqR = parentSq;
      for (let b = 0; b < nb - 1; b++) {
        const hb = b * K;
        let moved = 0;
        for (let c = 0; c < K; c++) {
          const h = hist[hb + c]!;
          if (h === 0) continue;
          const l = leftC[c]!;
          const rc = parent[c]! - l;
          sqL += 2 * l * h + h * h;
          sqR -= 2 * rc * h - h * h;
          leftC[c] = l + h;
          moved += h;
        }
        if (moved === 0) continue;
        wL += moved;
        const wR = total - wL;
        if (wL < minLeaf) continue;
        if (wR < minLeaf) break;
        const score = sqL / wL + sqR / wR;
        if (score > bestScore) {
          bestScore = score;
          bestF = f;
          bestBin = b;
        }
      }
    }
    if (bestF < 0) return leaf(total);

    const nl = partitionRows(binned, rows, tmp, start, end, bestF, bestBin);
    const id = tree.split(bestF, binned.edges[bestF]![bestBin]!);
    tree.setChild(id, "l", grow(start, nl, depth + 1));
    tree.setChild(id, "r", grow(nl, end, depth + 1));
    return id;
  };

  grow(0, rows.length, 0);
  return tree.build();
}
