/**
 * @module test/bpf/asm/gen
 * Random valid instructions of every form the ISA has, built with the DSL where a builder
 * exists, for the disassembler and round-trip tests.
 */
import {
  type Instruction, type InsnKind, type Register, AtomicOp, Class, Mode, OP_LDDW, Size, Source, AluOp, JumpOp, classify,
} from "../../../src/bpf/asm/index.ts";
import type { rng } from "./toolchain.ts";

type Rng = ReturnType<typeof rng>;

const ALU_OPS = [AluOp.ADD, AluOp.SUB, AluOp.MUL, AluOp.DIV, AluOp.OR, AluOp.AND, AluOp.LSH, AluOp.RSH, AluOp.MOD, AluOp.XOR, AluOp.ARSH];
const COND_OPS = [JumpOp.JEQ, JumpOp.JGT, JumpOp.JGE, JumpOp.JSET, JumpOp.JNE, JumpOp.JSGT, JumpOp.JSGE, JumpOp.JLT, JumpOp.JLE, JumpOp.JSLT, JumpOp.JSLE];
const SIZES = ["W", "H", "B", "DW"] as const;
const ATOMICS = [
  AtomicOp.ADD, AtomicOp.ADD | AtomicOp.FETCH, AtomicOp.OR, AtomicOp.OR | AtomicOp.FETCH, AtomicOp.AND, AtomicOp.AND | AtomicOp.FETCH,
  AtomicOp.XOR, AtomicOp.XOR | AtomicOp.FETCH, AtomicOp.XCHG, AtomicOp.CMPXCHG,
];

export const FORMS = [
  "alu", "salu", "neg", "mov", "movsx", "end", "bswap", "ja", "gotol", "jcond", "call", "exit", "lddw", "ldpseudo", "ldabs", "ldind",
  "ldx", "ldsx", "st", "stx", "atomic", "ldacq", "strel", "maygoto",
] as const;
export type Form = (typeof FORMS)[number];

function imm32(r: Rng): number {
  switch (r.int(0, 3)) {
    case 0: return r.int(-16, 16);
    case 1: return r.int(-32768, 32767);
    case 2: return r.pick([0x7fffffff, -0x80000000, -1, 0xffff, 0x10000]);
    default: return r.int(-0x80000000, 0x7fffffff);
  }
}
const off16 = (r: Rng) => (r.int(0, 2) === 0 ? r.pick([-32768, 32767, -1, 0]) : r.int(-512, 512));
const reg = (r: Rng) => r.int(0, 10) as Register;

/** A random valid instruction of the given form. */
export function randomInstruction(r: Rng, form: Form): Instruction {
  const ins = (op: number, dst: number, src: number, off: number, imm: number): Instruction => ({ op, dst: dst as Register, src, off, imm });
  const cls = () => (r.int(0, 1) ? Class.ALU64 : Class.ALU);
  switch (form) {
    case "alu":
    case "salu": {
      const op = form === "salu" ? r.pick([AluOp.DIV, AluOp.MOD]) : r.pick(ALU_OPS);
      const off = form === "salu" ? 1 : 0;
      return r.int(0, 1) ? ins(cls() | op | Source.K, reg(r), 0, off, imm32(r)) : ins(cls() | op | Source.X, reg(r), reg(r), off, 0);
    }
    case "neg":
      return ins(cls() | AluOp.NEG, reg(r), 0, 0, 0);
    case "mov":
      return r.int(0, 1) ? ins(cls() | AluOp.MOV | Source.K, reg(r), 0, 0, imm32(r)) : ins(cls() | AluOp.MOV | Source.X, reg(r), reg(r), 0, 0);
    case "movsx": {
      const c = cls();
      return ins(c | AluOp.MOV | Source.X, reg(r), reg(r), c === Class.ALU64 ? r.pick([8, 16, 32]) : r.pick([8, 16]), 0);
    }
    case "end":
      return ins(Class.ALU | AluOp.END | (r.int(0, 1) ? Source.X : Source.K), reg(r), 0, 0, r.pick([16, 32, 64]));
    case "bswap":
      return ins(Class.ALU64 | AluOp.END, reg(r), 0, 0, r.pick([16, 32, 64]));
    case "ja":
      return ins(Class.JMP | JumpOp.JA, 0, 0, off16(r), 0);
    case "gotol":
      return ins(Class.JMP32 | JumpOp.JA, 0, 0, 0, imm32(r));
    case "jcond": {
      const c = r.int(0, 1) ? Class.JMP : Class.JMP32;
      const op = r.pick(COND_OPS);
      return r.int(0, 1) ? ins(c | op | Source.K, reg(r), 0, off16(r), imm32(r)) : ins(c | op | Source.X, reg(r), reg(r), off16(r), 0);
    }
    case "call": {
      const src = r.int(0, 2);
      return ins(Class.JMP | JumpOp.CALL, 0, src, src === 2 ? r.int(0, 3) : 0, src === 0 ? r.int(0, 211) : imm32(r));
    }
    case "exit":
      return ins(Class.JMP | JumpOp.EXIT, 0, 0, 0, 0);
    case "lddw": {
      const hi = BigInt(imm32(r) >>> 0);
      const lo = BigInt(imm32(r) >>> 0);
      const v = BigInt.asIntN(64, (hi << 32n) | lo);
      return { op: OP_LDDW, dst: reg(r), src: 0, off: 0, imm: Number(BigInt.asIntN(32, v)), imm64: v };
    }
    case "ldpseudo": {
      const src = r.int(1, 6);
      const lo = BigInt(imm32(r) >>> 0);
      const hi = src === 2 || src === 6 || src === 4 ? BigInt(r.int(0, 4096)) : 0n;
      const v = BigInt.asIntN(64, (hi << 32n) | lo);
      return { op: OP_LDDW, dst: reg(r), src, off: 0, imm: Number(BigInt.asIntN(32, v)), imm64: v };
    }
    case "ldabs":
      return ins(Class.LD | Mode.ABS | Size[r.pick(["W", "H", "B"] as const)], 0, 0, 0, imm32(r));
    case "ldind":
      return ins(Class.LD | Mode.IND | Size[r.pick(["W", "H", "B"] as const)], 0, reg(r), 0, imm32(r));
    case "ldx":
      return ins(Class.LDX | Mode.MEM | Size[r.pick(SIZES)], reg(r), reg(r), off16(r), 0);
    case "ldsx":
      return ins(Class.LDX | Mode.MEMSX | Size[r.pick(["W", "H", "B"] as const)], reg(r), reg(r), off16(r), 0);
    case "st":
      return ins(Class.ST | Mode.MEM | Size[r.pick(SIZES)], reg(r), 0, off16(r), imm32(r));
    case "stx":
      return ins(Class.STX | Mode.MEM | Size[r.pick(SIZES)], reg(r), reg(r), off16(r), 0);
    case "atomic":
      return ins(Class.STX | Mode.ATOMIC | Size[r.pick(["W", "DW"] as const)], reg(r), reg(r), off16(r), r.pick(ATOMICS));
    case "maygoto":
      return ins(Class.JMP | JumpOp.JCOND, 0, 0, off16(r), 0);
    case "ldacq":
      return ins(Class.STX | Mode.ATOMIC | Size[r.pick(SIZES)], reg(r), reg(r), off16(r), AtomicOp.LOAD_ACQ);
    case "strel":
      return ins(Class.STX | Mode.ATOMIC | Size[r.pick(SIZES)], reg(r), reg(r), off16(r), AtomicOp.STORE_REL);
  }
}

/**
 * Whether LLVM 14's disassembler knows this instruction: it predates cpu v4 and stores of
 * an immediate, has neither JSET nor MOD at all, and without alu32 knows only the plain 32-bit atomic
 * add. (For cpu v4 ALU forms it ignores the offset and prints the v3 instruction.)
 */
export function llvm14Knows(ins: Instruction, alu32: boolean): boolean {
  const k = classify(ins) as InsnKind;
  switch (k.kind) {
    case "alu":
      return !k.signed && k.op !== "mod";
    case "movsx":
    case "gotol":
    case "st":
    case "load_acquire":
    case "store_release":
    case "may_goto":
      return false;
    case "end":
      return k.order !== "swap";
    case "ldx":
      return !k.signed;
    case "jcond":
      return k.op !== "jset";
    case "atomic":
      return alu32 || k.size === "DW" || (k.op === "add" && !k.fetch);
    default:
      return true;
  }
}
