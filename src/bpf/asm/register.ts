/**
 * @module bpf/asm/register
 * The eleven eBPF registers. R0 holds return values, R1-R5 arguments (clobbered by calls),
 * R6-R9 are callee-saved, R10 is the read-only frame pointer.
 */
export type Register = 0 | 1 | 2 | 3 | 4 | 5 | 6 | 7 | 8 | 9 | 10;
export const R0 = 0, R1 = 1, R2 = 2, R3 = 3, R4 = 4, R5 = 5, R6 = 6, R7 = 7, R8 = 8, R9 = 9, R10 = 10;
/** The frame pointer (read-only stack base; the stack grows down to R10-512). */
export const RFP = R10;

export function isRegister(r: unknown): r is Register {
  return typeof r === "number" && Number.isInteger(r) && r >= 0 && r <= 10;
}
