/**
 * @module bpf/asm/dsl
 * A small DSL that builds instructions, after cilium/ebpf's `asm` package:
 * `Add.imm(R1, 22)`, `Add32.reg(R1, R2)`, `JSGT.reg(R1, R2, "label")`, `Ja("out")`,
 * `LoadMem("W", R2, R1, 4)`, `Call(Helper.map_lookup_elem)`, `Return(0)`, `label("out")`.
 * Jump targets are always labels; the assembler resolves them (never hand-written offsets).
 */
import { ErrorCode, KmlibError } from "../../errors.ts";
import type { Instruction } from "./instruction.ts";
import { AluOp, AtomicOp, Class, JumpOp, Mode, OP_LDDW, PseudoCall, PseudoLd, Size, Source } from "./opcode.ts";
import type { Register } from "./register.ts";

/** A label marker placed between instructions; it names the next instruction. */
export interface Label {
  readonly label: string;
}
export type AsmItem = Instruction | Label;
export const isLabel = (x: AsmItem): x is Label => "label" in x;
export const label = (name: string): Label => ({ label: name });

/** Attach a symbol (label) to an instruction. */
export const withSymbol = (ins: Instruction, symbol: string): Instruction => ({ ...ins, symbol });

const insn = (op: number, dst: Register, src: number, off: number, imm: number): Instruction => ({ op, dst, src, off, imm });

export interface AluBuilder {
  /** dst = dst OP imm */
  imm(dst: Register, imm: number): Instruction;
  /** dst = dst OP src */
  reg(dst: Register, src: Register): Instruction;
}
function alu(cls: number, op: number, off = 0): AluBuilder {
  // Opcodes computed once per builder: builders run once per generated instruction.
  const k = cls | op | Source.K;
  const x = cls | op | Source.X;
  return {
    imm: (dst, imm) => insn(k, dst, 0, off, imm),
    reg: (dst, src) => insn(x, dst, src, off, 0),
  };
}
const A64 = Class.ALU64, A32 = Class.ALU;
export const Add = alu(A64, AluOp.ADD), Add32 = alu(A32, AluOp.ADD);
export const Sub = alu(A64, AluOp.SUB), Sub32 = alu(A32, AluOp.SUB);
export const Mul = alu(A64, AluOp.MUL), Mul32 = alu(A32, AluOp.MUL);
export const Div = alu(A64, AluOp.DIV), Div32 = alu(A32, AluOp.DIV);
/** Signed division (cpu v4: off = 1). */
export const SDiv = alu(A64, AluOp.DIV, 1), SDiv32 = alu(A32, AluOp.DIV, 1);
export const Or = alu(A64, AluOp.OR), Or32 = alu(A32, AluOp.OR);
export const And = alu(A64, AluOp.AND), And32 = alu(A32, AluOp.AND);
export const Lsh = alu(A64, AluOp.LSH), Lsh32 = alu(A32, AluOp.LSH);
export const Rsh = alu(A64, AluOp.RSH), Rsh32 = alu(A32, AluOp.RSH);
export const Mod = alu(A64, AluOp.MOD), Mod32 = alu(A32, AluOp.MOD);
/** Signed modulo (cpu v4: off = 1). */
export const SMod = alu(A64, AluOp.MOD, 1), SMod32 = alu(A32, AluOp.MOD, 1);
export const Xor = alu(A64, AluOp.XOR), Xor32 = alu(A32, AluOp.XOR);
export const Mov = alu(A64, AluOp.MOV), Mov32 = alu(A32, AluOp.MOV);
export const ArSh = alu(A64, AluOp.ARSH), ArSh32 = alu(A32, AluOp.ARSH);
/** dst = -dst */
export const Neg = (dst: Register): Instruction => insn(A64 | AluOp.NEG, dst, 0, 0, 0);
export const Neg32 = (dst: Register): Instruction => insn(A32 | AluOp.NEG, dst, 0, 0, 0);

/** Sign-extending register moves (cpu v4): dst = (s8|s16|s32) src. */
export const MovSX = (bits: 8 | 16 | 32, dst: Register, src: Register): Instruction => insn(A64 | AluOp.MOV | Source.X, dst, src, bits, 0);
export const MovSX32 = (bits: 8 | 16, dst: Register, src: Register): Instruction => insn(A32 | AluOp.MOV | Source.X, dst, src, bits, 0);

/** Byte order conversions: to little / big endian (ALU class), unconditional swap (ALU64, v4). */
export const ToLE = (dst: Register, bits: 16 | 32 | 64): Instruction => insn(A32 | AluOp.END | Source.K, dst, 0, 0, bits);
export const ToBE = (dst: Register, bits: 16 | 32 | 64): Instruction => insn(A32 | AluOp.END | Source.X, dst, 0, 0, bits);
export const BSwap = (dst: Register, bits: 16 | 32 | 64): Instruction => insn(A64 | AluOp.END | Source.K, dst, 0, 0, bits);

export interface JumpBuilder {
  /** if dst OP imm goto label */
  imm(dst: Register, imm: number, target: string): Instruction;
  /** if dst OP src goto label */
  reg(dst: Register, src: Register, target: string): Instruction;
}
function jmp(cls: number, op: number): JumpBuilder {
  const k = cls | op | Source.K;
  const x = cls | op | Source.X;
  return {
    imm: (dst, imm, target) => ({ op: k, dst, src: 0, off: 0, imm, ref: target }),
    reg: (dst, src, target) => ({ op: x, dst, src, off: 0, imm: 0, ref: target }),
  };
}
const J64 = Class.JMP, J32 = Class.JMP32;
const OP_JA = J64 | JumpOp.JA, OP_GOTOL = J32 | JumpOp.JA, OP_CALL = J64 | JumpOp.CALL, OP_EXIT = J64 | JumpOp.EXIT;
export const JEq = jmp(J64, JumpOp.JEQ), JEq32 = jmp(J32, JumpOp.JEQ);
export const JNE = jmp(J64, JumpOp.JNE), JNE32 = jmp(J32, JumpOp.JNE);
export const JGT = jmp(J64, JumpOp.JGT), JGT32 = jmp(J32, JumpOp.JGT);
export const JGE = jmp(J64, JumpOp.JGE), JGE32 = jmp(J32, JumpOp.JGE);
export const JLT = jmp(J64, JumpOp.JLT), JLT32 = jmp(J32, JumpOp.JLT);
export const JLE = jmp(J64, JumpOp.JLE), JLE32 = jmp(J32, JumpOp.JLE);
export const JSGT = jmp(J64, JumpOp.JSGT), JSGT32 = jmp(J32, JumpOp.JSGT);
export const JSGE = jmp(J64, JumpOp.JSGE), JSGE32 = jmp(J32, JumpOp.JSGE);
export const JSLT = jmp(J64, JumpOp.JSLT), JSLT32 = jmp(J32, JumpOp.JSLT);
export const JSLE = jmp(J64, JumpOp.JSLE), JSLE32 = jmp(J32, JumpOp.JSLE);
export const JSet = jmp(J64, JumpOp.JSET), JSet32 = jmp(J32, JumpOp.JSET);
/** goto label (16-bit offset). */
export const Ja = (target: string): Instruction => ({ op: OP_JA, dst: 0, src: 0, off: 0, imm: 0, ref: target });
/** may_goto label: jump once the kernel's hidden loop budget is spent (kernel 6.9). */
export const MayGoto = (target: string): Instruction => ({ ...insn(J64 | JumpOp.JCOND, 0, 0, 0, 0), ref: target });
/** gotol label (32-bit offset in imm, cpu v4). */
export const JaLong = (target: string): Instruction => ({ op: OP_GOTOL, dst: 0, src: 0, off: 0, imm: 0, ref: target });

/** Call a kernel helper by number (see `Helper`). */
export const Call = (helper: number): Instruction => insn(J64 | JumpOp.CALL, 0, PseudoCall.HELPER, 0, helper);
/** bpf-to-bpf call of the subprogram starting at `target`. */
export const CallLocal = (target: string): Instruction => ({ op: OP_CALL, dst: 0, src: PseudoCall.CALL, off: 0, imm: 0, ref: target });
/**
 * Call a kernel function by BTF id; a kfunc of a module names its BTF by `btfFdIndex`, the
 * index of that BTF's fd in the fd_array given at load time (0: vmlinux).
 */
export const CallKfunc = (btfId: number, btfFdIndex = 0): Instruction => insn(J64 | JumpOp.CALL, 0, PseudoCall.KFUNC, btfFdIndex, btfId);
export const Exit = (): Instruction => insn(OP_EXIT, 0, 0, 0, 0);
/** r0 = value; exit */
export const Return = (value?: number): Instruction[] => (value === undefined ? [Exit()] : [Mov.imm(0, value), Exit()]);

type SizeName = keyof typeof Size;
const SIZE = Size;
const LDX_MEM = Class.LDX | Mode.MEM, LDX_MEMSX = Class.LDX | Mode.MEMSX, STX_MEM = Class.STX | Mode.MEM, ST_MEM = Class.ST | Mode.MEM;
/** dst = *(size *)(src + off) */
export const LoadMem = (size: SizeName, dst: Register, src: Register, off: number): Instruction =>
  insn(LDX_MEM | SIZE[size], dst, src, off, 0);
/** dst = *(signed size *)(src + off), sign-extended (cpu v4; not DW). */
export const LoadMemSX = (size: "W" | "H" | "B", dst: Register, src: Register, off: number): Instruction =>
  insn(LDX_MEMSX | SIZE[size], dst, src, off, 0);
/** *(size *)(dst + off) = src */
export const StoreMem = (size: SizeName, dst: Register, off: number, src: Register): Instruction =>
  insn(STX_MEM | SIZE[size], dst, src, off, 0);
/** *(size *)(dst + off) = imm */
export const StoreImm = (size: SizeName, dst: Register, off: number, imm: number): Instruction =>
  insn(ST_MEM | SIZE[size], dst, 0, off, imm);
/** Legacy packet loads (socket filters): r0 = ntoh(*(size *)(skb->data + imm)). */
export const LoadAbs = (size: "W" | "H" | "B", imm: number): Instruction => insn(Class.LD | Mode.ABS | Size[size], 0, 0, 0, imm);
export const LoadInd = (size: "W" | "H" | "B", src: Register, imm: number): Instruction =>
  insn(Class.LD | Mode.IND | Size[size], 0, src, 0, imm);

type AtomicSize = "W" | "DW";
const atomic = (size: AtomicSize, aop: number, dst: Register, off: number, src: Register): Instruction =>
  insn(Class.STX | Mode.ATOMIC | Size[size], dst, src, off, aop);
/** *(size *)(dst + off) OP= src; with `fetch`, src receives the old value. */
export const AtomicAdd = (size: AtomicSize, dst: Register, off: number, src: Register, fetch = false) =>
  atomic(size, AtomicOp.ADD | (fetch ? AtomicOp.FETCH : 0), dst, off, src);
export const AtomicOr = (size: AtomicSize, dst: Register, off: number, src: Register, fetch = false) =>
  atomic(size, AtomicOp.OR | (fetch ? AtomicOp.FETCH : 0), dst, off, src);
export const AtomicAnd = (size: AtomicSize, dst: Register, off: number, src: Register, fetch = false) =>
  atomic(size, AtomicOp.AND | (fetch ? AtomicOp.FETCH : 0), dst, off, src);
export const AtomicXor = (size: AtomicSize, dst: Register, off: number, src: Register, fetch = false) =>
  atomic(size, AtomicOp.XOR | (fetch ? AtomicOp.FETCH : 0), dst, off, src);
/** src = xchg(*(dst + off), src) */
export const AtomicXchg = (size: AtomicSize, dst: Register, off: number, src: Register) => atomic(size, AtomicOp.XCHG, dst, off, src);
/** r0 = cmpxchg(*(dst + off), r0, src) */
export const AtomicCmpXchg = (size: AtomicSize, dst: Register, off: number, src: Register) => atomic(size, AtomicOp.CMPXCHG, dst, off, src);
/** dst = load_acquire((size *)(src + off)) (kernel 6.15). */
export const LoadAcquire = (size: SizeName, dst: Register, src: Register, off: number): Instruction =>
  insn(Class.STX | Mode.ATOMIC | Size[size], dst, src, off, AtomicOp.LOAD_ACQ);
/** store_release((size *)(dst + off), src) (kernel 6.15). */
export const StoreRelease = (size: SizeName, dst: Register, off: number, src: Register): Instruction =>
  insn(Class.STX | Mode.ATOMIC | Size[size], dst, src, off, AtomicOp.STORE_REL);

/** dst = imm64 (16-byte lddw). */
export function LoadImm64(dst: Register, value: bigint | number): Instruction {
  const v = BigInt(value);
  if (v < -(1n << 63n) || v >= 1n << 64n) throw new KmlibError(ErrorCode.InvalidInstruction, `invalid 64-bit immediate: ${v}`);
  return { op: OP_LDDW, dst, src: PseudoLd.NONE, off: 0, imm: Number(BigInt.asIntN(32, v)), imm64: BigInt.asIntN(64, v) };
}
/** dst = pointer to the map named `map` (fd patched at load time). */
export const LoadMapPtr = (dst: Register, map: string): Instruction => ({ op: OP_LDDW, dst, src: PseudoLd.MAP_FD, off: 0, imm: 0, imm64: 0n, mapRef: map });
/** dst = pointer into the value of array map `map` at byte `offset` (direct value access). */
export const LoadMapValue = (dst: Register, map: string, offset: number): Instruction => ({
  op: OP_LDDW,
  dst,
  src: PseudoLd.MAP_VALUE,
  off: 0,
  imm: 0,
  imm64: BigInt(offset) << 32n,
  mapRef: map,
});

const pseudoLoad = (dst: Register, src: number, imm: number, next = 0): Instruction => {
  const lo = Number(BigInt.asIntN(32, BigInt(imm)));
  return { op: OP_LDDW, dst, src, off: 0, imm: lo, imm64: BigInt.asIntN(64, (BigInt(next >>> 0) << 32n) | BigInt(imm >>> 0)) };
};
/** dst = pointer to the map whose fd is `fd` (already open; no relocation). */
export const LoadMapFd = (dst: Register, fd: number): Instruction => pseudoLoad(dst, PseudoLd.MAP_FD, fd);
/** dst = pointer into the value of the array map with fd `fd`, at byte `offset`. */
export const LoadMapFdValue = (dst: Register, fd: number, offset: number): Instruction => pseudoLoad(dst, PseudoLd.MAP_VALUE, fd, offset);
/** dst = address of the kernel variable with BTF id `btfId` (a ksym). */
export const LoadBtfId = (dst: Register, btfId: number): Instruction => pseudoLoad(dst, PseudoLd.BTF_ID, btfId);
/** dst = pointer to the map at index `idx` of the fd_array passed at load time. */
export const LoadMapIdx = (dst: Register, idx: number): Instruction => pseudoLoad(dst, PseudoLd.MAP_IDX, idx);
/** dst = pointer into the value of the map at fd_array index `idx`, at byte `offset`. */
export const LoadMapIdxValue = (dst: Register, idx: number, offset: number): Instruction => pseudoLoad(dst, PseudoLd.MAP_IDX_VALUE, idx, offset);
/** dst = address of the subprogram at `target` (for callbacks such as bpf_loop). */
export const LoadFunc = (dst: Register, target: string): Instruction => ({ ...pseudoLoad(dst, PseudoLd.FUNC, 0), ref: target });
