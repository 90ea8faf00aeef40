/**
 * @module compile/table-layout
 * The table strategy's parameter image: one array-map value holding a whole model, read by a
 * program whose code depends only on the model's *shape* (so new parameters of the same
 * shape are swapped in by a map update, without reloading anything).
 *
 * Tree models (tree, forest, boosted), little-endian, byte offsets from the value's start:
 *
 *     0  u32 magic "KMT1"   4 u32 nTrees   8 u32 nScores   12 u32 reserved
 *     16 s32 bias[nScores]                                 initial scores (boosted bias)
 *     R  u32 root[treeCap]                                 byte offset of each root record
 *     N  record[nodeCap] = {u32 4*feature, s32 threshold, u32 left, u32 right}
 *     V  s32 leaf[leafCap][nScores]
 *
 * A child is the byte offset of its record. A leaf is a record that loops on itself
 * {0, INT32_MAX, self, valueOffset}: `x[0] <= INT32_MAX` always holds, so a walk of exactly
 * `depth` branch-free steps ends on the leaf whatever the leaf's depth, and the leaf's
 * `right` word (never followed) is the byte offset of its score vector.
 *
 * Linear: 16 s64 bias[nScores], then s32 weights[nScores*nFeatures]; word 8 is the shift.
 * MLP: s32 mul[F], s64 add[F], u32 shift[F], then per layer s8 weights[nOut*nIn] (padded to
 * 4), s32 bias[nOut], and its shift and rounding half in the header of the layer.
 */
import { assertNever, ErrorCode, KmlibError } from "../errors.ts";
import { treeDepth } from "../ml/ir/summary.ts";
import { INT32_MAX, irScoreCount, irTrees, type IrModel } from "../ml/ir/types.ts";

export const TABLE_MAGIC = 0x31544d4b; // "KMT1"
/** Largest array-map value the kernel accepts (KMALLOC_MAX_SIZE on x86-64). */
export const MAX_TABLE_BYTES = 4 << 20;

export interface TreeShape {
  family: "trees";
  nFeatures: number;
  nScores: number;
  treeCap: number;
  nodeCap: number;
  leafCap: number;
  depth: number;
  rootsAt: number;
  nodesAt: number;
  valuesAt: number;
  bytes: number;
}
export interface LinearShape {
  family: "linear";
  nFeatures: number;
  nScores: number;
  weightsAt: number;
  bytes: number;
}
export interface MlpLayerShape {
  nIn: number;
  nOut: number;
  relu: boolean;
  /** Layer header: u32 shift, s32 half. */
  headerAt: number;
  weightsAt: number;
  biasAt: number;
}
export interface MlpShape {
  family: "mlp";
  nFeatures: number;
  nScores: number;
  mulAt: number;
  addAt: number;
  shiftAt: number;
  layers: MlpLayerShape[];
  bytes: number;
}
export type TableShape = TreeShape | LinearShape | MlpShape;

export interface TableCapacity {
  /** Trees, internal + leaf records, depth: room for models swapped in later. */
  trees?: number;
  nodes?: number;
  depth?: number;
}

const align8 = (n: number) => (n + 7) & ~7;

function fail(msg: string): never {
  throw new KmlibError(ErrorCode.InvalidModel, msg);
}

/** The smallest shape that holds `ir` (with optional headroom). */
export function tableShape(ir: IrModel, cap: TableCapacity = {}): TableShape {
  const F = ir.nFeatures;
  const S = irScoreCount(ir);
  let shape: TableShape;
  switch (ir.kind) {
    case "tree":
    case "forest":
    case "boosted": {
      const trees = irTrees(ir);
      const treeCap = Math.max(cap.trees ?? 0, trees.length);
      const records = trees.reduce((n, t) => n + 2 * t.feature.length + 1, 0);
      const nodeCap = Math.max(cap.nodes ?? 0, records);
      const leafCap = Math.max(cap.nodes ?? 0, trees.reduce((n, t) => n + t.feature.length + 1, 0));
      const depth = Math.max(cap.depth ?? 0, ...trees.map(treeDepth));
      const rootsAt = align8(16 + 4 * S);
      const nodesAt = align8(rootsAt + 4 * treeCap);
      const valuesAt = nodesAt + 16 * nodeCap;
      shape = { family: "trees", nFeatures: F, nScores: S, treeCap, nodeCap, leafCap, depth, rootsAt, nodesAt, valuesAt, bytes: align8(valuesAt + 4 * S * leafCap) };
      break;
    }
    case "linear":
      shape = { family: "linear", nFeatures: F, nScores: S, weightsAt: 16 + 8 * S, bytes: align8(16 + 8 * S + 4 * S * F) };
      break;
    case "mlp": {
      const mulAt = 16;
      const addAt = align8(mulAt + 4 * F);
      const shiftAt = addAt + 8 * F;
      let at = shiftAt + 4 * F;
      const layers = ir.layers.map((l) => {
        const headerAt = at;
        const weightsAt = headerAt + 8;
        const biasAt = weightsAt + ((l.nIn * l.nOut + 3) & ~3);
        at = biasAt + 4 * l.nOut;
        return { nIn: l.nIn, nOut: l.nOut, relu: l.activation === "relu", headerAt, weightsAt, biasAt };
      });
      shape = { family: "mlp", nFeatures: F, nScores: S, mulAt, addAt, shiftAt, layers, bytes: align8(at) };
      break;
    }
    default:
      return assertNever(ir, "integer model kind");
  }
  if (shape.bytes > MAX_TABLE_BYTES) fail(`model too large for the table strategy: its table needs ${shape.bytes} bytes, the kernel's array-map value limit is ${MAX_TABLE_BYTES} (KMALLOC_MAX_SIZE); use the inline strategy with layout "tailcalls"`);
  return shape;
}

/** Why `ir` cannot use a table of `shape` (undefined when it fits). */
export function shapeMismatch(ir: IrModel, shape: TableShape): string | undefined {
  if (ir.nFeatures !== shape.nFeatures) return `feature count mismatch: the table program reads ${shape.nFeatures} features, the model has ${ir.nFeatures}`;
  if (irScoreCount(ir) !== shape.nScores) return `the table program has ${shape.nScores} scores, the model ${irScoreCount(ir)}`;
  const own = tableShape(ir);
  switch (shape.family) {
    case "trees": {
      if (own.family !== "trees") return `the table program runs tree models, not ${ir.kind}`;
      if (own.treeCap > shape.treeCap) return `${own.treeCap} trees exceed the table's capacity of ${shape.treeCap}`;
      if (own.nodeCap > shape.nodeCap) return `${own.nodeCap} node records exceed the table's capacity of ${shape.nodeCap}`;
      if (own.leafCap > shape.leafCap) return `${own.leafCap} leaves exceed the table's capacity of ${shape.leafCap}`;
      if (own.depth > shape.depth) return `depth ${own.depth} exceeds the table program's ${shape.depth} steps`;
      return undefined;
    }
    case "linear":
      return own.family === "linear" ? undefined : `the table program runs linear models, not ${ir.kind}`;
    case "mlp": {
      if (own.family !== "mlp") return `the table program runs perceptrons, not ${ir.kind}`;
      const a = own.layers.map((l) => `${l.nIn}x${l.nOut}${l.relu ? "r" : ""}`).join(",");
      const b = shape.layers.map((l) => `${l.nIn}x${l.nOut}${l.relu ? "r" : ""}`).join(",");
      return a === b ? undefined : `layer shapes differ: table ${b}, model ${a}`;
    }
    default:
      return assertNever(shape, "table shape");
  }
}

/** The parameter image of `ir` in a table of `shape`. */
export function encodeTable(ir: IrModel, shape: TableShape): Uint8Array {
  const why = shapeMismatch(ir, shape);
  if (why) throw new KmlibError(ErrorCode.InvalidModel, `model does not fit the table program: ${why}`);
  const buf = new Uint8Array(shape.bytes);
  const dv = new DataView(buf.buffer);
  const u32 = (at: number, v: number) => dv.setUint32(at, v >>> 0, true);
  const s32 = (at: number, v: number) => dv.setInt32(at, v, true);
  u32(0, TABLE_MAGIC);
  u32(8, shape.nScores);
  switch (shape.family) {
    case "trees": {
      if (ir.kind !== "tree" && ir.kind !== "forest" && ir.kind !== "boosted") throw new KmlibError(ErrorCode.InvalidModel, "not a tree model");
      const trees = irTrees(ir);
      const S = shape.nScores;
      u32(4, trees.length);
      if (ir.kind === "boosted") ir.bias.forEach((b, s) => s32(16 + 4 * s, b));
      let rec = 0;
      let leafBase = 0;
      trees.forEach((t, ti) => {
        const n = t.feature.length;
        const recAt = (i: number) => shape.nodesAt + 16 * (rec + i);
        // Records: internal nodes 0..n-1, then leaves n..2n.
        const child = (c: number) => recAt(c >= 0 ? c : n + (-c - 1));
        u32(shape.rootsAt + 4 * ti, recAt(0));
        for (let i = 0; i < n; i++) {
          u32(recAt(i), 4 * t.feature[i]!);
          s32(recAt(i) + 4, t.threshold[i]!);
          u32(recAt(i) + 8, child(t.left[i]!));
          u32(recAt(i) + 12, child(t.right[i]!));
        }
        for (let l = 0; l <= n; l++) {
          const at = recAt(n + l);
          const valueAt = shape.valuesAt + 4 * S * (leafBase + l);
          u32(at, 0);
          s32(at + 4, INT32_MAX);
          u32(at + 8, at);
          u32(at + 12, valueAt);
          if (ir.kind === "boosted") s32(valueAt + 4 * ir.treeScore[ti]!, t.leafValue[l]!);
          else for (let s = 0; s < S; s++) s32(valueAt + 4 * s, t.leafValue[l * S + s]!);
        }
        rec += 2 * n + 1;
        leafBase += n + 1;
      });
      break;
    }
    case "linear": {
      if (ir.kind !== "linear") throw new KmlibError(ErrorCode.InvalidModel, "not a linear model");
      u32(12, ir.shift);
      ir.bias.forEach((b, s) => dv.setBigInt64(16 + 8 * s, b, true));
      ir.weights.forEach((w, i) => s32(shape.weightsAt + 4 * i, w));
      break;
    }
    case "mlp": {
      if (ir.kind !== "mlp") throw new KmlibError(ErrorCode.InvalidModel, "not a perceptron");
      u32(4, ir.input.max);
      for (let j = 0; j < shape.nFeatures; j++) {
        s32(shape.mulAt + 4 * j, ir.input.mul[j]!);
        dv.setBigInt64(shape.addAt + 8 * j, ir.input.add[j]!, true);
        u32(shape.shiftAt + 4 * j, ir.input.shift[j]!);
      }
      ir.layers.forEach((layer, li) => {
        const ls = shape.layers[li]!;
        u32(ls.headerAt, layer.shift);
        s32(ls.headerAt + 4, layer.shift > 0 ? 2 ** (layer.shift - 1) : 0);
        layer.weights.forEach((w, i) => dv.setInt8(ls.weightsAt + i, w));
        layer.bias.forEach((b, o) => s32(ls.biasAt + 4 * o, b));
      });
      break;
    }
    default:
      assertNever(shape, "table shape");
  }
  return buf;
}
