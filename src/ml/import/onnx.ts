/**
 * @module ml/import/onnx
 * Imports an ONNX-ML model file into a kmlib float model (`ml/model/types`), so the usual
 * lowering, integer evaluation and compilers apply unchanged.
 *
 * The graph must be: one feature tensor input -> [Cast | Identity | Scaler]* -> exactly one of
 * TreeEnsembleClassifier, TreeEnsembleRegressor, LinearClassifier -> [ZipMap | Cast | Identity
 * | Normalizer]*. Before the model, Cast (to float or double) and Identity change nothing, and
 * a Scaler is folded into a linear model (a tree ensemble behind a Scaler is refused: its
 * thresholds would move). After the model, the wrappers only reshape or rescale the
 * probabilities; the class is the operator's own label output, so they are no-ops for kmlib.
 * Every other operator is refused, by name, with KMLIB_INVALID_MODEL.
 */
import { ErrorCode, KmlibError } from "../../errors.ts";
import type { Model } from "../model/types.ts";
import { failNode, int, ints, nodeLabel, reals, strings } from "./onnx-attrs.ts";
import { linearClassifier, linearFeatureCount } from "./onnx-linear.ts";
import { decodeOnnx, OnnxDataType, type OnnxModel, type OnnxNode } from "./onnx-proto.ts";
import { treeEnsembleClassifier, treeEnsembleRegressor } from "./onnx-trees.ts";
import type { ImportResult } from "./result.ts";

const MODEL_OPS = ["TreeEnsembleClassifier", "TreeEnsembleRegressor", "LinearClassifier"] as const;
type ModelOp = (typeof MODEL_OPS)[number];
const BEFORE_OPS = ["Cast", "Identity", "Scaler"];
const AFTER_OPS = ["ZipMap", "Cast", "Identity", "Normalizer"];
const FLOAT_TYPES: number[] = [OnnxDataType.FLOAT, OnnxDataType.DOUBLE];

function fail(msg: string): never {
  throw new KmlibError(ErrorCode.InvalidModel, msg);
}

function isModelOp(op: string): op is ModelOp {
  return (MODEL_OPS as readonly string[]).includes(op);
}

export interface OnnxImportOptions {
  /** Names of the input's features (default f0, f1, ...). */
  featureNames?: string[];
}

/** The one model node, the chain of nodes before it (input side first) and the nodes after it. */
function analyzeGraph(m: OnnxModel): { model: OnnxNode; before: OnnxNode[]; after: OnnxNode[]; input: string } {
  const g = m.graph;
  const initialized = new Set(g.initializers.map((t) => t.name));
  const inputs = g.inputs.filter((v) => !initialized.has(v.name));
  if (inputs.length !== 1) fail(`ONNX graph has ${inputs.length} inputs (${inputs.map((v) => v.name).join(", ")}); kmlib imports models over one feature tensor`);
  const input = inputs[0]!.name;
  const models = g.nodes.filter((n) => isModelOp(n.opType));
  const known = new Set<string>([...MODEL_OPS, ...BEFORE_OPS, ...AFTER_OPS]);
  const unknown = [...new Set(g.nodes.filter((n) => !known.has(n.opType)).map((n) => n.opType))];
  if (unknown.length > 0) fail(`unsupported ONNX operator${unknown.length > 1 ? "s" : ""} ${unknown.join(", ")} (kmlib imports ${MODEL_OPS.join(", ")} with ${[...new Set([...BEFORE_OPS, ...AFTER_OPS])].join(", ")} around them)`);
  if (models.length !== 1) fail(`ONNX graph has ${models.length} model operators${models.length ? ` (${models.map(nodeLabel).join(", ")})` : ""}; kmlib imports exactly one`);
  const model = models[0]!;
  const producer = new Map<string, OnnxNode>();
  for (const n of g.nodes) for (const o of n.outputs) producer.set(o, n);
  const before: OnnxNode[] = [];
  let name = model.inputs[0] ?? "";
  while (name !== input) {
    const p = producer.get(name);
    if (!p) fail(`ONNX ${nodeLabel(model)}: its input ${JSON.stringify(name)} comes neither from the graph input nor from a node`);
    if (!BEFORE_OPS.includes(p!.opType)) fail(`ONNX ${nodeLabel(p!)} before ${model.opType} is not supported (only ${BEFORE_OPS.join(", ")} may come before it)`);
    if (before.includes(p!)) fail(`ONNX graph has a cycle through ${nodeLabel(p!)}`);
    before.unshift(p!);
    name = p!.inputs[0] ?? "";
  }
  const downstream = new Set<string>(model.outputs);
  const after: OnnxNode[] = [];
  for (const n of g.nodes) {
    if (n === model || before.includes(n)) continue;
    if (!n.inputs.some((i) => downstream.has(i))) fail(`ONNX ${nodeLabel(n)} does not follow the model operator; kmlib imports a single chain input -> model -> outputs`);
    if (!AFTER_OPS.includes(n.opType)) fail(`ONNX ${nodeLabel(n)} after ${model.opType} is not supported (only ${AFTER_OPS.join(", ")} may follow it)`);
    for (const o of n.outputs) downstream.add(o);
    after.push(n);
  }
  return { model, before, after, input };
}

function classLabels(n: OnnxNode): string[] {
  const intName = n.opType === "LinearClassifier" ? "classlabels_ints" : "classlabels_int64s";
  const s = strings(n, "classlabels_strings");
  const i = ints(n, intName);
  if (s.length > 0 && i.length > 0) failNode(n, `both classlabels_strings and ${intName} are set`);
  if (s.length > 0) return s;
  if (i.length > 0) return i.map(String);
  if (n.opType === "LinearClassifier") return [];
  failNode(n, `neither classlabels_strings nor ${intName} is set`);
}

/** Features the model node reads (the highest feature id + 1, or the coefficient count). */
function modelFeatureCount(n: OnnxNode): number {
  if (n.opType === "LinearClassifier") return linearFeatureCount(n);
  const f = ints(n, "nodes_featureids");
  return f.length === 0 ? 1 : Math.max(...f) + 1;
}

export function importOnnx(bytes: Uint8Array, opts: OnnxImportOptions = {}): ImportResult {
  const m = decodeOnnx(bytes);
  const { model: node, before, after, input } = analyzeGraph(m);
  const notes: string[] = [];
  let scaler: OnnxNode | undefined;
  for (const b of before) {
    if (b.opType === "Cast") {
      const to = int(b, "to", 0);
      if (!FLOAT_TYPES.includes(to)) failNode(b, `casts the features to type ${to} before ${node.opType}, which would change them (only float and double are accepted)`);
      notes.push("Cast to float before the model treated as a no-op");
    } else if (b.opType === "Scaler") {
      if (node.opType !== "LinearClassifier") failNode(b, `before ${node.opType} is not supported: it would move every threshold (a Scaler is folded only into LinearClassifier)`);
      if (scaler) failNode(b, "a second Scaler is not supported");
      scaler = b;
    }
  }
  for (const a of after) notes.push(`${a.opType} after the model treated as a no-op: the class is the model's label output`);
  const inputInfo = m.graph.inputs.find((v) => v.name === input)!;
  const needed = modelFeatureCount(node);
  const dim = inputInfo.shape?.length === 2 ? inputInfo.shape[1] : undefined;
  const nFeatures = typeof dim === "number" && dim > 0 ? dim : needed;
  if (!Number.isInteger(nFeatures) || nFeatures < 1) failNode(node, `cannot tell the number of features (${nFeatures})`);
  if (needed > nFeatures) failNode(node, `uses ${needed} features, but the graph input ${JSON.stringify(input)} has ${nFeatures}`);
  const featureNames = opts.featureNames ?? Array.from({ length: nFeatures }, (_, j) => `f${j}`);
  if (featureNames.length !== nFeatures) fail(`feature count mismatch: the ONNX model has ${nFeatures} features, ${featureNames.length} names were given`);
  let model: Model;
  const op = node.opType as ModelOp;
  switch (op) {
    case "TreeEnsembleClassifier":
      model = treeEnsembleClassifier(node, nFeatures, { featureNames, classNames: classLabels(node) }, notes);
      break;
    case "TreeEnsembleRegressor":
      model = treeEnsembleRegressor(node, nFeatures, featureNames, notes);
      break;
    case "LinearClassifier": {
      let labels = classLabels(node);
      if (labels.length === 0) {
        const rows = reals(node, "intercepts").length;
        labels = rows <= 1 ? ["0", "1"] : Array.from({ length: rows }, (_, i) => String(i));
      }
      model = linearClassifier(node, scaler, nFeatures, featureNames, labels, notes);
      break;
    }
  }
  const producer = [m.producerName, m.producerVersion].filter(Boolean).join(" ") || "unknown";
  return { model, format: "onnx", producer, operator: op, notes };
}
