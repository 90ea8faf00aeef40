/**
 * @module compile/emit-common
 * Pieces shared by the eBPF generators: the body contract, branch-free min/max, the
 * verifier-opaque zero that keeps accumulated scores imprecise (so the verifier prunes the
 * joins between trees instead of walking every combination of leaves), and the branch-free
 * argmax.
 *
 * Body contract: on entry r1 = x (int32 features), r2 = scores (int32, writable); a body may
 * clobber r0-r9 and uses the stack below `fp - stackBase`; it leaves the class in r0 and
 * every score in memory at r2, then jumps to `done` (or exits when `done` is undefined).
 */
import { JSLE, JSLE32, label, Add, ArSh, Ja, LoadMem, LoadMemSX, Mov, Rsh, Sub, And, Xor, Exit, type AsmItem, type Register, R0 } from "../bpf/asm/index.ts";

export interface BodyContext {
  /** Prefix of every label (see abi.ts). */
  readonly prefix: string;
  /** Stack bytes below the frame pointer already used by the surrounding code. */
  readonly stackBase: number;
  /** Label to jump to when done; undefined: `exit`. */
  readonly done: string | undefined;
}

export interface Body {
  readonly items: AsmItem[];
  /** Stack bytes the body uses below `stackBase`. */
  readonly stackBytes: number;
  /** bpf-to-bpf subprograms the body calls: placed after the program's last instruction. */
  readonly subprograms?: AsmItem[];
}

/** The body's last instruction: jump to the continuation or exit. */
export function finish(ctx: BodyContext): AsmItem[] {
  return ctx.done === undefined ? [Exit()] : [Ja(ctx.done)];
}

/**
 * dst = 0 in a form the verifier cannot evaluate (dst = v - v for a loaded v). Scores that
 * start from it stay unknown scalars: comparing them never decides a branch statically, so
 * they are never marked precise and the states at the end of each tree prune each other.
 */
export function opaqueZero(dst: Register, scratch: Register): AsmItem[] {
  return [LoadMem("W", scratch, 1, 0), Mov.reg(dst, scratch), Sub.reg(dst, scratch)];
}

/** r = max(r, 0) without a branch (64-bit signed). */
export function reluMax0(r: Register, t: Register): AsmItem[] {
  return [Mov.reg(t, r), ArSh.imm(t, 63), Xor.imm(t, -1), And.reg(r, t)];
}

/** r = min(r, c) without a branch: r += (c - r) & sign(c - r); needs |r - c| < 2^63 (callers prove |r| < 2^62). */
export function minConst(r: Register, c: number, t: Register, m: Register): AsmItem[] {
  return [Mov.imm(t, c), Sub.reg(t, r), Mov.reg(m, t), ArSh.imm(m, 63), And.reg(t, m), Add.reg(r, t)];
}

/**
 * r0 = the class as irDecide has it, without a branch (the class is as unpredictable as the
 * input, a mispredicted jump costs more than these few ALU instructions): one score ->
 * score > 0 is the sign bit of -score; several -> the first index of the maximum, keeping
 * the best so far with masks (m = -1 when score i beats it). `score(i)` puts score i, as an
 * exact 64-bit value, in a register (returning it). Uses r3-r5.
 */
function decide(n: number, score: (i: number, dst: Register) => { items: AsmItem[]; reg: Register }): AsmItem[] {
  if (n === 1) {
    const s = score(0, 3);
    return [...s.items, Mov.imm(R0, 0), Sub.reg(R0, s.reg), Rsh.imm(R0, 63)];
  }
  const first = score(0, 3);
  if (n === 2) {
    const second = score(1, 4);
    return [...first.items, ...second.items, Mov.reg(R0, first.reg), Sub.reg(R0, second.reg), Rsh.imm(R0, 63)];
  }
  const out: AsmItem[] = [...first.items, ...(first.reg === 3 ? [] : [Mov.reg(3, first.reg)]), Mov.imm(R0, 0)];
  for (let i = 1; i < n; i++) {
    const s = score(i, 4);
    out.push(...s.items, Mov.reg(5, 3), Sub.reg(5, s.reg), ArSh.imm(5, 63));
    if (i < n - 1) out.push(...(s.reg === 4 ? [] : [Mov.reg(4, s.reg)]), Sub.reg(4, 3), And.reg(4, 5), Add.reg(3, 4));
    out.push(Mov.reg(4, R0), Xor.imm(4, i), And.reg(4, 5), Xor.reg(R0, 4));
  }
  return out;
}

let argmaxSeq = 0;

/**
 * r0 = the class from scores held in registers `regs` (64-bit values equal to their int32
 * scores), with a jump per class that sets r0 to a constant. Not branch-free on purpose: a
 * caller that branches on the class (netguard's model slot checks its range) would otherwise
 * make the verifier mark the class precise and backtrack that precision into every register
 * accumulator, after which the states at the end of each tree no longer prune each other and a
 * 12-tree forest in function form exceeds the 1M processed-instruction limit. Constants stop
 * the backtracking at the `mov`.
 */
export function argmaxRegs(regs: readonly Register[]): AsmItem[] {
  const p = `__kmlib_am${argmaxSeq++}`;
  if (regs.length === 1) return [Mov.imm(R0, 0), JSLE32.imm(regs[0]!, 0, `${p}_0`), Mov.imm(R0, 1), label(`${p}_0`)];
  const out: AsmItem[] = [Mov.imm(R0, 0), Mov.reg(3, regs[0]!)];
  for (let i = 1; i < regs.length; i++) {
    out.push(JSLE.reg(regs[i]!, 3, `${p}_${i}`), Mov.reg(3, regs[i]!), Mov.imm(R0, i), label(`${p}_${i}`));
  }
  return out;
}

/** r0 = the class from int32 scores in memory at r2 (uses r3-r5). */
export function argmaxMem(n: number): AsmItem[] {
  return decide(n, (i, dst) => ({ items: [LoadMemSX("W", dst, 2, 4 * i)], reg: dst }));
}

/** Fits a signed 32-bit immediate. */
export const isImm32 = (v: number | bigint): boolean => {
  const b = BigInt(v);
  return b >= -2147483648n && b <= 2147483647n;
};
