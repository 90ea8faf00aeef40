/**
 * @module compile/inline-trees
 * Inline strategy for tree models: every tree becomes nested branches with its thresholds as
 * immediates (`if (s32)x[f] > T goto right`), laid out in preorder so the left child falls
 * through; a split that the path above already decides is left out. Leaves add their
 * constant values to the score accumulators (registers r6-r9 for up to four scores, memory
 * at r2 beyond) and jump to the next tree: votes and fixed-point sums are plain adds, with no
 * branch per class; a node over two leaves adds the left one and leaves, or adds the
 * difference. A single tree knows its class per leaf at compile time, so its leaves store
 * the scores and set r0 directly.
 */
import { Add, CallLocal, Exit, Ja, JaLong, JSGT32, JSLE32, LoadMem, LoadMemSX, Mov, StoreImm, StoreMem, label, type AsmItem, type Register } from "../bpf/asm/index.ts";
import { assertNever } from "../errors.ts";
import { irDecide } from "../ml/ir/evaluate.ts";
import { INT32_MAX, INT32_MIN, irScoreCount, type IrBoosted, type IrForest, type IrTree, type IrTreeModel } from "../ml/ir/types.ts";
import { argmaxMem, argmaxRegs, finish, isImm32, opaqueZero, type Body, type BodyContext } from "./emit-common.ts";

export type { Acc };

const SCORE_REGS: readonly Register[] = [6, 7, 8, 9];

/** Where tree scores accumulate: registers, or int32 slots at r2. */
type Acc = { kind: "regs"; regs: readonly Register[] } | { kind: "mem"; n: number };

function leafAdd(acc: Acc, values: readonly number[]): AsmItem[] {
  const out: AsmItem[] = [];
  values.forEach((v, s) => {
    if (v === 0) return;
    switch (acc.kind) {
      case "regs":
        out.push(Add.imm(acc.regs[s]!, v));
        break;
      case "mem":
        out.push(LoadMem("W", 4, 2, 4 * s), Add.imm(4, v), StoreMem("W", 2, 4 * s, 4));
        break;
      default:
        assertNever(acc, "accumulator");
    }
  });
  return out;
}

/** Slots a conditional jump can reach (16-bit offset, with a margin). */
const NEAR = 32000;

const slotCount = (items: readonly AsmItem[]): number => items.reduce((n, it) => n + ("label" in it ? 0 : it.op === 0x18 ? 2 : 1), 0);

/**
 * Code of a node over two leaves with x[feature] in r3 (`thr`: left when x <= thr), or
 * undefined for the usual branch to the right leaf.
 */
export type OnPair = (left: number, right: number, thr: number, last: boolean) => AsmItem[] | undefined;

/**
 * One tree in preorder. `onLeaf(l, last)` gives the leaf's code, which must leave the tree
 * (the last leaf may fall through). r3 caches x[feature] of the parent: both children see
 * it, so a child testing the same feature skips the load. A left subtree too large for a
 * conditional jump's 16-bit reach is jumped over by `gotol` (cpu v4) instead. `onPair` may
 * give a node over two leaves its own code.
 */
export function emitTree(t: IrTree, p: string, onLeaf: (leaf: number, last: boolean) => AsmItem[], onPair?: OnPair): AsmItem[] {
  if (t.feature.length === 0) return onLeaf(0, true);
  // Bounds of each feature on the path so far: a split they decide has one live child, and
  // the other is not emitted (the verifier would remove it, at a cost quadratic in size).
  const lo = new Map<number, number>();
  const hi = new Map<number, number>();
  const walk = (c: number, cached: number, last: boolean): AsmItem[] => {
    if (c < 0) return onLeaf(-c - 1, last);
    const f = t.feature[c]!;
    const thr = t.threshold[c]!;
    const l = t.left[c]!;
    const rc = t.right[c]!;
    const fLo = lo.get(f) ?? INT32_MIN;
    const fHi = hi.get(f) ?? INT32_MAX;
    if (fHi <= thr) return walk(l, cached, last);
    if (fLo > thr) return walk(rc, cached, last);
    const out: AsmItem[] = f !== cached ? [LoadMem("W", 3, 1, 4 * f)] : [];
    const pair = onPair && l < 0 && rc < 0 ? onPair(-l - 1, -rc - 1, thr, last) : undefined;
    if (pair) return [...out, ...pair];
    hi.set(f, thr);
    const left = walk(l, f, false);
    hi.set(f, fHi);
    lo.set(f, thr + 1);
    const right = walk(rc, f, last);
    lo.set(f, fLo);
    const r = `${p}n${c}r`;
    if (slotCount(left) < NEAR) out.push(JSGT32.imm(3, thr, r));
    else out.push(JSLE32.imm(3, thr, `${p}n${c}l`), JaLong(r), label(`${p}n${c}l`));
    for (const it of left) out.push(it);
    out.push(label(r));
    for (const it of right) out.push(it);
    return out;
  };
  return walk(0, -1, true);
}

/** `goto label`, long when the code it may skip is beyond a 16-bit offset. */
export const jumpOver = (target: string, span: number): AsmItem => (span < NEAR ? Ja(target) : JaLong(target));

/** A single tree: per leaf, store its scores and class, then leave. */
function singleTree(ir: IrTreeModel, ctx: BodyContext): Body {
  const k = ir.nClasses;
  const p = `${ctx.prefix}t0_`;
  const items = emitTree(ir.tree, p, (l) => {
    const v = ir.tree.leafValue.slice(l * k, l * k + k);
    const leave = ctx.done === undefined ? finish(ctx) : [jumpOver(ctx.done, ir.tree.feature.length * (k + 6))];
    return [...v.map((s, c) => StoreImm("W", 2, 4 * c, s)), Mov.imm(0, irDecide(v)), ...leave];
  });
  return { items, stackBytes: 0 };
}

/** Forest or boosted: a range of trees adding into the accumulators (no init, no argmax). */
export function treeSums(trees: readonly IrTree[], width: number, firstTree: number, acc: Acc, p: string, scoreOf: (t: number) => number): AsmItem[] {
  const out: AsmItem[] = [];
  trees.forEach((t, i) => {
    const ti = firstTree + i;
    const tp = `${p}t${ti}_`;
    const end = `${tp}end`;
    // A leaf's jump to the end spans at most the tree: about 2 slots per node, K+1 per leaf.
    const span = t.feature.length * (3 * width + 4);
    const valuesOf = (l: number): number[] => {
      const values = new Array<number>(acc.kind === "regs" ? acc.regs.length : acc.n).fill(0);
      if (width === 1) values[scoreOf(ti)] = t.leafValue[l]!;
      else for (let c = 0; c < width; c++) values[c] = t.leafValue[l * width + c]!;
      return values;
    };
    const leave = (last: boolean) => (last ? [] : [jumpOver(end, span)]);
    // Over two leaves: add the left one, leave when x <= thr, else add the difference. One
    // taken jump on either side (a right leaf would take two), one instruction fewer.
    const onPair: OnPair | undefined =
      span < NEAR
        ? (l, r, thr, last) => {
            const a = valuesOf(l);
            const d = valuesOf(r).map((v, s) => v - a[s]!);
            if (!d.every(isImm32)) return undefined;
            return [...leafAdd(acc, a), JSLE32.imm(3, thr, end), ...leafAdd(acc, d), ...leave(last)];
          }
        : undefined;
    const code = emitTree(t, tp, (l, last) => [...leafAdd(acc, valuesOf(l)), ...leave(last)], onPair);
    for (const it of code) out.push(it);
    out.push(label(end));
  });
  return out;
}

/** Initial values of the accumulators: opaque zero plus the boosted bias. */
function initAcc(acc: Acc, bias: readonly number[]): AsmItem[] {
  switch (acc.kind) {
    case "regs":
      return acc.regs.flatMap((r, s) => [...opaqueZero(r, 3), ...(bias[s] ? [Add.imm(r, bias[s])] : [])]);
    case "mem":
      return [...opaqueZero(5, 3), ...bias.flatMap((b, s) => [Mov.reg(4, 5), ...(b ? [Add.imm(4, b)] : []), StoreMem("W", 2, 4 * s, 4)])];
    default:
      return assertNever(acc, "accumulator");
  }
}

export function accFor(nScores: number): Acc {
  return nScores <= SCORE_REGS.length ? { kind: "regs", regs: SCORE_REGS.slice(0, nScores) } : { kind: "mem", n: nScores };
}

/** Writes register accumulators to r2 and puts the class in r0. */
export function accEpilogue(acc: Acc): AsmItem[] {
  if (acc.kind === "mem") return argmaxMem(acc.n);
  return [...acc.regs.map((r, s) => StoreMem("W", 2, 4 * s, r)), ...argmaxRegs(acc.regs)];
}

export function inlineTreeBody(ir: IrTreeModel | IrForest | IrBoosted, ctx: BodyContext): Body {
  if (ir.kind === "tree") return singleTree(ir, ctx);
  const nScores = irScoreCount(ir);
  const acc = accFor(nScores);
  const bias = ir.kind === "boosted" ? ir.bias : new Array<number>(nScores).fill(0);
  const width = ir.kind === "boosted" ? 1 : ir.nClasses;
  const scoreOf = (t: number) => (ir.kind === "boosted" ? ir.treeScore[t]! : 0);
  const items = [...initAcc(acc, bias), ...treeSums(ir.trees, width, 0, acc, ctx.prefix, scoreOf), ...accEpilogue(acc), ...finish(ctx)];
  return { items, stackBytes: 0 };
}

/**
 * Upper bound of one tree's inline code (slots) without emitting it, walking the nodes as
 * the emitter does: per node a load and a jump (+2 for the rare gotol trampoline of a huge
 * left subtree, covered by a 2% margin), per leaf its non-zero adds (1 slot in a register,
 * 3 in memory) and the jump to the end (a pair over two leaves: the left leaf's adds and
 * the difference's). Splits the path decides (not emitted) count too.
 */
export function estimateTreeSlots(t: IrTree, width: number, nScores: number): number {
  const perAdd = nScores <= SCORE_REGS.length ? 1 : 3;
  const leafAt = (l: number) => t.leafValue.slice(l * width, l * width + width);
  const adds = (l: number) => leafAt(l).reduce((n, v) => n + (v !== 0 ? perAdd : 0), 0);
  let total = 0;
  const n = t.feature.length;
  for (let c = 0; c < n; c++) {
    const l = t.left[c]!;
    const r = t.right[c]!;
    total += 2;
    if (l < 0) total += adds(-l - 1) + 1;
    if (r < 0) total += adds(-r - 1) + 1;
    // A pair adds the left leaf and the difference (values that differ).
    if (l < 0 && r < 0) {
      const a = leafAt(-l - 1);
      const b = leafAt(-r - 1);
      const diffs = a.reduce((k, v, i) => k + (v !== b[i] ? perAdd : 0), 0);
      total += Math.max(0, diffs - adds(-r - 1));
    }
  }
  if (n === 0) total += adds(0) + 1;
  return Math.ceil(total * 1.02) + 2;
}

/** Per-tree inline code size bounds (slots), for planning and splitting an ensemble. */
export function treeCodeSizes(ir: IrForest | IrBoosted): number[] {
  const nScores = irScoreCount(ir);
  const width = ir.kind === "boosted" ? 1 : ir.nClasses;
  return ir.trees.map((t) => estimateTreeSlots(t, width, nScores));
}

/** Loads the accumulators from scores memory at r2, sign-extended (register accumulators only). */
export function accLoad(acc: Acc): AsmItem[] {
  return acc.kind === "regs" ? acc.regs.map((r, s) => LoadMemSX("W", r, 2, 4 * s)) : [];
}

/** Stores register accumulators to scores memory at r2. */
export function accStore(acc: Acc): AsmItem[] {
  return acc.kind === "regs" ? acc.regs.map((r, s) => StoreMem("W", 2, 4 * s, r)) : [];
}

/** The initial scores (opaque zero + bias) written to memory at r2; reads x at r1. */
export function initScoresMem(bias: readonly number[]): AsmItem[] {
  return initAcc({ kind: "mem", n: bias.length }, bias);
}

/**
 * Forest / boosted split into bpf-to-bpf subprograms, one per chunk of trees: the body keeps
 * x and scores in r6/r7, calls each chunk with r1 = x, r2 = scores; a chunk loads the
 * accumulators from memory, adds its trees, stores them back and returns.
 */
export function inlineTreeBodyChunked(ir: IrForest | IrBoosted, ctx: BodyContext, chunks: readonly (readonly number[])[]): Body {
  const nScores = irScoreCount(ir);
  const acc = accFor(nScores);
  const bias = ir.kind === "boosted" ? ir.bias : new Array<number>(nScores).fill(0);
  const width = ir.kind === "boosted" ? 1 : ir.nClasses;
  const scoreOf = (t: number) => (ir.kind === "boosted" ? ir.treeScore[t]! : 0);
  const items: AsmItem[] = [Mov.reg(6, 1), Mov.reg(7, 2), ...initScoresMem(bias)];
  const subprograms: AsmItem[] = [];
  chunks.forEach((c, i) => {
    const name = `${ctx.prefix}chunk${i}`;
    items.push(Mov.reg(1, 6), Mov.reg(2, 7), CallLocal(name));
    subprograms.push(label(name), ...accLoad(acc));
    const code = treeSums(c.map((t) => ir.trees[t]!), width, c[0]!, acc, ctx.prefix, scoreOf);
    for (const it of code) subprograms.push(it);
    subprograms.push(...accStore(acc), Exit());
  });
  items.push(Mov.reg(2, 7), ...argmaxMem(nScores), ...finish(ctx));
  return { items, stackBytes: 0, subprograms };
}
