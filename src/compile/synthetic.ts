/**
 * @module compile/synthetic
 * Seeded synthetic integer-form models of exact sizes (full trees of a given depth, forests,
 * boosted ensembles, linear models, perceptrons), for benchmarks and for the size-limit
 * tests: trained models stop growing where the data runs out, these do not. Thresholds and
 * inputs share one range, so random rows take random paths.
 */
import { Rng } from "../ml/rng.ts";
import type { IrBoosted, IrForest, IrLinear, IrMlp, IrTree, IrTreeModel } from "../ml/ir/types.ts";
import { validateIr } from "../ml/ir/validate.ts";

/** Thresholds and random inputs are drawn from [-RANGE, RANGE]. */
export const SYNTH_RANGE = 1000;

function base(nFeatures: number, nClasses: number) {
  return {
    nFeatures,
    nClasses,
    featureNames: Array.from({ length: nFeatures }, (_, j) => `f${j}`),
    classNames: Array.from({ length: nClasses }, (_, c) => `c${c}`),
    quant: Array.from({ length: nFeatures }, () => ({ scale: 1, offset: 0 })),
    scoreFracBits: 0,
  };
}

/** A full binary tree of `depth` (2^depth leaves), leaves of `width` values in [0, leafMax]. */
export function fullTree(rng: Rng, depth: number, nFeatures: number, width: number, leafMax: number): IrTree {
  const n = 2 ** depth - 1;
  const t: IrTree = { feature: [], threshold: [], left: [], right: [], leafValue: [] };
  for (let i = 0; i < n; i++) {
    t.feature.push(rng.int(nFeatures));
    t.threshold.push(rng.int(2 * SYNTH_RANGE + 1) - SYNTH_RANGE);
    const l = 2 * i + 1;
    const r = 2 * i + 2;
    t.left.push(l < n ? l : -(l - n) - 1);
    t.right.push(r < n ? r : -(r - n) - 1);
  }
  for (let i = 0; i < (n + 1) * width; i++) t.leafValue.push(rng.int(leafMax + 1));
  return t;
}

export function synthTree(depth: number, nFeatures = 16, seed = 1): IrTreeModel {
  const rng = new Rng(seed);
  return validateIr({ ...base(nFeatures, 2), kind: "tree", tree: fullTree(rng, depth, nFeatures, 2, 65536) }) as IrTreeModel;
}

export function synthForest(nTrees: number, depth: number, nFeatures = 16, seed = 1): IrForest {
  const rng = new Rng(seed);
  const trees = Array.from({ length: nTrees }, () => fullTree(rng, depth, nFeatures, 2, 65536));
  return validateIr({ ...base(nFeatures, 2), kind: "forest", vote: "soft", trees }) as IrForest;
}

export function synthBoosted(nTrees: number, depth: number, nFeatures = 16, seed = 1): IrBoosted {
  const rng = new Rng(seed);
  const trees = Array.from({ length: nTrees }, () => {
    const t = fullTree(rng, depth, nFeatures, 1, 2 * 65536);
    t.leafValue = t.leafValue.map((v) => v - 65536);
    return t;
  });
  return validateIr({ ...base(nFeatures, 2), kind: "boosted", trees, treeScore: trees.map(() => 0), bias: [rng.int(1000) - 500] }) as IrBoosted;
}

export function synthLinear(nFeatures = 32, seed = 1): IrLinear {
  const rng = new Rng(seed);
  const weights = Array.from({ length: nFeatures }, () => rng.int(2 ** 20) - 2 ** 19);
  return validateIr({ ...base(nFeatures, 2), kind: "linear", nScores: 1, weights, bias: [BigInt(rng.int(2 ** 24) - 2 ** 23)], shift: 12 }) as IrLinear;
}

/** A perceptron nFeatures-hidden-nOut with int8 weights (relu hidden layer). */
export function synthMlp(nFeatures = 16, hidden = 32, nOut = 2, seed = 1): IrMlp {
  const rng = new Rng(seed);
  const w8 = (n: number) => Array.from({ length: n }, () => rng.int(255) - 127);
  return validateIr({
    ...base(nFeatures, nOut === 1 ? 2 : nOut),
    kind: "mlp",
    input: { mul: Array.from({ length: nFeatures }, () => 1 + rng.int(64)), add: Array.from({ length: nFeatures }, () => BigInt(rng.int(512) - 256)), shift: Array.from({ length: nFeatures }, () => 4), max: 4096 },
    layers: [
      { nIn: nFeatures, nOut: hidden, weights: w8(nFeatures * hidden), bias: Array.from({ length: hidden }, () => rng.int(4096) - 2048), shift: 7, activation: "relu" },
      { nIn: hidden, nOut, weights: w8(hidden * nOut), bias: Array.from({ length: nOut }, () => rng.int(4096) - 2048), shift: 0, activation: "none" },
    ],
  }) as IrMlp;
}

/** Random int32 rows (row-major) in [-range, range]. */
export function synthRows(nRows: number, nFeatures: number, seed = 2, range = SYNTH_RANGE): Int32Array {
  const rng = new Rng(seed);
  return Int32Array.from({ length: nRows * nFeatures }, () => rng.int(2 * range + 1) - range);
}
