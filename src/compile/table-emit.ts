/**
 * @module compile/table-emit
 * Code of the table strategy: a program that reads the model from a map (layout in
 * ./table-layout.ts), so parameters change by a map update with no reload.
 *
 * ## Double buffer with a version (the swap protocol)
 * Map `${prefix}tbl` is an array of 2 table images; map `${prefix}ctl` holds one u32
 * version, and image `version & 1` is the live one. The (single) writer
 *   1. writes the new image into slot `(version + 1) & 1`, the idle one (one map update);
 *   2. stores `version + 1` (one aligned 4-byte store: readers see the old or the new).
 * A reader reads the version, walks image `version & 1`, then reads the version again: if
 * it changed, the writer may have been rewriting the image it walked (a later swap writes
 * into it), so it retries once, and returns NO_DECISION (-1) if the version moved again.
 * An answer is thus always computed from one complete image. Every offset read from the
 * image is bounds-checked before use, so even a torn image cannot fault, only be discarded.
 * (x86-64 keeps loads in order; on weakly ordered CPUs the re-read wants a load-acquire.)
 *
 * Tree walk: the tree loop is a bounded loop (verifier cost ~ treeCap x step), each tree a
 * fixed `depth` of branch-free steps: `m = (threshold - x) >> 63; next = l ^ ((l ^ r) & m)`.
 */
import {
  Add, And, ArSh, Call, Helper, JEq, JGE, JGT, JNE, JSGE, JSLE, Ja, LoadMapPtr, LoadMapValue, LoadMem, LoadMemSX,
  Lsh, Mov, Mul, Sub, Xor, StoreMem, label, type AsmItem, type Register,
} from "../bpf/asm/index.ts";
import { assertNever } from "../errors.ts";
import { MLP_ACT_MAX } from "../ml/ir/types.ts";
import { NO_DECISION } from "./abi.ts";
import { argmaxMem, finish, minConst, reluMax0, type Body, type BodyContext } from "./emit-common.ts";
import type { LinearShape, MlpShape, TableShape, TreeShape } from "./table-layout.ts";

// r6 = x, r7 = scores, r8 = image, r9 = loop counter; r0-r5 scratch.
const X = 6, OUT = 7, IMG = 8, CNT = 9;

function treeCode(s: TreeShape, p: string, bad: string): AsmItem[] {
  const S = s.nScores;
  const lastRec = s.nodesAt + 16 * (s.nodeCap - 1);
  const lastVal = s.valuesAt + 4 * S * (s.leafCap - 1);
  const items: AsmItem[] = [];
  for (let k = 0; k < S; k++) items.push(LoadMem("W", 0, IMG, 16 + 4 * k), StoreMem("W", OUT, 4 * k, 0));
  items.push(Mov.imm(CNT, 0), label(`${p}tl`));
  items.push(LoadMem("W", 0, IMG, 4), JGE.reg(CNT, 0, `${p}tdone`), JGE.imm(CNT, s.treeCap, `${p}tdone`));
  items.push(Mov.reg(1, CNT), Lsh.imm(1, 2), Add.reg(1, IMG), LoadMem("W", 1, 1, s.rootsAt));
  for (let d = 0; d < s.depth; d++) {
    items.push(
      JGT.imm(1, lastRec, bad), Mov.reg(2, IMG), Add.reg(2, 1), // r2 = the record
      // Bounded and 4-aligned (the verifier checks both for the variable-offset stack read).
      LoadMem("W", 3, 2, 0), JGT.imm(3, 4 * (s.nFeatures - 1), bad), And.imm(3, -4),
      Mov.reg(4, X), Add.reg(4, 3), LoadMemSX("W", 4, 4, 0), // r4 = x[feature]
      LoadMemSX("W", 0, 2, 4), Sub.reg(0, 4), ArSh.imm(0, 63), // r0 = 0 (left) or -1 (right)
      LoadMem("W", 3, 2, 8), LoadMem("W", 5, 2, 12),
      Xor.reg(5, 3), And.reg(5, 0), Xor.reg(3, 5), Mov.reg(1, 3),
    );
  }
  items.push(
    JGT.imm(1, lastRec, bad), Mov.reg(2, IMG), Add.reg(2, 1), LoadMem("W", 3, 2, 12),
    JGT.imm(3, lastVal, bad), Add.reg(3, IMG),
  );
  for (let k = 0; k < S; k++) items.push(LoadMem("W", 4, 3, 4 * k), LoadMem("W", 5, OUT, 4 * k), Add.reg(5, 4), StoreMem("W", OUT, 4 * k, 5));
  items.push(Add.imm(CNT, 1), Ja(`${p}tl`), label(`${p}tdone`));
  return items;
}

function clamp(r: Register, lo: number, hi: number, p: string): AsmItem[] {
  return [JSLE.imm(r, hi, `${p}_hi`), Mov.imm(r, hi), label(`${p}_hi`), JSGE.imm(r, lo, `${p}_lo`), Mov.imm(r, lo), label(`${p}_lo`)];
}

function linearCode(s: LinearShape, p: string): AsmItem[] {
  const F = s.nFeatures;
  const items: AsmItem[] = [];
  for (let k = 0; k < s.nScores; k++) {
    items.push(LoadMem("DW", 0, IMG, 16 + 8 * k));
    for (let j = 0; j < F; j++) items.push(LoadMemSX("W", 4, X, 4 * j), LoadMemSX("W", 5, IMG, s.weightsAt + 4 * (k * F + j)), Mul.reg(4, 5), Add.reg(0, 4));
    items.push(LoadMem("W", 5, IMG, 12), ArSh.reg(0, 5), ...clamp(0, -2147483648, 2147483647, `${p}lin${k}`), StoreMem("W", OUT, 4 * k, 0));
  }
  return items;
}

function mlpCode(s: MlpShape, p: string, stackBase: number): AsmItem[] {
  const F = s.nFeatures;
  const widest = Math.max(F, ...s.layers.map((l) => l.nOut));
  const bufA = stackBase + 4 * widest;
  const bufB = bufA + 4 * widest;
  const slot = (buf: number, i: number) => -buf + 4 * i;
  const items: AsmItem[] = [LoadMem("W", 1, IMG, 4)]; // r1 = input max
  for (let j = 0; j < F; j++) {
    items.push(
      LoadMemSX("W", 0, X, 4 * j), LoadMemSX("W", 4, IMG, s.mulAt + 4 * j), Mul.reg(0, 4),
      LoadMem("DW", 4, IMG, s.addAt + 8 * j), Add.reg(0, 4), LoadMem("W", 4, IMG, s.shiftAt + 4 * j), ArSh.reg(0, 4),
      JSLE.reg(0, 1, `${p}in${j}_hi`), Mov.reg(0, 1), label(`${p}in${j}_hi`),
      Mov.reg(4, 1), Xor.imm(4, -1), Add.imm(4, 1), // r4 = -max
      JSGE.reg(0, 4, `${p}in${j}_lo`), Mov.reg(0, 4), label(`${p}in${j}_lo`),
      StoreMem("W", 10, slot(bufA, j), 0),
    );
  }
  let src = bufA;
  let dst = bufB;
  s.layers.forEach((l, li) => {
    const last = li === s.layers.length - 1;
    for (let o = 0; o < l.nOut; o++) {
      items.push(LoadMemSX("W", 0, IMG, l.biasAt + 4 * o), LoadMemSX("W", 4, IMG, l.headerAt + 4), Add.reg(0, 4));
      for (let i = 0; i < l.nIn; i++) items.push(LoadMemSX("W", 4, 10, slot(src, i)), LoadMemSX("B", 5, IMG, l.weightsAt + o * l.nIn + i), Mul.reg(4, 5), Add.reg(0, 4));
      items.push(LoadMem("W", 4, IMG, l.headerAt), ArSh.reg(0, 4));
      if (l.relu) items.push(...reluMax0(0, 4), ...minConst(0, MLP_ACT_MAX, 4, 5));
      items.push(last ? StoreMem("W", OUT, 4 * o, 0) : StoreMem("W", 10, slot(dst, o), 0));
    }
    [src, dst] = [dst, src];
  });
  return items;
}

/** Stack bytes the table body needs below stackBase (version, key; MLP buffers). */
function ownStack(s: TableShape): number {
  const base = 16;
  if (s.family !== "mlp") return base;
  const widest = Math.max(s.nFeatures, ...s.layers.map((l) => l.nOut));
  return base + 8 * widest;
}

function modelCode(shape: TableShape, p: string, bad: string, stackBase: number): AsmItem[] {
  switch (shape.family) {
    case "trees":
      return treeCode(shape, p, bad);
    case "linear":
      return linearCode(shape, p);
    case "mlp":
      return mlpCode(shape, p, stackBase + 16);
    default:
      return assertNever(shape, "table shape");
  }
}

/** Table-strategy body; the read is attempted twice (unrolled, so no loop for the verifier). */
export function tableBody(shape: TableShape, ctx: BodyContext): Body {
  const vAt = -(ctx.stackBase + 8); // u32 version seen
  const kAt = -(ctx.stackBase + 16); // u32 map key
  const bad = `${ctx.prefix}tb_bad`;
  const items: AsmItem[] = [Mov.reg(X, 1), Mov.reg(OUT, 2)];
  for (const a of [0, 1]) {
    const p = `${ctx.prefix}tb${a}_`;
    items.push(
      LoadMapValue(1, `${ctx.prefix}ctl`, 0), LoadMem("W", 0, 1, 0), StoreMem("W", 10, vAt, 0),
      And.imm(0, 1), StoreMem("W", 10, kAt, 0),
      LoadMapPtr(1, `${ctx.prefix}tbl`), Mov.reg(2, 10), Add.imm(2, kAt), Call(Helper.map_lookup_elem),
      JEq.imm(0, 0, bad), Mov.reg(IMG, 0),
      ...modelCode(shape, p, bad, ctx.stackBase),
      LoadMapValue(1, `${ctx.prefix}ctl`, 0), LoadMem("W", 0, 1, 0), LoadMem("W", 1, 10, vAt),
      JNE.reg(0, 1, a === 0 ? `${ctx.prefix}tb_moved` : bad),
      Mov.reg(2, OUT), ...argmaxMem(shape.nScores), ...finish(ctx),
    );
    if (a === 0) items.push(label(`${ctx.prefix}tb_moved`));
  }
  items.push(label(bad), Mov.reg(2, OUT), Mov.imm(0, NO_DECISION), ...finish(ctx));
  return { items, stackBytes: ownStack(shape) };
}
