/**
 * @module bpf/asm/opcode
 * The parts of an eBPF opcode byte, as the kernel documents them
 * (Documentation/bpf/standardization/instruction-set.rst). Values print by name.
 *
 * Arithmetic and jump instructions:   |  op (4)  | s (1) | class (3) |
 * Load and store instructions:        | mode (3) | size (2) | class (3) |
 */

/** Instruction class: the low 3 bits of every opcode. */
export const Class = {
  LD: 0x00,
  LDX: 0x01,
  ST: 0x02,
  STX: 0x03,
  ALU: 0x04,
  JMP: 0x05,
  JMP32: 0x06,
  ALU64: 0x07,
} as const;
export type Class = (typeof Class)[keyof typeof Class];

/** Operand source for ALU and JMP classes (bit 3): K = 32-bit immediate, X = src register. */
export const Source = { K: 0x00, X: 0x08 } as const;
export type Source = (typeof Source)[keyof typeof Source];

/** Access size for load/store classes (bits 3-4). */
export const Size = { W: 0x00, H: 0x08, B: 0x10, DW: 0x18 } as const;
export type Size = keyof typeof Size;
export const sizeBytes: Record<Size, number> = { W: 4, H: 2, B: 1, DW: 8 };

/** Addressing mode for load/store classes (bits 5-7). */
export const Mode = { IMM: 0x00, ABS: 0x20, IND: 0x40, MEM: 0x60, MEMSX: 0x80, ATOMIC: 0xc0 } as const;
export type Mode = (typeof Mode)[keyof typeof Mode];

/** ALU operation (bits 4-7) for ALU and ALU64. */
export const AluOp = {
  ADD: 0x00,
  SUB: 0x10,
  MUL: 0x20,
  DIV: 0x30,
  OR: 0x40,
  AND: 0x50,
  LSH: 0x60,
  RSH: 0x70,
  NEG: 0x80,
  MOD: 0x90,
  XOR: 0xa0,
  MOV: 0xb0,
  ARSH: 0xc0,
  END: 0xd0,
} as const;
export type AluOp = keyof typeof AluOp;

/** Jump operation (bits 4-7) for JMP and JMP32. */
export const JumpOp = {
  JA: 0x00,
  JEQ: 0x10,
  JGT: 0x20,
  JGE: 0x30,
  JSET: 0x40,
  JNE: 0x50,
  JSGT: 0x60,
  JSGE: 0x70,
  CALL: 0x80,
  EXIT: 0x90,
  JLT: 0xa0,
  JLE: 0xb0,
  JSLT: 0xc0,
  JSLE: 0xd0,
  /** `may_goto` (JMP only, src 0 = BPF_MAY_GOTO; kernel 6.9): a jump taken once a hidden loop budget runs out. */
  JCOND: 0xe0,
} as const;
export type JumpOp = keyof typeof JumpOp;

/**
 * Atomic operations, carried in the immediate of STX|ATOMIC. FETCH may be or-ed in.
 * LOAD_ACQ and STORE_REL (kernel 6.15) are the load-acquire and store-release of any size.
 */
export const AtomicOp = {
  ADD: 0x00,
  OR: 0x40,
  AND: 0x50,
  XOR: 0xa0,
  FETCH: 0x01,
  XCHG: 0xe0 | 0x01,
  CMPXCHG: 0xf0 | 0x01,
  LOAD_ACQ: 0x100,
  STORE_REL: 0x110,
} as const;

/** Pseudo source registers of `lddw` (BPF_LD|BPF_IMM|BPF_DW). */
export const PseudoLd = {
  NONE: 0,
  MAP_FD: 1,
  MAP_VALUE: 2,
  BTF_ID: 3,
  FUNC: 4,
  MAP_IDX: 5,
  MAP_IDX_VALUE: 6,
} as const;

/** Pseudo source registers of `call`. */
export const PseudoCall = { HELPER: 0, CALL: 1, KFUNC: 2 } as const;

export const classOf = (op: number): Class => (op & 0x07) as Class;
export const isAluClass = (c: number): boolean => c === Class.ALU || c === Class.ALU64;
export const isJumpClass = (c: number): boolean => c === Class.JMP || c === Class.JMP32;
export const sourceOf = (op: number): Source => (op & 0x08) as Source;
export const aluOpOf = (op: number): number => op & 0xf0;
export const jumpOpOf = (op: number): number => op & 0xf0;
export const modeOf = (op: number): Mode => (op & 0xe0) as Mode;
/** Size names by bits 3-4 (W 0x00, H 0x08, B 0x10, DW 0x18): a lookup, since every load and store asks. */
const SIZE_BY_BITS: readonly Size[] = ["W", "H", "B", "DW"];
export const sizeOf = (op: number): Size => SIZE_BY_BITS[(op >> 3) & 3]!;

/** The opcode of the 16-byte 64-bit immediate load (`lddw`). */
export const OP_LDDW = Class.LD | Mode.IMM | Size.DW;

const names = <T extends Record<string, number>>(o: T): Map<number, string> =>
  new Map(Object.entries(o).map(([k, v]) => [v, k]));
export const className = names(Class);
export const aluOpName = names(AluOp);
export const jumpOpName = names(JumpOp);
export const modeName = names(Mode);

/** A readable name for an opcode byte, e.g. `ALU64|ADD|X` or `LDX|MEM|W`. */
export function opcodeName(op: number): string {
  const cls = classOf(op);
  const c = className.get(cls)!;
  if (isAluClass(cls)) return `${c}|${aluOpName.get(aluOpOf(op))}|${sourceOf(op) ? "X" : "K"}`;
  if (isJumpClass(cls)) return `${c}|${jumpOpName.get(jumpOpOf(op)) ?? `0x${jumpOpOf(op).toString(16)}`}|${sourceOf(op) ? "X" : "K"}`;
  return `${c}|${modeName.get(modeOf(op)) ?? `0x${modeOf(op).toString(16)}`}|${sizeOf(op)}`;
}
