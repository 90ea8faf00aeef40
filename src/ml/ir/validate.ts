/**
 * @module ml/ir/validate
 * `validateIr`: structural checks of the integer form (shapes, index ranges, tree shape) and
 * the overflow proof promised in `./types.ts`: for every int32 input, no 64-bit intermediate
 * overflows, and tree-ensemble scores and MLP accumulators fit in int32. Errors are
 * KMLIB_INVALID_MODEL and name the offending field (`trees[3].left[7]`).
 */
import { ErrorCode, KmlibError } from "../../errors.ts";
import { INT32_MAX, INT32_MIN, IR_FORMAT, IR_VERSION, MLP_ACT_MAX, type IrModel } from "./types.ts";

const I64_MAX = 2n ** 63n - 1n;
const I64_MIN = -(2n ** 63n);
const MAX_TREES = 1 << 20;
const MAX_NODES = 1 << 24;

function fail(path: string, msg: string): never {
  throw new KmlibError(ErrorCode.InvalidModel, `invalid model: ${path}: ${msg}`);
}

function isObj(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

function intIn(v: unknown, lo: number, hi: number, path: string): number {
  if (typeof v !== "number" || !Number.isInteger(v)) fail(path, `expected an integer, got ${JSON.stringify(typeof v === "bigint" ? String(v) : v)}`);
  if (v < lo || v > hi) fail(path, `${v} outside [${lo}, ${hi}]`);
  return v;
}

function intArray(v: unknown, len: number | undefined, lo: number, hi: number, path: string): number[] {
  if (!Array.isArray(v)) fail(path, "expected an array");
  if (len !== undefined && v.length !== len) fail(path, `expected ${len} entries, got ${v.length}`);
  v.forEach((e, i) => intIn(e, lo, hi, `${path}[${i}]`));
  return v as number[];
}

function bigArray(v: unknown, len: number, path: string): bigint[] {
  if (!Array.isArray(v)) fail(path, "expected an array");
  if (v.length !== len) fail(path, `expected ${len} entries, got ${v.length}`);
  v.forEach((e, i) => {
    if (typeof e !== "bigint") fail(`${path}[${i}]`, `expected a bigint (int64), got ${typeof e}`);
    if (e < I64_MIN || e > I64_MAX) fail(`${path}[${i}]`, "outside int64");
  });
  return v as bigint[];
}

function strArray(v: unknown, len: number, path: string): void {
  if (!Array.isArray(v) || v.length !== len || v.some((s) => typeof s !== "string")) fail(path, `expected ${len} strings`);
}

/** Checks one tree; returns per-leaf max |value| over its `width` values (for bounds). */
function validateTree(t: unknown, nFeatures: number, width: number, path: string): { maxAbs: number; depth: number } {
  if (!isObj(t)) fail(path, "expected a tree object");
  if (!Array.isArray(t.feature)) fail(`${path}.feature`, "expected an array");
  const nNodes = t.feature.length;
  if (nNodes > MAX_NODES) fail(`${path}.feature`, `${nNodes} nodes, more than ${MAX_NODES}`);
  const feature = intArray(t.feature, nNodes, 0, nFeatures - 1, `${path}.feature`);
  intArray(t.threshold, nNodes, INT32_MIN, INT32_MAX, `${path}.threshold`);
  const nLeaves = nNodes + 1;
  const left = intArray(t.left, nNodes, -nLeaves, nNodes - 1, `${path}.left`);
  const right = intArray(t.right, nNodes, -nLeaves, nNodes - 1, `${path}.right`);
  const leafValue = intArray(t.leafValue, nLeaves * width, INT32_MIN, INT32_MAX, `${path}.leafValue`);
  void feature;
  // Tree shape: children after their parent, every node (but the root) and leaf used once.
  const nodeSeen = new Uint8Array(nNodes);
  const leafSeen = new Uint8Array(nLeaves);
  const depth = new Int32Array(nNodes);
  let maxDepth = 0;
  for (let n = 0; n < nNodes; n++) {
    for (const [side, arr] of [["left", left], ["right", right]] as const) {
      const c = arr[n]!;
      const p = `${path}.${side}[${n}]`;
      if (c >= 0) {
        if (c <= n) fail(p, `child node ${c} does not come after its parent ${n}`);
        if (nodeSeen[c]) fail(p, `node ${c} has two parents`);
        nodeSeen[c] = 1;
        depth[c] = depth[n]! + 1;
      } else {
        const l = -c - 1;
        if (leafSeen[l]) fail(p, `leaf ${l} is referenced twice`);
        leafSeen[l] = 1;
        maxDepth = Math.max(maxDepth, depth[n]! + 1);
      }
    }
  }
  for (let n = 1; n < nNodes; n++) if (!nodeSeen[n]) fail(`${path}`, `node ${n} is unreachable`);
  if (nNodes > 0) for (let l = 0; l < nLeaves; l++) if (!leafSeen[l]) fail(`${path}.leafValue`, `leaf ${l} is unreachable`);
  let maxAbs = 0;
  for (const v of leafValue) maxAbs = Math.max(maxAbs, Math.abs(v));
  return { maxAbs, depth: maxDepth };
}

function validateTrees(trees: unknown, nFeatures: number, width: number, path: string): { maxAbs: number[] } {
  if (!Array.isArray(trees)) fail(path, "expected an array of trees");
  if (trees.length === 0) fail(path, "no trees");
  if (trees.length > MAX_TREES) fail(path, `${trees.length} trees, more than ${MAX_TREES}`);
  return { maxAbs: trees.map((t, i) => validateTree(t, nFeatures, width, `${path}[${i}]`).maxAbs) };
}

function absBig(v: bigint): bigint {
  return v < 0n ? -v : v;
}

/**
 * Validates an integer-form model (its in-memory shape: int64 fields as bigint). Returns it
 * typed; throws KMLIB_INVALID_MODEL naming the field otherwise.
 */
export function validateIr(m: unknown): IrModel {
  if (!isObj(m)) fail("model", "expected an object");
  const kinds = ["tree", "forest", "boosted", "linear", "mlp"];
  if (typeof m.kind !== "string" || !kinds.includes(m.kind)) fail("kind", `unsupported model kind ${JSON.stringify(m.kind)} (expected one of ${kinds.join(", ")})`);
  const nFeatures = intIn(m.nFeatures, 1, 1 << 16, "nFeatures");
  const nClasses = intIn(m.nClasses, 2, 1 << 16, "nClasses");
  strArray(m.featureNames, nFeatures, "featureNames");
  strArray(m.classNames, nClasses, "classNames");
  intIn(m.scoreFracBits, 0, 62, "scoreFracBits");
  if (!Array.isArray(m.quant) || m.quant.length !== nFeatures) fail("quant", `expected ${nFeatures} entries`);
  m.quant.forEach((q: unknown, j) => {
    if (!isObj(q)) fail(`quant[${j}]`, "expected {scale, offset}");
    if (typeof q.scale !== "number" || !(q.scale > 0) || !Number.isFinite(q.scale)) fail(`quant[${j}].scale`, "expected a positive finite number");
    intIn(q.offset, INT32_MIN, INT32_MAX, `quant[${j}].offset`);
  });

  switch (m.kind) {
    case "tree": {
      const { maxAbs } = validateTree(m.tree, nFeatures, nClasses, "tree");
      void maxAbs;
      break;
    }
    case "forest": {
      if (m.vote !== "soft" && m.vote !== "majority") fail("vote", `expected "soft" or "majority", got ${JSON.stringify(m.vote)}`);
      const { maxAbs } = validateTrees(m.trees, nFeatures, nClasses, "trees");
      const bound = maxAbs.reduce((s, v) => s + v, 0);
      if (bound > INT32_MAX) fail("trees", `scores can reach ${bound}, beyond int32 (lower the leaf scale)`);
      break;
    }
    case "boosted": {
      if (!Array.isArray(m.bias)) fail("bias", "expected an array");
      const nScores = m.bias.length;
      if (nScores !== 1 && nScores !== nClasses) fail("bias", `expected 1 or ${nClasses} scores, got ${nScores}`);
      if (nScores === 1 && nClasses !== 2) fail("bias", "one score needs exactly 2 classes");
      const bias = intArray(m.bias, nScores, INT32_MIN, INT32_MAX, "bias");
      const { maxAbs } = validateTrees(m.trees, nFeatures, 1, "trees");
      const treeScore = intArray(m.treeScore, maxAbs.length, 0, nScores - 1, "treeScore");
      const bound = bias.map((b) => Math.abs(b));
      treeScore.forEach((s, i) => (bound[s]! += maxAbs[i]!));
      bound.forEach((b, s) => {
        if (b > INT32_MAX) fail(`trees`, `score ${s} can reach ${b}, beyond int32 (lower the leaf scale)`);
      });
      break;
    }
    case "linear": {
      const nScores = intIn(m.nScores, 1, nClasses, "nScores");
      if (nScores !== 1 && nScores !== nClasses) fail("nScores", `expected 1 or ${nClasses}`);
      if (nScores === 1 && nClasses !== 2) fail("nScores", "one score needs exactly 2 classes");
      const w = intArray(m.weights, nScores * nFeatures, INT32_MIN, INT32_MAX, "weights");
      const bias = bigArray(m.bias, nScores, "bias");
      intIn(m.shift, 0, 63, "shift");
      for (let s = 0; s < nScores; s++) {
        let bound = absBig(bias[s]!);
        for (let j = 0; j < nFeatures; j++) bound += BigInt(Math.abs(w[s * nFeatures + j]!)) * 2147483648n;
        if (bound > I64_MAX) fail(`weights[${s * nFeatures}..]`, `score ${s} accumulator can reach ${bound}, beyond int64`);
      }
      break;
    }
    case "mlp": {
      const inp = m.input;
      if (!isObj(inp)) fail("input", "expected an object");
      const mul = intArray(inp.mul, nFeatures, INT32_MIN, INT32_MAX, "input.mul");
      const add = bigArray(inp.add, nFeatures, "input.add");
      intArray(inp.shift, nFeatures, 0, 62, "input.shift");
      const inMax = intIn(inp.max, 1, MLP_ACT_MAX, "input.max");
      for (let j = 0; j < nFeatures; j++) {
        const bound = BigInt(Math.abs(mul[j]!)) * 2147483648n + absBig(add[j]!);
        if (bound > I64_MAX) fail(`input.mul[${j}]`, `x * mul + add can reach ${bound}, beyond int64`);
      }
      if (!Array.isArray(m.layers) || m.layers.length === 0) fail("layers", "expected a non-empty array");
      let nIn = nFeatures;
      let actMax = inMax;
      m.layers.forEach((layer: unknown, l) => {
        const p = `layers[${l}]`;
        if (!isObj(layer)) fail(p, "expected an object");
        if (intIn(layer.nIn, 1, 1 << 16, `${p}.nIn`) !== nIn) fail(`${p}.nIn`, `expected ${nIn} (the previous layer's outputs)`);
        const nOut = intIn(layer.nOut, 1, 1 << 16, `${p}.nOut`);
        const w = intArray(layer.weights, nOut * nIn, -128, 127, `${p}.weights`);
        const b = intArray(layer.bias, nOut, INT32_MIN, INT32_MAX, `${p}.bias`);
        const shift = intIn(layer.shift, 0, 30, `${p}.shift`);
        const last = l === (m.layers as unknown[]).length - 1;
        if (layer.activation !== "relu" && layer.activation !== "none") fail(`${p}.activation`, `expected "relu" or "none"`);
        if (!last && layer.activation !== "relu") fail(`${p}.activation`, "hidden layers must be relu (their outputs feed int8 products)");
        for (let o = 0; o < nOut; o++) {
          let bound = Math.abs(b[o]!) + (shift > 0 ? 2 ** (shift - 1) : 0);
          for (let i = 0; i < nIn; i++) bound += Math.abs(w[o * nIn + i]!) * actMax;
          if (bound > INT32_MAX) fail(`${p}.weights[${o * nIn}..]`, `accumulator of output ${o} can reach ${bound}, beyond int32`);
        }
        nIn = nOut;
        actMax = MLP_ACT_MAX;
      });
      if (nIn !== 1 && nIn !== nClasses) fail(`layers[${m.layers.length - 1}].nOut`, `expected 1 or ${nClasses} outputs`);
      if (nIn === 1 && nClasses !== 2) fail(`layers[${m.layers.length - 1}].nOut`, "one output needs exactly 2 classes");
      break;
    }
  }
  return m as unknown as IrModel;
}

/** The versioned file envelope. */
export function validateEnvelope(doc: unknown): Record<string, unknown> {
  if (!isObj(doc)) fail("file", "expected a JSON object");
  if (doc.format !== IR_FORMAT) fail("format", `expected ${JSON.stringify(IR_FORMAT)}, got ${JSON.stringify(doc.format)}`);
  if (doc.version !== IR_VERSION) fail("version", `unsupported version ${JSON.stringify(doc.version)} (this kmlib reads version ${IR_VERSION})`);
  if (!isObj(doc.model)) fail("model", "expected an object");
  return doc.model;
}
