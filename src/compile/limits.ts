/**
 * @module compile/limits
 * The kernel limits a compiled model must respect (include/linux/bpf.h, kernel/bpf/verifier.c)
 * and the verifier-cost estimates the strategy choice is made from.
 */

export interface KernelLimits {
  /** Instructions in one program, subprograms included (BPF_COMPLEXITY_LIMIT_INSNS with CAP_BPF; 4096 without). */
  maxInsns: number;
  /** Instructions the verifier may process for one program (BPF_COMPLEXITY_LIMIT_INSNS). */
  maxProcessed: number;
  /** Stack of one program's call chain (MAX_BPF_STACK). */
  stackBytes: number;
  /** Tail calls in one chain (MAX_TAIL_CALL_CNT). */
  tailCalls: number;
}

export const KERNEL_LIMITS: KernelLimits = {
  maxInsns: 1_000_000,
  maxProcessed: 1_000_000,
  stackBytes: 512,
  tailCalls: 33,
};

/** What unprivileged loaders get (BPF_MAXINSNS); informative. */
export const UNPRIVILEGED_MAX_INSNS = 4096;

/** Slots of an instruction list (lddw counts two), labels ignored. */
export function countSlots(items: readonly ({ label: string } | { op: number })[]): number {
  let n = 0;
  for (const it of items) if (!("label" in it)) n += it.op === 0x18 ? 2 : 1;
  return n;
}

/**
 * Verifier cost of inline code. Tree code is a tree of branches whose joins (the ends of
 * trees) prune, because scores start opaque: every instruction is visited about once, plus
 * the argmax and clamp diamonds. A single tree ends on each leaf: its leaves re-walk nothing.
 */
export function estimateInlineProcessed(insns: number, dense = false): number {
  // Dense models: the clamps' diamonds are re-walked until the verifier checkpoints (~3x).
  return Math.ceil(insns * (dense ? 3.5 : 1.5)) + 256;
}

/** Verifier cost of table code (both unrolled attempts are in the code): the tree loop is walked once per tree. */
export function estimateTableProcessed(codeInsns: number, loopBodyInsns: number, loopIterations: number, dense: boolean): number {
  return estimateInlineProcessed(codeInsns, dense) + 2 * loopBodyInsns * loopIterations;
}
