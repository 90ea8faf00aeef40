/**
 * @module bpf/asm/classify
 * What an instruction means, decided once from its fields: a discriminated union that the
 * validator, the disassembler, the listing and the DSL lifter all switch over. The rules are
 * the kernel's (Documentation/bpf/standardization/instruction-set.rst and its opcode
 * registry, RFC 9669), checked against what the verifier accepts: every field the ISA does
 * not use must be zero ("reserved"), and anything else is an invalid encoding. Beyond the
 * RFC: load-acquire and store-release (STX|ATOMIC, imm 0x100 / 0x110, kernel 6.15) and
 * `may_goto` (JMP|JCOND, kernel 6.9).
 */
import { ErrorCode, KmlibError } from "../../errors.ts";
import * as instruction from "./instruction.ts";
import type { Instruction } from "./instruction.ts";
import * as opcode from "./opcode.ts";
import type { Size } from "./opcode.ts";

// Local copies of imported bindings (under tsx each read of an import is a getter call, and
// the assembler classifies every instruction).
const { slots } = instruction;
const { AluOp, AtomicOp, Class, JumpOp, Mode, OP_LDDW, PseudoCall, PseudoLd, Source, classOf, sizeOf } = opcode;

export type AluName = "add" | "sub" | "mul" | "div" | "or" | "and" | "lsh" | "rsh" | "mod" | "xor" | "arsh";
export type CondName = "jeq" | "jgt" | "jge" | "jset" | "jne" | "jsgt" | "jsge" | "jlt" | "jle" | "jslt" | "jsle";
export type AtomicName = "add" | "or" | "and" | "xor" | "xchg" | "cmpxchg";
export type Operand = "imm" | "reg";

/** The meaning of one instruction; `wide` is true for 64-bit (ALU64/JMP) forms. */
export type InsnKind =
  | { readonly kind: "alu"; readonly wide: boolean; readonly op: AluName; readonly operand: Operand; readonly signed: boolean }
  | { readonly kind: "neg"; readonly wide: boolean }
  | { readonly kind: "mov"; readonly wide: boolean; readonly operand: Operand }
  | { readonly kind: "movsx"; readonly wide: boolean; readonly bits: 8 | 16 | 32 }
  | { readonly kind: "end"; readonly order: "le" | "be" | "swap"; readonly bits: 16 | 32 | 64 }
  | { readonly kind: "ja" }
  | { readonly kind: "gotol" }
  | { readonly kind: "may_goto" }
  | { readonly kind: "jcond"; readonly wide: boolean; readonly op: CondName; readonly operand: Operand }
  | { readonly kind: "call"; readonly target: "helper" | "local" | "kfunc" }
  | { readonly kind: "exit" }
  | { readonly kind: "lddw"; readonly pseudo: number }
  | { readonly kind: "ldabs"; readonly size: Size }
  | { readonly kind: "ldind"; readonly size: Size }
  | { readonly kind: "ldx"; readonly size: Size; readonly signed: boolean }
  | { readonly kind: "st"; readonly size: Size }
  | { readonly kind: "stx"; readonly size: Size }
  | { readonly kind: "atomic"; readonly size: "W" | "DW"; readonly op: AtomicName; readonly fetch: boolean }
  | { readonly kind: "load_acquire"; readonly size: Size }
  | { readonly kind: "store_release"; readonly size: Size };

export type Classified = InsnKind | { readonly kind: "invalid"; readonly reason: string };

const aluNames = new Map<number, AluName>([
  [AluOp.ADD, "add"], [AluOp.SUB, "sub"], [AluOp.MUL, "mul"], [AluOp.DIV, "div"], [AluOp.OR, "or"], [AluOp.AND, "and"],
  [AluOp.LSH, "lsh"], [AluOp.RSH, "rsh"], [AluOp.MOD, "mod"], [AluOp.XOR, "xor"], [AluOp.ARSH, "arsh"],
]);
const condNames = new Map<number, CondName>([
  [JumpOp.JEQ, "jeq"], [JumpOp.JGT, "jgt"], [JumpOp.JGE, "jge"], [JumpOp.JSET, "jset"], [JumpOp.JNE, "jne"], [JumpOp.JSGT, "jsgt"],
  [JumpOp.JSGE, "jsge"], [JumpOp.JLT, "jlt"], [JumpOp.JLE, "jle"], [JumpOp.JSLT, "jslt"], [JumpOp.JSLE, "jsle"],
]);
const atomicNames = new Map<number, [AtomicName, boolean]>([
  [AtomicOp.ADD, ["add", false]], [AtomicOp.ADD | AtomicOp.FETCH, ["add", true]],
  [AtomicOp.OR, ["or", false]], [AtomicOp.OR | AtomicOp.FETCH, ["or", true]],
  [AtomicOp.AND, ["and", false]], [AtomicOp.AND | AtomicOp.FETCH, ["and", true]],
  [AtomicOp.XOR, ["xor", false]], [AtomicOp.XOR | AtomicOp.FETCH, ["xor", true]],
  [AtomicOp.XCHG, ["xchg", true]], [AtomicOp.CMPXCHG, ["cmpxchg", true]],
]);

/** The number of pseudo sources `lddw` knows (BPF_PSEUDO_MAP_FD .. BPF_PSEUDO_MAP_IDX_VALUE). */
const LDDW_PSEUDO_MAX = 6;

const hex = (v: number) => `0x${v.toString(16)}`;

const bad = (op: number, reason: string): Classified => ({ kind: "invalid", reason: `${reason} (opcode ${hex(op)})` });

/**
 * Classify an instruction, or say why its encoding is invalid. Register numbers above 10,
 * unknown opcodes, non-zero reserved fields and bad widths are all "invalid".
 */
export function classify(ins: Instruction): Classified {
  // `bad` is module-level (no closure per call: the assembler classifies every instruction).
  const op = ins.op, dst = ins.dst, src = ins.src, off = ins.off, imm = ins.imm;
  if (dst > 10) return bad(op, `dst register r${dst} does not exist`);
  const cls = classOf(op);
  switch (cls) {
    case Class.ALU:
    case Class.ALU64: {
      const wide = cls === Class.ALU64;
      const code = op & 0xf0;
      const operand: Operand = (op & Source.X) === Source.X ? "reg" : "imm";
      if (code === AluOp.END) {
        if (src !== 0 || off !== 0) return bad(op, "byte swap with non-zero src or offset");
        if (imm !== 16 && imm !== 32 && imm !== 64) return bad(op, `byte swap width ${imm} (must be 16, 32 or 64)`);
        if (wide && operand === "reg") return bad(op, "ALU64 byte swap must use source bit 0 (bswap)");
        return { kind: "end", order: wide ? "swap" : operand === "reg" ? "be" : "le", bits: imm };
      }
      if (code === AluOp.NEG) {
        if (operand !== "imm" || src !== 0 || off !== 0 || imm !== 0) return bad(op, "neg uses reserved fields");
        return { kind: "neg", wide };
      }
      if (operand === "imm" && src !== 0) return bad(op, `src register r${src} with an immediate operand`);
      if (operand === "reg" && imm !== 0) return bad(op, `immediate ${imm} with a register operand`);
      if (operand === "reg" && src > 10) return bad(op, `src register r${src} does not exist`);
      if (code === AluOp.MOV) {
        if (off === 0) return { kind: "mov", wide, operand };
        if (operand === "reg" && (off === 8 || off === 16 || (wide && off === 32))) return { kind: "movsx", wide, bits: off };
        return bad(op, `mov with offset ${off}`);
      }
      const name = aluNames.get(code);
      if (name === undefined) return bad(op, "unknown ALU operation");
      if ((code === AluOp.DIV || code === AluOp.MOD) && off === 1) return { kind: "alu", wide, op: name, operand, signed: true };
      if (off !== 0) return bad(op, `${name} with offset ${off}`);
      return { kind: "alu", wide, op: name, operand, signed: false };
    }
    case Class.JMP:
    case Class.JMP32: {
      const wide = cls === Class.JMP;
      const code = op & 0xf0;
      const operand: Operand = (op & Source.X) === Source.X ? "reg" : "imm";
      if (code === JumpOp.JA) {
        if (operand !== "imm" || src !== 0 || dst !== 0) return bad(op, "goto uses reserved fields");
        if (wide) return imm === 0 ? { kind: "ja" } : bad(op, "goto with a non-zero immediate");
        return off === 0 ? { kind: "gotol" } : bad(op, "gotol with a non-zero offset");
      }
      if (code === JumpOp.CALL) {
        if (!wide) return bad(op, "call in the JMP32 class");
        if (operand !== "imm" || dst !== 0) return bad(op, "call uses reserved fields");
        const target = src === PseudoCall.HELPER ? "helper" : src === PseudoCall.CALL ? "local" : src === PseudoCall.KFUNC ? "kfunc" : undefined;
        if (target === undefined) return bad(op, `call with unknown pseudo source ${src}`);
        // The kernel lets a kfunc call carry the fd_array index of its module's BTF in `off`.
        if (off !== 0 && target !== "kfunc") return bad(op, "call with a non-zero offset");
        return { kind: "call", target };
      }
      if (code === JumpOp.JCOND) {
        if (!wide) return bad(op, "may_goto in the JMP32 class");
        if (operand !== "imm" || dst !== 0 || src !== 0 || imm !== 0) return bad(op, "may_goto uses reserved fields");
        return { kind: "may_goto" };
      }
      if (code === JumpOp.EXIT) {
        if (!wide) return bad(op, "exit in the JMP32 class");
        if (operand !== "imm" || dst !== 0 || src !== 0 || off !== 0 || imm !== 0) return bad(op, "exit uses reserved fields");
        return { kind: "exit" };
      }
      const name = condNames.get(code);
      if (name === undefined) return bad(op, "unknown jump operation");
      if (operand === "imm" && src !== 0) return bad(op, `src register r${src} with an immediate operand`);
      if (operand === "reg" && imm !== 0) return bad(op, `immediate ${imm} with a register operand`);
      if (operand === "reg" && src > 10) return bad(op, `src register r${src} does not exist`);
      return { kind: "jcond", wide, op: name, operand };
    }
    case Class.LD: {
      const mode = op & 0xe0;
      if (op === OP_LDDW) {
        if (off !== 0) return bad(op, "lddw with a non-zero offset");
        if (src > LDDW_PSEUDO_MAX) return bad(op, `lddw with unknown pseudo source ${src}`);
        // The verifier refuses a second immediate where the pseudo source has no use for it.
        const next = BigInt.asIntN(64, ins.imm64 ?? BigInt(imm)) >> 32n;
        if (next !== 0n && (src === PseudoLd.MAP_FD || src === PseudoLd.BTF_ID || src === PseudoLd.MAP_IDX)) {
          return bad(op, `lddw with pseudo source ${src} and a non-zero second immediate`);
        }
        return { kind: "lddw", pseudo: src };
      }
      const size = sizeOf(op);
      if ((mode === Mode.ABS || mode === Mode.IND) && size !== "DW") {
        if (dst !== 0 || off !== 0) return bad(op, "legacy packet load uses reserved fields");
        if (mode === Mode.ABS) return src === 0 ? { kind: "ldabs", size } : bad(op, "ld_abs with a non-zero src");
        return src <= 10 ? { kind: "ldind", size } : bad(op, `src register r${src} does not exist`);
      }
      return bad(op, "unknown LD instruction");
    }
    case Class.LDX: {
      const mode = op & 0xe0;
      const size = sizeOf(op);
      if (mode !== Mode.MEM && !(mode === Mode.MEMSX && size !== "DW")) return bad(op, "unknown LDX mode");
      if (imm !== 0) return bad(op, "load with a non-zero immediate");
      if (src > 10) return bad(op, `src register r${src} does not exist`);
      return { kind: "ldx", size, signed: mode === Mode.MEMSX };
    }
    case Class.ST: {
      if ((op & 0xe0) !== Mode.MEM) return bad(op, "unknown ST mode");
      if (src !== 0) return bad(op, "store of an immediate with a non-zero src");
      return { kind: "st", size: sizeOf(op) };
    }
    case Class.STX: {
      const mode = op & 0xe0;
      const size = sizeOf(op);
      if (src > 10) return bad(op, `src register r${src} does not exist`);
      if (mode === Mode.MEM) return imm === 0 ? { kind: "stx", size } : bad(op, "store with a non-zero immediate");
      if (mode !== Mode.ATOMIC) return bad(op, "unknown STX mode");
      if (imm === AtomicOp.LOAD_ACQ) return { kind: "load_acquire", size };
      if (imm === AtomicOp.STORE_REL) return { kind: "store_release", size };
      if (size !== "W" && size !== "DW") return bad(op, `atomic operation ${hex(imm)} of size ${size} (only load-acquire and store-release)`);
      const a = atomicNames.get(imm);
      if (a === undefined) return bad(op, `unknown atomic operation ${hex(imm)}`);
      return { kind: "atomic", size, op: a[0], fetch: a[1] };
    }
  }
  return bad(op, "unknown class");
}

/** Why the encoding of `ins` is invalid, or undefined when it is valid. */
export function encodingProblem(ins: Instruction): string | undefined {
  const c = classify(ins);
  return c.kind === "invalid" ? c.reason : undefined;
}

/**
 * Check every instruction of a decoded program. Throws `KMLIB_INVALID_ENCODING` naming the
 * slot (8-byte unit) of the first invalid one.
 */
export function checkEncoding(insns: readonly Instruction[]): void {
  let slot = 0;
  for (const ins of insns) {
    const why = encodingProblem(ins);
    if (why !== undefined) throw new KmlibError(ErrorCode.InvalidEncoding, `invalid encoding at slot ${slot}: ${why}`);
    slot += slots(ins);
  }
}
