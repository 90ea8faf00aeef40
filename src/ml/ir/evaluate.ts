/**
 * @module ml/ir/evaluate
 * The reference evaluator of the integer form: exactly the semantics stated in `./types.ts`.
 * Tree and MLP arithmetic stays within int32 (proved by `validateIr`), so JavaScript numbers
 * are exact there; linear and MLP-input products can reach 2^62, so they take a BigInt path
 * whenever a float bound cannot prove the sum stays below 2^53.
 */
import { assertNever, ErrorCode, KmlibError } from "../../errors.ts";
import { decide } from "../model/predict.ts";
import { INT32_MAX, INT32_MIN, MLP_ACT_MAX, type IrModel, type IrResult, type IrTree } from "./types.ts";

/**
 * Leaf index reached by integer features x. The same walk as the float form's `treeLeaf`, kept
 * apart on purpose: one function over both number[] and typed-array trees runs ~8% slower.
 */
export function irTreeLeaf(t: IrTree, x: ArrayLike<number>): number {
  if (t.feature.length === 0) return 0;
  let n = 0;
  for (;;) {
    const c = x[t.feature[n]!]! <= t.threshold[n]! ? t.left[n]! : t.right[n]!;
    if (c < 0) return -c - 1;
    n = c;
  }
}

/** The class rule: one score -> (score > 0); several -> first index of the maximum. The float form's `decide`: one rule for both. */
export const irDecide: (scores: ArrayLike<number>) => number = decide;

const EXACT = 2 ** 53;

/** bias + sum_j w[j] * x[j], exactly, as a bigint when it may not be a safe number. */
function dot64(bias: bigint, w: ArrayLike<number>, wOff: number, x: ArrayLike<number>, n: number): bigint {
  let bound = Math.abs(Number(bias));
  for (let j = 0; j < n; j++) bound += Math.abs(w[wOff + j]! * x[j]!);
  if (bound < EXACT / 2) {
    let s = Number(bias);
    for (let j = 0; j < n; j++) s += w[wOff + j]! * x[j]!;
    return BigInt(s);
  }
  let s = bias;
  for (let j = 0; j < n; j++) {
    const wj = w[wOff + j]!;
    if (wj !== 0 && x[j] !== 0) s += BigInt(wj) * BigInt(x[j]!);
  }
  return s;
}

function clampInt32(v: bigint): number {
  return v > 2147483647n ? INT32_MAX : v < -2147483648n ? INT32_MIN : Number(v);
}

function checkInput(ir: IrModel, x: ArrayLike<number>): void {
  if (x.length !== ir.nFeatures) {
    throw new KmlibError(ErrorCode.InvalidArgument, `feature count mismatch: model expects ${ir.nFeatures} features, got ${x.length}`);
  }
  for (let j = 0; j < x.length; j++) {
    const v = x[j]!;
    if (!Number.isInteger(v) || v < INT32_MIN || v > INT32_MAX) throw new KmlibError(ErrorCode.InvalidArgument, `feature ${j}: ${v} is not an int32`);
  }
}

/** Scores of one row of int32 features. The model must have passed `validateIr`. */
export function evaluateIrScores(ir: IrModel, x: ArrayLike<number>): number[] {
  checkInput(ir, x);
  switch (ir.kind) {
    case "tree": {
      const k = ir.nClasses;
      const l = irTreeLeaf(ir.tree, x);
      return ir.tree.leafValue.slice(l * k, l * k + k);
    }
    case "forest": {
      const k = ir.nClasses;
      const s = new Array<number>(k).fill(0);
      for (const t of ir.trees) {
        const l = irTreeLeaf(t, x) * k;
        for (let c = 0; c < k; c++) s[c]! += t.leafValue[l + c]!;
      }
      return s;
    }
    case "boosted": {
      const s = [...ir.bias];
      for (let i = 0; i < ir.trees.length; i++) {
        const t = ir.trees[i]!;
        s[ir.treeScore[i]!]! += t.leafValue[irTreeLeaf(t, x)]!;
      }
      return s;
    }
    case "linear": {
      const f = ir.nFeatures;
      const sh = BigInt(ir.shift);
      const s: number[] = [];
      for (let c = 0; c < ir.nScores; c++) s.push(clampInt32(dot64(ir.bias[c]!, ir.weights, c * f, x, f) >> sh));
      return s;
    }
    case "mlp": {
      const inp = ir.input;
      let a: number[] = [];
      for (let j = 0; j < ir.nFeatures; j++) {
        const v = dot64(inp.add[j]!, inp.mul, j, [x[j]!], 1) >> BigInt(inp.shift[j]!);
        a.push(v > BigInt(inp.max) ? inp.max : v < BigInt(-inp.max) ? -inp.max : Number(v));
      }
      for (const layer of ir.layers) {
        const out: number[] = [];
        const half = layer.shift > 0 ? 2 ** (layer.shift - 1) : 0;
        const div = 2 ** layer.shift;
        for (let o = 0; o < layer.nOut; o++) {
          let acc = layer.bias[o]!;
          const base = o * layer.nIn;
          for (let i = 0; i < layer.nIn; i++) acc += layer.weights[base + i]! * a[i]!;
          // floor((acc + half) / 2^shift) is exactly the arithmetic shift for |acc| < 2^53.
          let r = layer.shift > 0 ? Math.floor((acc + half) / div) : acc;
          if (layer.activation === "relu") r = r < 0 ? 0 : r > MLP_ACT_MAX ? MLP_ACT_MAX : r;
          out.push(r);
        }
        a = out;
      }
      return a;
    }
    default:
      return assertNever(ir, "integer model kind");
  }
}

/** Class and scores of one row of int32 features. */
export function evaluateIr(ir: IrModel, x: ArrayLike<number>): IrResult {
  const scores = evaluateIrScores(ir, x);
  return { class: irDecide(scores), scores };
}

/** Classes of many rows (row-major int32 matrix with nFeatures columns). */
export function evaluateIrRows(ir: IrModel, xq: Int32Array): Int32Array {
  const f = ir.nFeatures;
  const n = xq.length / f;
  const out = new Int32Array(n);
  for (let r = 0; r < n; r++) out[r] = irDecide(evaluateIrScores(ir, xq.subarray(r * f, r * f + f)));
  return out;
}
