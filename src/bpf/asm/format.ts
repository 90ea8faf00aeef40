/**
 * @module bpf/asm/format
 * One instruction as LLVM's BPF assembly text, exactly as `llvm-objdump -d` prints it:
 * `r0 = 0`, `w1 += w2`, `if r1 > 5 goto +3`, `r1 = *(u32 *)(r2 + 4)`,
 * `lock *(u64 *)(r1 + 0) += r2`, `call 1`, `exit`, `r1 = 4660 ll`, `ld_pseudo r1, 1, 3`.
 *
 * The reference is Debian 12's LLVM 14. Instructions LLVM 14 cannot decode use the syntax of
 * LLVM 18 and later (BPFInstrInfo.td): cpu v4's `s/=`, `s%=`, `r1 = (s8)r2`,
 * `r1 = bswap16 r1`, `gotol +N`, `r1 = *(s32 *)(r2 + 4)`, and stores of an immediate,
 * `*(u32 *)(r10 - 4) = 5`, load-acquire and store-release (LLVM 20:
 * `w0 = load_acquire((u8 *)(r1 + 0))`, `store_release((u64 *)(r1 + 8), r2)`), `may_goto +N`,
 * and unsigned modulo, `r1 %= r2` (LLVM 14 has no MOD: clang
 * expands `%` into div, mul and sub). LLVM has no JSET at all (clang never emits it); it is
 * printed `if r1 & r2 goto +N`, the form of the other conditional jumps.
 *
 * `alu32` selects the decoding `llvm-objdump --mattr=+alu32` uses (what `-mcpu=v3` code is
 * compiled for): 32-bit loads, stores and atomics name `w` registers. Without it LLVM 14
 * knows only the plain 32-bit atomic add; the other 32-bit atomics (which it then prints as
 * `<unknown>`, or for a fetching add as if it did not fetch) are printed here in their
 * alu32 form, the only syntax LLVM has for them.
 */
import { assertNever } from "../../errors.ts";
import type { Instruction } from "./instruction.ts";
import { type AluName, type CondName, type InsnKind, classify } from "./classify.ts";
import type { Size } from "./opcode.ts";

export interface FormatOptions {
  /** Decode 32-bit memory operations with `w` registers, as `llvm-objdump --mattr=+alu32`. */
  readonly alu32?: boolean;
}

/** The text LLVM prints for an instruction it cannot decode. */
export const UNKNOWN = "<unknown>";

const aluOps: Record<AluName, string> = {
  add: "+=", sub: "-=", mul: "*=", div: "/=", or: "|=", and: "&=", lsh: "<<=", rsh: ">>=", mod: "%=", xor: "^=", arsh: "s>>=",
};
const condOps: Record<CondName, string> = {
  jeq: "==", jgt: ">", jge: ">=", jset: "&", jne: "!=", jsgt: "s>", jsge: "s>=", jlt: "<", jle: "<=", jslt: "s<", jsle: "s<=",
};
const atomicOps = { add: "+", or: "|", and: "&", xor: "^" } as const;
const unsignedType: Record<Size, string> = { B: "u8", H: "u16", W: "u32", DW: "u64" };
const signedType: Record<Size, string> = { B: "s8", H: "s16", W: "s32", DW: "s64" };

const reg = (n: number, wide: boolean) => `${wide ? "r" : "w"}${n}`;
/** `r2 + 4`, `r10 - 8`: LLVM prints the sign as an operator. */
const mem = (base: number, off: number) => `r${base} ${off < 0 ? "-" : "+"} ${Math.abs(off)}`;
/** Branch offsets always carry a sign: `+0`, `+3`, `-2`. */
export const branchOffset = (n: number) => (n >= 0 ? `+${n}` : `${n}`);

/** LLVM assembly text of one instruction (without llvm-objdump's ` <target>` annotation). */
export function formatInstruction(ins: Instruction, options: FormatOptions = {}): string {
  const k = classify(ins);
  return k.kind === "invalid" ? UNKNOWN : formatKind(ins, k, options.alu32 ?? false);
}

export function formatKind(ins: Instruction, k: InsnKind, alu32: boolean): string {
  const { dst, src, off, imm } = ins;
  switch (k.kind) {
    case "alu": {
      const op = k.signed ? `s${aluOps[k.op]}` : aluOps[k.op];
      return `${reg(dst, k.wide)} ${op} ${k.operand === "imm" ? imm : reg(src, k.wide)}`;
    }
    case "neg":
      return `${reg(dst, k.wide)} = -${reg(dst, k.wide)}`;
    case "mov":
      return `${reg(dst, k.wide)} = ${k.operand === "imm" ? imm : reg(src, k.wide)}`;
    case "movsx":
      return `${reg(dst, k.wide)} = (s${k.bits})${reg(src, k.wide)}`;
    case "end":
      return `r${dst} = ${k.order === "swap" ? "bswap" : k.order}${k.bits} r${dst}`;
    case "ja":
      return `goto ${branchOffset(off)}`;
    case "gotol":
      return `gotol ${branchOffset(imm)}`;
    case "may_goto":
      return `may_goto ${branchOffset(off)}`;
    case "jcond":
      return `if ${reg(dst, k.wide)} ${condOps[k.op]} ${k.operand === "imm" ? imm : reg(src, k.wide)} goto ${branchOffset(off)}`;
    case "call":
      return `call ${imm}`;
    case "exit":
      return "exit";
    case "lddw":
      if (k.pseudo === 0) return `r${dst} = ${BigInt.asIntN(64, ins.imm64 ?? BigInt(imm))} ll`;
      // LLVM prints only the low immediate, unsigned, of a pseudo load.
      return `ld_pseudo\tr${dst}, ${k.pseudo}, ${imm >>> 0}`;
    case "ldabs":
      return `r0 = *(${unsignedType[k.size]} *)skb[${imm}]`;
    case "ldind":
      return `r0 = *(${unsignedType[k.size]} *)skb[r${src}]`;
    case "ldx": {
      const wide = k.signed || k.size === "DW" || !alu32;
      return `${reg(dst, wide)} = *(${(k.signed ? signedType : unsignedType)[k.size]} *)(${mem(src, off)})`;
    }
    case "st":
      return `*(${unsignedType[k.size]} *)(${mem(dst, off)}) = ${imm}`;
    case "stx":
      return `*(${unsignedType[k.size]} *)(${mem(dst, off)}) = ${reg(src, k.size === "DW" || !alu32)}`;
    case "atomic": {
      const dw = k.size === "DW";
      // Without alu32 LLVM decodes only the plain 32-bit add, and with r registers.
      const wide = dw || (!alu32 && k.op === "add" && !k.fetch);
      const t = unsignedType[k.size];
      const w = dw ? "64" : "32";
      const aop = k.op;
      switch (aop) {
        case "xchg":
          return `${reg(src, dw)} = xchg${dw ? "" : "32"}_${w}(${mem(dst, off)}, ${reg(src, dw)})`;
        case "cmpxchg":
          return `${reg(0, dw)} = cmpxchg${dw ? "" : "32"}_${w}(${mem(dst, off)}, ${reg(0, dw)}, ${reg(src, dw)})`;
        case "add":
        case "or":
        case "and":
        case "xor":
          if (k.fetch) return `${reg(src, wide)} = atomic_fetch_${aop}((${t} *)(${mem(dst, off)}), ${reg(src, wide)})`;
          return `lock *(${t} *)(${mem(dst, off)}) ${atomicOps[aop]}= ${reg(src, wide)}`;
      }
      return assertNever(aop, "atomic operation");
    }
    case "load_acquire":
      return `${reg(dst, k.size === "DW")} = load_acquire((${unsignedType[k.size]} *)(${mem(src, off)}))`;
    case "store_release":
      return `store_release((${unsignedType[k.size]} *)(${mem(dst, off)}), ${reg(src, k.size === "DW")})`;
    default:
      return assertNever(k, "instruction kind");
  }
}
