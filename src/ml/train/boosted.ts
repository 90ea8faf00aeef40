/**
 * @module ml/train/boosted
 * Histogram-based gradient-boosted trees (second-order, as XGBoost/LightGBM/scikit-learn's
 * HistGradientBoosting): binary logloss with one tree per round, or multiclass softmax with
 * one tree per class per round. Trees grow depth-first to `maxDepth`; the larger child's
 * histogram is the parent's minus the smaller child's.
 */
import type { Dataset } from "../dataset/dataset.ts";
import { FlatTreeBuilder } from "../model/flat-tree-builder.ts";
import type { BoostedModel, FlatTree } from "../model/types.ts";
import { binDataset, MAX_BINS, partitionRows, type Binned } from "./binning.ts";

export interface BoostedOptions {
  nRounds?: number;
  learningRate?: number;
  maxDepth?: number;
  minSamplesLeaf?: number;
  /** L2 regularisation of leaf values (lambda). */
  l2?: number;
  maxBins?: number;
}

interface TreeParams {
  maxDepth: number;
  minLeaf: number;
  l2: number;
  lr: number;
}

export function trainBoosted(ds: Dataset, opts: BoostedOptions = {}): BoostedModel {
  const K = ds.classNames.length;
  const n = ds.nRows;
  const nScores = K === 2 ? 1 : K;
  const params: TreeParams = {
    maxDepth: opts.maxDepth ?? 6,
    minLeaf: opts.minSamplesLeaf ?? 20,
    l2: opts.l2 ?? 1,
    lr: opts.learningRate ?? 0.1,
  };
  const binned = binDataset(ds, opts.maxBins ?? MAX_BINS);
  const counts = new Float64Array(K);
  for (let i = 0; i < n; i++) counts[ds.y[i]!]!++;
  const bias = new Float64Array(nScores);
  if (nScores === 1) {
    const p = Math.min(Math.max(counts[1]! / n, 1e-6), 1 - 1e-6);
    bias[0] = Math.log(p / (1 - p));
  } else {
    for (let c = 0; c < K; c++) bias[c] = Math.log(Math.max(counts[c]! / n, 1e-6));
  }
  const raw = new Float64Array(n * nScores);
  for (let i = 0; i < n; i++) raw.set(bias, i * nScores);
  const g = new Float64Array(n);
  const h = new Float64Array(n);
  const p = new Float64Array(nScores);
  const trees: FlatTree[] = [];
  const treeScore: number[] = [];
  const rows = new Int32Array(n);
  const nRounds = opts.nRounds ?? 100;
  // Softmax probabilities for all rows, recomputed once per round.
  const prob = new Float64Array(n * nScores);
  for (let round = 0; round < nRounds; round++) {
    for (let i = 0; i < n; i++) {
      if (nScores === 1) {
        prob[i] = 1 / (1 + Math.exp(-raw[i]!));
      } else {
        let m = -Infinity;
        for (let c = 0; c < K; c++) m = Math.max(m, raw[i * K + c]!);
        let s = 0;
        for (let c = 0; c < K; c++) s += p[c] = Math.exp(raw[i * K + c]! - m);
        for (let c = 0; c < K; c++) prob[i * K + c] = p[c]! / s;
      }
    }
    for (let c = 0; c < nScores; c++) {
      for (let i = 0; i < n; i++) {
        const pi = prob[i * nScores + c]!;
        const yi = nScores === 1 ? ds.y[i]! : ds.y[i] === c ? 1 : 0;
        g[i] = pi - yi;
        h[i] = Math.max(pi * (1 - pi), 1e-16);
      }
      for (let i = 0; i < n; i++) rows[i] = i;
      const tree = growRegressionTree(binned, g, h, rows, params, (start, end, value) => {
        for (let i = start; i < end; i++) raw[rows[i]! * nScores + c]! += value;
      });
      trees.push(tree);
      treeScore.push(c);
    }
  }
  return {
    kind: "boosted",
    objective: nScores === 1 ? "binary" : "multiclass",
    trees,
    treeScore: Int32Array.from(treeScore),
    bias,
    nFeatures: ds.nFeatures,
    featureNames: [...ds.featureNames],
    classNames: [...ds.classNames],
  };
}

/** One regression tree on gradients/hessians; `onLeaf` sees each leaf's row range and value. */
function growRegressionTree(
  binned: Binned,
  g: Float64Array,
  h: Float64Array,
  rows: Int32Array,
  prm: TreeParams,
  onLeaf: (start: number, end: number, value: number) => void,
): FlatTree {
  const n = binned.nRows;
  const F = binned.nFeatures;
  const nbOf = binned.edges.map((e) => e.length + 1);
  const off = new Int32Array(F + 1);
  for (let f = 0; f < F; f++) off[f + 1] = off[f]! + nbOf[f]!;
  const histSize = off[F]! * 3;
  const tmp = new Int32Array(rows.length);
  const tree = new FlatTreeBuilder(1);

  // hist layout: for feature f, bin b: [G, H, count] at (off[f] + b) * 3.
  const build = (start: number, end: number): Float64Array => {
    const hist = new Float64Array(histSize);
    for (let f = 0; f < F; f++) {
      const col = f * n;
      const base = off[f]!;
      for (let i = start; i < end; i++) {
        const r = rows[i]!;
        const k = (base + binned.bins[col + r]!) * 3;
        hist[k]! += g[r]!;
        hist[k + 1]! += h[r]!;
        hist[k + 2]!++;
      }
    }
    return hist;
  };

  const grow = (start: number, end: number, depth: number, hist: Float64Array): number => {
    let G = 0;
    let H = 0;
    // Totals from feature 0's histogram (every feature's bins sum to the node).
    for (let b = 0; b < nbOf[0]!; b++) {
      G += hist[(off[0]! + b) * 3]!;
      H += hist[(off[0]! + b) * 3 + 1]!;
    }
    const count = end - start;
    const makeLeaf = (): number => {
      const v = (-prm.lr * G) / (H + prm.l2);
      const ref = tree.leaf([v]);
      onLeaf(start, end, v);
      return ref;
    };
    if (depth >= prm.maxDepth || count < 2 * prm.minLeaf) return makeLeaf();
    const parentGain = (G * G) / (H + prm.l2);
    let best = 1e-9;
    let bestF = -1;
    let bestBin = -1;
    for (let f = 0; f < F; f++) {
      const nb = nbOf[f]!;
      let gl = 0;
      let hl = 0;
      let cl = 0;
      for (let b = 0; b < nb - 1; b++) {
        const k = (off[f]! + b) * 3;
        const cb = hist[k + 2]!;
        if (cb === 0) continue;
        gl += hist[k]!;
        hl += hist[k + 1]!;
        cl += cb;
        if (cl < prm.minLeaf) continue;
        if (count - cl < prm.minLeaf) break;
        const gr = G - gl;
        const hr = H - hl;
        const gain = (gl * gl) / (hl + prm.l2) + (gr * gr) / (hr + prm.l2) - parentGain;
        if (gain > best) {
          best = gain;
          bestF = f;
          bestBin = b;
        }
      }
    }
    if (bestF < 0) return makeLeaf();
    const nl = partitionRows(binned, rows, tmp, start, end, bestF, bestBin);
    const id = tree.split(bestF, binned.edges[bestF]![bestBin]!);
    // Build the smaller child's histogram; the other is the parent's minus it (reusing hist).
    const leftSmaller = nl - start <= end - nl;
    const small = leftSmaller ? build(start, nl) : build(nl, end);
    for (let i = 0; i < histSize; i++) hist[i]! -= small[i]!;
    const lh = leftSmaller ? small : hist;
    const rh = leftSmaller ? hist : small;
    tree.setChild(id, "l", grow(start, nl, depth + 1, lh));
    tree.setChild(id, "r", grow(nl, end, depth + 1, rh));
    return id;
  };

  grow(0, rows.length, 0, build(0, rows.length));
  return tree.build();
}
