/**
 * @module compile/emit-common
 * Pieces shared by the eBPF generators: the body contract, branch-free min/max, the
 * verifier-opaque zero that keeps accumulated scores imprecise (so the verifier prunes the
 * joins between trees instead of walking every combination of leaves), and the argmax.
 *
 * Body contract: on entry r1 = x (int32 features), r2 = scores (int32, writable); a body may
 * clobber r0-r9 and uses the stack below `fp - stackBase`; it leaves the class in r0 and
 * every score in memory at r2, then jumps to `done` (or exits when `done` is undefined).
 */
import { Add, ArSh, Ja, JSLE, JSLE32, LoadMem, Mov, Sub, And, Xor, Exit, label, type AsmItem, type Register, R0 } from "../bpf/asm/index.ts";

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

/** r = min(r, c) without a branch; needs |r - c| < 2^63 (callers prove |r| < 2^62). */
export function minConst(r: Register, c: number, t: Register, m: Register): AsmItem[] {
  return [Mov.reg(t, r), Sub.imm(t, c), Mov.reg(m, t), ArSh.imm(m, 63), And.reg(t, m), Add.imm(t, c), Mov.reg(r, t)];
}

/**
 * r0 = the class from scores held in registers `regs` (64-bit values equal to their int32
 * scores): one score -> score > 0; several -> first index of the maximum. Uses r3 (best).
 */
export function argmaxRegs(regs: readonly Register[], ctx: BodyContext, tag: string): AsmItem[] {
  const p = `${ctx.prefix}${tag}`;
  if (regs.length === 1) return [Mov.imm(R0, 0), JSLE32.imm(regs[0]!, 0, `${p}_am`), Mov.imm(R0, 1), label(`${p}_am`)];
  const out: AsmItem[] = [Mov.imm(R0, 0), Mov.reg(3, regs[0]!)];
  for (let i = 1; i < regs.length; i++) {
    out.push(JSLE.reg(regs[i]!, 3, `${p}_am${i}`), Mov.reg(3, regs[i]!), Mov.imm(R0, i), label(`${p}_am${i}`));
  }
  return out;
}

/** r0 = the class from int32 scores in memory at r2 (uses r3, r4). */
export function argmaxMem(n: number, ctx: BodyContext, tag: string): AsmItem[] {
  const p = `${ctx.prefix}${tag}`;
  if (n === 1) return [LoadMem("W", 3, 2, 0), Mov.imm(R0, 0), JSLE32.imm(3, 0, `${p}_am`), Mov.imm(R0, 1), label(`${p}_am`)];
  const out: AsmItem[] = [Mov.imm(R0, 0), LoadMem("W", 3, 2, 0)];
  for (let i = 1; i < n; i++) {
    out.push(LoadMem("W", 4, 2, 4 * i), JSLE32.reg(4, 3, `${p}_am${i}`), Mov.reg(3, 4), Mov.imm(R0, i), label(`${p}_am${i}`));
  }
  return out;
}

/** Fits a signed 32-bit immediate. */
export const isImm32 = (v: number | bigint): boolean => {
  const b = BigInt(v);
  return b >= -2147483648n && b <= 2147483647n;
};
