/**
 * @module ml/import/tree-build
 * Turns a foreign tree (nodes addressed by arbitrary ids, any split direction) into kmlib's
 * flat tree (`ml/model/types` FlatTree: go left when x <= threshold, children numbered after
 * their parent, leaves as negative indices). Strict comparisons become `<=` exactly:
 * `x < t` holds for a double x exactly when `x <= nextDown(t)`, the largest double below t.
 */
import { ErrorCode, KmlibError } from "../../errors.ts";
import { FlatTreeBuilder } from "../model/flat-tree-builder.ts";
import type { FlatTree } from "../model/types.ts";

/** A split as the foreign format states it. */
export type SplitOp = "<=" | "<" | ">=" | ">";

export type ForeignNode =
  | { leaf: false; feature: number; op: SplitOp; threshold: number; yes: number; no: number }
  | { leaf: true; value: ArrayLike<number> };

const f64 = new Float64Array(1);
const u64 = new BigUint64Array(f64.buffer);

/** The largest double strictly below x (x finite or +Infinity). */
export function nextDown(x: number): number {
  if (Number.isNaN(x) || x === -Infinity) return x;
  if (x === 0) return -Number.MIN_VALUE;
  f64[0] = x;
  u64[0] = x > 0 ? u64[0]! - 1n : u64[0]! + 1n;
  return f64[0]!;
}

/** `x op t` as "go left when x <= threshold": the threshold and whether yes is the left child. */
export function toLeq(op: SplitOp, t: number): { threshold: number; yesLeft: boolean } {
  switch (op) {
    case "<=":
      return { threshold: t, yesLeft: true };
    case "<":
      return { threshold: nextDown(t), yesLeft: true };
    case ">": // x > t  <=>  !(x <= t)
      return { threshold: t, yesLeft: false };
    case ">=": // x >= t  <=>  !(x < t)
      return { threshold: nextDown(t), yesLeft: false };
  }
}

/**
 * Builds a flat tree from `root`, numbering internal nodes and leaves in depth-first order.
 * `what` names the tree in errors (cycles, missing or shared nodes, bad features).
 */
export function buildFlatTree(root: number, get: (id: number) => ForeignNode | undefined, width: number, nFeatures: number, what: string): FlatTree {
  const fail = (msg: string): never => {
    throw new KmlibError(ErrorCode.InvalidModel, `${what}: ${msg}`);
  };
  const tree = new FlatTreeBuilder(width);
  const seen = new Set<number>();
  // Each entry: a node id and where to write the index it gets (parent, side).
  const stack: Array<{ id: number; parent: number; side: "l" | "r" }> = [{ id: root, parent: -1, side: "l" }];
  while (stack.length > 0) {
    const { id, parent, side } = stack.pop()!;
    if (seen.has(id)) fail(`node ${id} is reached twice (a cycle or a shared subtree)`);
    seen.add(id);
    const n = get(id);
    if (!n) fail(`node ${id} does not exist`);
    let ref: number;
    if (n!.leaf) {
      const v = n!.value;
      if (v.length !== width) fail(`leaf ${id} has ${v.length} values, expected ${width}`);
      for (let i = 0; i < width; i++) if (!Number.isFinite(v[i]!)) fail(`leaf ${id} has a non-finite value ${v[i]}`);
      ref = tree.leaf(v);
    } else {
      const s = n!;
      if (!Number.isInteger(s.feature) || s.feature < 0 || s.feature >= nFeatures) fail(`node ${id} splits on feature ${s.feature}, outside [0, ${nFeatures})`);
      if (Number.isNaN(s.threshold)) fail(`node ${id} has a NaN threshold`);
      const { threshold: t, yesLeft } = toLeq(s.op, s.threshold);
      ref = tree.split(s.feature, t);
      // Left is visited first, so it gets the smaller index; both come after the parent.
      stack.push({ id: yesLeft ? s.no : s.yes, parent: ref, side: "r" });
      stack.push({ id: yesLeft ? s.yes : s.no, parent: ref, side: "l" });
    }
    if (parent >= 0) tree.setChild(parent, side, ref);
  }
  return tree.build();
}

/** Largest |leaf value| of a set of trees. */
export function maxAbsLeaf(trees: readonly FlatTree[]): number {
  let m = 0;
  for (const t of trees) for (const v of t.leafValue) m = Math.max(m, Math.abs(v));
  return m;
}

/**
 * Multiplies every leaf by the power of two that brings the largest to (1/2, 1]: exact in
 * floating point, so no decision changes, and the fixed-point lowering keeps its precision
 * when a forest stores its probabilities already divided by the number of trees.
 */
export function normalizeLeaves(trees: FlatTree[]): void {
  const m = maxAbsLeaf(trees);
  if (m === 0) return;
  let s = 2 ** -Math.ceil(Math.log2(m));
  if (m * s > 1) s /= 2;
  if (s === 1) return;
  for (const t of trees) for (let i = 0; i < t.leafValue.length; i++) t.leafValue[i]! *= s;
}
