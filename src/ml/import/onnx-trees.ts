/**
 * @module ml/import/onnx-trees
 * ONNX-ML `TreeEnsembleClassifier` and `TreeEnsembleRegressor` to kmlib float models.
 *
 * The class an imported model predicts is the class the operator's label output names:
 * - classifier, more than two classes, or two classes with weights in both: the top class of
 *   `sum of leaf weights + base_values` (the ONNX spec; the lowest index wins a tie);
 * - classifier, two classes with weights in one column only (how converters write binary
 *   models): class 1 when `column sum + base` > 0.5 if every weight is >= 0, else > 0
 *   (onnxruntime's rule);
 * - regressor, one target: class 1 when the score > 0 (boosted logits); several: the top one.
 * `post_transform` (LOGISTIC, SOFTMAX, ...) is monotone and never changes that class, so it is
 * ignored. Splits BRANCH_LEQ/LT/GTE/GT convert exactly (see `./tree-build.ts`); BRANCH_EQ/NEQ
 * are rejected. Thresholds keep their float32 (or `_as_tensor` double) value and kmlib compares
 * in double, so a float32 input graph decides identically on every float32-representable row
 * (every integer feature below 2^24 included). NaN inputs are out of scope (the integer form
 * has no NaN).
 *
 * Shapes: one multi-class tree -> "tree"; several trees whose leaves hold a weight per class
 * and equal base values -> "forest" (soft); anything with per-class bias, one weight column,
 * or one class per tree (gradient boosting) -> "boosted", each tree split per class it scores.
 */
import type { BoostedModel, FlatTree, ForestModel, Model, TreeModel } from "../model/types.ts";
import { failNode, int, ints, reals, sameLength, string, strings } from "./onnx-attrs.ts";
import type { OnnxNode } from "./onnx-proto.ts";
import { buildFlatTree, normalizeLeaves, type ForeignNode, type SplitOp } from "./tree-build.ts";

const MODES: Record<string, SplitOp | "LEAF"> = { BRANCH_LEQ: "<=", BRANCH_LT: "<", BRANCH_GTE: ">=", BRANCH_GT: ">", LEAF: "LEAF" };

interface RawNode {
  op: SplitOp | "LEAF";
  feature: number;
  value: number;
  yes: number;
  no: number;
  /** Leaf weights by class (or target) id. */
  weights: Map<number, number>;
}

interface RawEnsemble {
  /** Tree ids in order of first appearance, each with its nodes by id and its root. */
  trees: Array<{ id: number; nodes: Map<number, RawNode>; root: number }>;
  /** Every leaf weight >= 0. */
  nonNegative: boolean;
}

function readEnsemble(n: OnnxNode, prefix: "class" | "target", nOut: number): RawEnsemble {
  const treeIds = ints(n, "nodes_treeids", true);
  const nodeIds = ints(n, "nodes_nodeids", true);
  const features = ints(n, "nodes_featureids", true);
  const values = reals(n, "nodes_values", true);
  const modes = strings(n, "nodes_modes", true);
  const trueIds = ints(n, "nodes_truenodeids", true);
  const falseIds = ints(n, "nodes_falsenodeids", true);
  sameLength(n, { nodes_treeids: treeIds, nodes_nodeids: nodeIds, nodes_featureids: features, nodes_values: values, nodes_modes: modes, nodes_truenodeids: trueIds, nodes_falsenodeids: falseIds });
  const byTree = new Map<number, Map<number, RawNode>>();
  treeIds.forEach((tid, i) => {
    const mode = MODES[modes[i]!];
    if (mode === undefined) {
      failNode(n, `split mode ${modes[i]} (tree ${tid}, node ${nodeIds[i]}) is not supported: kmlib imports BRANCH_LEQ, BRANCH_LT, BRANCH_GTE, BRANCH_GT and LEAF`);
    }
    let nodes = byTree.get(tid);
    if (!nodes) byTree.set(tid, (nodes = new Map()));
    if (nodes.has(nodeIds[i]!)) failNode(n, `tree ${tid} defines node ${nodeIds[i]} twice`);
    nodes.set(nodeIds[i]!, { op: mode, feature: features[i]!, value: values[i]!, yes: trueIds[i]!, no: falseIds[i]!, weights: new Map() });
  });
  const wTree = ints(n, `${prefix}_treeids`, true);
  const wNode = ints(n, `${prefix}_nodeids`, true);
  const wId = ints(n, `${prefix}_ids`, true);
  const w = reals(n, `${prefix}_weights`, true);
  sameLength(n, { [`${prefix}_treeids`]: wTree, [`${prefix}_nodeids`]: wNode, [`${prefix}_ids`]: wId, [`${prefix}_weights`]: w });
  let nonNegative = true;
  wTree.forEach((tid, i) => {
    const leaf = byTree.get(tid)?.get(wNode[i]!);
    if (!leaf || leaf.op !== "LEAF") failNode(n, `${prefix} weight ${i} names tree ${tid} node ${wNode[i]}, which is not a leaf`);
    const id = wId[i]!;
    if (!(id >= 0 && id < nOut)) failNode(n, `${prefix} weight ${i} is for ${prefix} ${id}, outside [0, ${nOut})`);
    if (!Number.isFinite(w[i]!)) failNode(n, `${prefix} weight ${i} is ${w[i]}`);
    leaf!.weights.set(id, (leaf!.weights.get(id) ?? 0) + w[i]!);
    if (w[i]! < 0) nonNegative = false;
  });
  const trees = [...byTree].map(([id, nodes]) => {
    const children = new Set<number>();
    for (const r of nodes.values()) if (r.op !== "LEAF") children.add(r.yes).add(r.no);
    const roots = [...nodes.keys()].filter((k) => !children.has(k));
    if (roots.length !== 1) failNode(n, `tree ${id} has ${roots.length} root nodes (${roots.slice(0, 5).join(", ")}), expected 1`);
    return { id, nodes, root: roots[0]! };
  });
  if (trees.length === 0) failNode(n, "has no trees");
  return { trees, nonNegative };
}

/** One flat tree whose leaves hold the weights of `ids` (in that order). */
function flat(n: OnnxNode, t: RawEnsemble["trees"][number], ids: readonly number[], nFeatures: number): FlatTree {
  const get = (id: number): ForeignNode | undefined => {
    const r = t.nodes.get(id);
    if (!r) return undefined;
    if (r.op === "LEAF") return { leaf: true, value: ids.map((c) => r.weights.get(c) ?? 0) };
    return { leaf: false, feature: r.feature, op: r.op, threshold: r.value, yes: r.yes, no: r.no };
  };
  const f = buildFlatTree(t.root, get, ids.length, nFeatures, `ONNX ${n.opType} tree ${t.id}`);
  const reached = f.feature.length + f.leafValue.length / ids.length;
  if (reached !== t.nodes.size) failNode(n, `tree ${t.id}: ${t.nodes.size - reached} of its ${t.nodes.size} nodes cannot be reached from root node ${t.root} (a cycle?)`);
  return f;
}

/** The ids a tree's leaves carry a weight for. */
function idsUsed(t: RawEnsemble["trees"][number]): number[] {
  const s = new Set<number>();
  for (const r of t.nodes.values()) for (const id of r.weights.keys()) s.add(id);
  return [...s].sort((a, b) => a - b);
}

/** Every tree split into one width-1 tree per id it scores: a boosted model's trees. */
function perScore(n: OnnxNode, ens: RawEnsemble, nFeatures: number): { trees: FlatTree[]; treeScore: number[] } {
  const trees: FlatTree[] = [];
  const treeScore: number[] = [];
  for (const t of ens.trees) {
    for (const id of idsUsed(t)) {
      trees.push(flat(n, t, [id], nFeatures));
      treeScore.push(id);
    }
  }
  return { trees, treeScore };
}

function baseValues(n: OnnxNode, nOut: number): Float64Array {
  const b = reals(n, "base_values");
  if (b.length === 0) return new Float64Array(nOut);
  if (b.length !== nOut) failNode(n, `base_values has ${b.length} entries, expected ${nOut}`);
  return Float64Array.from(b);
}

export interface Names {
  featureNames: string[];
  classNames: string[];
}

export function treeEnsembleClassifier(n: OnnxNode, nFeatures: number, names: Names, notes: string[]): Model {
  const K = names.classNames.length;
  if (K < 2) failNode(n, `has ${K} class label(s); a classifier needs at least 2`);
  const ens = readEnsemble(n, "class", K);
  const used = new Set(ens.trees.flatMap(idsUsed));
  const base = { nFeatures, ...names };
  const post = string(n, "post_transform", "NONE");
  if (post !== "NONE") notes.push(`post_transform ${post} ignored: it is monotone and does not change the predicted class`);

  if (K === 2 && used.size === 1) {
    const c = [...used][0]!;
    const b = reals(n, "base_values");
    if (b.length > 2) failNode(n, `base_values has ${b.length} entries for 2 classes`);
    const bias = b.length === 2 ? b[c]! : (b[0] ?? 0);
    const cut = ens.nonNegative ? 0.5 : 0;
    notes.push(`binary classifier with one weight column: class 1 when the column's sum + base > ${cut}`);
    const { trees } = perScore(n, ens, nFeatures);
    return { ...base, kind: "boosted", objective: "binary", trees, treeScore: new Int32Array(trees.length), bias: Float64Array.of(bias - cut) } satisfies BoostedModel;
  }

  const bias = baseValues(n, K);
  const oneClassPerTree = ens.trees.every((t) => idsUsed(t).length <= 1);
  const uniformBias = bias.every((v) => v === bias[0]);
  if (!oneClassPerTree && uniformBias) {
    const all = Array.from({ length: K }, (_, i) => i);
    const trees = ens.trees.map((t) => flat(n, t, all, nFeatures));
    normalizeLeaves(trees);
    if (trees.length === 1) return { ...base, kind: "tree", tree: trees[0]! } satisfies TreeModel;
    return { ...base, kind: "forest", vote: "soft", trees } satisfies ForestModel;
  }
  const { trees, treeScore } = perScore(n, ens, nFeatures);
  return { ...base, kind: "boosted", objective: "multiclass", trees, treeScore: Int32Array.from(treeScore), bias } satisfies BoostedModel;
}

export function treeEnsembleRegressor(n: OnnxNode, nFeatures: number, featureNames: string[], notes: string[]): Model {
  const nTargets = int(n, "n_targets", 1);
  if (!(nTargets >= 1)) failNode(n, `n_targets is ${nTargets}`);
  const ens = readEnsemble(n, "target", nTargets);
  const agg = string(n, "aggregate_function", "SUM");
  if (agg !== "SUM" && agg !== "AVERAGE") failNode(n, `aggregate_function ${agg} is not supported (SUM and AVERAGE are)`);
  const post = string(n, "post_transform", "NONE");
  if (post !== "NONE") notes.push(`post_transform ${post} ignored: it is monotone and does not change the decision`);
  const bias = baseValues(n, nTargets);
  // AVERAGE is sum / nTrees + base: the same decisions as sum + nTrees * base.
  if (agg === "AVERAGE") for (let i = 0; i < bias.length; i++) bias[i]! *= ens.trees.length;
  const { trees, treeScore } = perScore(n, ens, nFeatures);
  notes.push(nTargets === 1 ? "regressor scores read as a logit: class 1 when the score > 0" : `regressor targets read as ${nTargets} class scores (top score wins)`);
  const classNames = nTargets === 1 ? ["0", "1"] : Array.from({ length: nTargets }, (_, i) => String(i));
  return {
    nFeatures,
    featureNames,
    classNames,
    kind: "boosted",
    objective: nTargets === 1 ? "binary" : "multiclass",
    trees,
    treeScore: Int32Array.from(treeScore),
    bias,
  } satisfies BoostedModel;
}
