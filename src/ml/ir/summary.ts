/**
 * @module ml/ir/summary
 * Size and shape facts of an integer-form model (for `kmlib inspect`, and for choosing a
 * code-generation strategy): trees, nodes, leaves, depth, parameter counts, bytes.
 */
import { assertNever } from "../../errors.ts";
import { irScoreCount, irTrees, type IrModel, type IrTree } from "./types.ts";

export interface IrSummary {
  kind: IrModel["kind"];
  nFeatures: number;
  nClasses: number;
  nScores: number;
  scoreFracBits: number;
  /** Every feature uses scale 1, offset 0. */
  identityQuant: boolean;
  trees: number;
  nodes: number;
  leaves: number;
  maxDepth: number;
  /** Integer parameters (thresholds, leaf values, weights, biases...). */
  parameters: number;
  detail: string;
}

export function treeDepth(t: IrTree): number {
  if (t.feature.length === 0) return 0;
  const depth = new Int32Array(t.feature.length);
  let max = 0;
  for (let n = 0; n < t.feature.length; n++) {
    for (const c of [t.left[n]!, t.right[n]!]) {
      if (c >= 0) depth[c] = depth[n]! + 1;
      else max = Math.max(max, depth[n]! + 1);
    }
  }
  return max;
}

export function summarizeIr(ir: IrModel): IrSummary {
  const trees = irTrees(ir);
  const nodes = trees.reduce((s, t) => s + t.feature.length, 0);
  const leaves = trees.reduce((s, t) => s + t.feature.length + 1, 0);
  const maxDepth = trees.reduce((s, t) => Math.max(s, treeDepth(t)), 0);
  let parameters = nodes * 2 + trees.reduce((s, t) => s + t.leafValue.length, 0);
  let detail: string;
  switch (ir.kind) {
    case "tree":
      detail = `one tree, leaves hold ${ir.nClasses} class probabilities in Q${ir.scoreFracBits}`;
      break;
    case "forest":
      detail = `${trees.length} trees, ${ir.vote} vote, leaf scores in Q${ir.scoreFracBits}`;
      break;
    case "boosted":
      parameters += ir.bias.length;
      detail = `${trees.length} trees into ${ir.bias.length} score(s), Q${ir.scoreFracBits} fixed point`;
      break;
    case "linear":
      parameters += ir.weights.length + ir.bias.length;
      detail = `${ir.nScores} score(s) x ${ir.nFeatures} int32 weights, int64 accumulators, >> ${ir.shift}`;
      break;
    case "mlp":
      parameters += ir.nFeatures * 2 + ir.layers.reduce((s, l) => s + l.weights.length + l.bias.length, 0);
      detail = `${[ir.nFeatures, ...ir.layers.map((l) => l.nOut)].join("-")} int8 weights, shifts ${ir.layers.map((l) => l.shift).join("/")}, input clamp +/-${ir.input.max}`;
      break;
    default:
      return assertNever(ir, "integer model kind");
  }
  return {
    kind: ir.kind,
    nFeatures: ir.nFeatures,
    nClasses: ir.nClasses,
    nScores: irScoreCount(ir),
    scoreFracBits: ir.scoreFracBits,
    identityQuant: ir.quant.every((q) => q.scale === 1 && q.offset === 0),
    trees: trees.length,
    nodes,
    leaves,
    maxDepth,
    parameters,
    detail,
  };
}
