/**
 * @module ml/import/xgboost
 * Imports an XGBoost JSON model (`Booster.save_model("m.json")`, format of XGBoost 1.x-2.x)
 * into a kmlib boosted model.
 *
 * XGBoost stores every split condition and leaf value as float32 and sends a row left when
 * `x < condition` (as float32). kmlib reads each number back to its exact float32 value
 * (`Math.fround`) and turns `x < c` into `x <= nextDown(c)`, exact for every input XGBoost
 * itself could see (float32 values, and so every integer feature below 2^24).
 * Margins: score = base margin + sum of the leaves of the trees of that class, the base margin
 * being logit(base_score) for binary:logistic/logitraw and base_score itself otherwise. Class: margin
 * > 0 (binary, i.e. probability > 0.5), or the top margin (multi:softprob / multi:softmax).
 * Only the rounds up to `best_iteration` count, as XGBoost's own predict does. Missing values
 * (NaN, `default_left`) and categorical splits are out of scope; dart boosters scale each
 * tree by its `weight_drop`.
 */
import { ErrorCode, KmlibError } from "../../errors.ts";
import type { BoostedModel, FlatTree } from "../model/types.ts";
import type { ImportResult } from "./result.ts";
import { buildFlatTree, type ForeignNode } from "./tree-build.ts";

const OBJECTIVES = ["binary:logistic", "binary:logitraw", "binary:hinge", "multi:softprob", "multi:softmax"] as const;

type Json = Record<string, unknown>;

function fail(msg: string, cause?: unknown): never {
  throw new KmlibError(ErrorCode.InvalidModel, `XGBoost model: ${msg}`, cause === undefined ? undefined : { cause });
}

function obj(v: unknown, what: string): Json {
  if (!v || typeof v !== "object" || Array.isArray(v)) fail(`${what} is missing or not an object`);
  return v as Json;
}

function numArray(v: unknown, what: string, len: number): number[] {
  if (!Array.isArray(v) || v.length !== len || !v.every((x) => typeof x === "number")) fail(`${what} must be an array of ${len} numbers`);
  return v as number[];
}

/** XGBoost writes parameters as strings ("5E-1", "[5E-1]" in 2.x) or numbers. */
function param(v: unknown, what: string): number {
  const s = typeof v === "string" ? v.replace(/^\[|\]$/g, "") : v;
  const n = typeof s === "number" ? s : typeof s === "string" && s.trim() !== "" ? Number(s) : NaN;
  if (!Number.isFinite(n)) fail(`${what} is ${JSON.stringify(v)}, not a number`);
  return n;
}

function tree(t: Json, i: number, nFeatures: number, scale: number): FlatTree {
  const n = param(obj(t.tree_param, `tree ${i} tree_param`).num_nodes, `tree ${i} num_nodes`);
  const left = numArray(t.left_children, `tree ${i} left_children`, n);
  const right = numArray(t.right_children, `tree ${i} right_children`, n);
  const idx = numArray(t.split_indices, `tree ${i} split_indices`, n);
  const cond = numArray(t.split_conditions, `tree ${i} split_conditions`, n);
  const types = Array.isArray(t.split_type) ? (t.split_type as unknown[]) : [];
  const get = (id: number): ForeignNode | undefined => {
    if (!(Number.isInteger(id) && id >= 0 && id < n)) return undefined;
    if (left[id] === -1) return { leaf: true, value: [Math.fround(cond[id]!) * scale] };
    if (types[id] !== undefined && types[id] !== 0) fail(`tree ${i} node ${id} is a categorical split, which kmlib does not import`);
    return { leaf: false, feature: idx[id]!, op: "<", threshold: Math.fround(cond[id]!), yes: left[id]!, no: right[id]! };
  };
  return buildFlatTree(0, get, 1, nFeatures, `XGBoost tree ${i}`);
}

export interface XgboostImportOptions {
  /** Names of the features (default: the model's feature_names, else f0, f1, ...). */
  featureNames?: string[];
}

export function importXgboostJson(text: string, opts: XgboostImportOptions = {}): ImportResult {
  let root: Json;
  try {
    root = obj(JSON.parse(text), "the file");
  } catch (e) {
    if (e instanceof KmlibError) throw e;
    fail(`not JSON (${(e as Error).message})`, e);
  }
  const learner = obj(root.learner, "learner");
  const objective = String(obj(learner.objective, "learner.objective").name);
  if (!(OBJECTIVES as readonly string[]).includes(objective)) fail(`objective ${objective} is not supported (kmlib imports ${OBJECTIVES.join(", ")})`);
  const lmp = obj(learner.learner_model_param, "learner.learner_model_param");
  const nFeatures = param(lmp.num_feature, "num_feature");
  const numClass = param(lmp.num_class ?? 0, "num_class");
  const baseScore = param(lmp.base_score, "base_score");
  const multi = objective.startsWith("multi:");
  if (multi && numClass < 2) fail(`objective ${objective} with num_class ${numClass}`);
  if (!multi && numClass > 1) fail(`objective ${objective} with num_class ${numClass}`);
  if (!(Number.isInteger(nFeatures) && nFeatures >= 1)) fail(`num_feature is ${nFeatures}`);

  const booster = obj(learner.gradient_booster, "learner.gradient_booster");
  const name = String(booster.name);
  let gbtree = booster;
  let weightDrop: number[] | undefined;
  if (name === "dart") {
    gbtree = obj(booster.gbtree, "learner.gradient_booster.gbtree");
    weightDrop = Array.isArray(booster.weight_drop) ? (booster.weight_drop as number[]) : undefined;
  } else if (name !== "gbtree") {
    fail(`booster ${name} is not supported (gbtree and dart are)`);
  }
  const model = obj(gbtree.model, "gradient_booster.model");
  const trees = Array.isArray(model.trees) ? (model.trees as unknown[]) : fail("gradient_booster.model.trees is missing");
  const info = numArray(model.tree_info, "tree_info", trees.length);
  const nParallel = param(obj(model.gbtree_model_param ?? {}, "gbtree_model_param").num_parallel_tree ?? 1, "num_parallel_tree");
  const nScores = multi ? numClass : 1;
  const attrs = (learner.attributes ?? {}) as Json;
  let nUsed = trees.length;
  if (attrs.best_iteration !== undefined) nUsed = Math.min(trees.length, (param(attrs.best_iteration, "best_iteration") + 1) * nScores * nParallel);

  const flat: FlatTree[] = [];
  const treeScore: number[] = [];
  for (let i = 0; i < nUsed; i++) {
    const s = info[i]!;
    if (!(Number.isInteger(s) && s >= 0 && s < nScores)) fail(`tree ${i} scores class ${s}, outside [0, ${nScores})`);
    const scale = weightDrop?.[i] ?? 1;
    flat.push(tree(obj(trees[i], `tree ${i}`), i, nFeatures, scale));
    treeScore.push(s);
  }
  if (flat.length === 0) fail("has no trees");
  const b = Math.fround(baseScore);
  let margin = b;
  if (objective === "binary:logistic" || objective === "binary:logitraw") {
    if (!(b > 0 && b < 1)) fail(`base_score ${baseScore} is not a probability`);
    margin = Math.log(b / (1 - b));
  }
  const names = Array.isArray(learner.feature_names) && learner.feature_names.length === nFeatures ? (learner.feature_names as unknown[]).map(String) : undefined;
  const featureNames = opts.featureNames ?? names ?? Array.from({ length: nFeatures }, (_, j) => `f${j}`);
  if (featureNames.length !== nFeatures) throw new KmlibError(ErrorCode.InvalidModel, `feature count mismatch: the XGBoost model has ${nFeatures} features, ${featureNames.length} names were given`);
  const m: BoostedModel = {
    kind: "boosted",
    objective: multi ? "multiclass" : "binary",
    nFeatures,
    featureNames,
    classNames: multi ? Array.from({ length: numClass }, (_, c) => String(c)) : ["0", "1"],
    trees: flat,
    treeScore: Int32Array.from(treeScore),
    bias: new Float64Array(nScores).fill(margin),
  };
  const version = Array.isArray(root.version) ? (root.version as unknown[]).join(".") : "";
  const notes = [`split x < c read as x <= nextDown(float32 c); ${flat.length} of ${trees.length} trees (rounds up to best_iteration)`];
  if (objective === "binary:hinge") notes.push("binary:hinge: class 1 when the margin > 0");
  return { model: m, format: "xgboost", producer: `xgboost${version ? ` ${version}` : ""}`, operator: objective, notes };
}
