/**
 * @module bpf/asm/instruction
 * The eBPF instruction as plain data, and its exact 8-byte (16 for `lddw`) little-endian
 * encoding. Instructions may carry symbolic metadata: `symbol` (a label on this
 * instruction), `ref` (the label a jump/call targets; the offset is filled in by the
 * assembler) and `mapRef` (the map an `lddw` loads, bound to a fd at load time).
 */
import { ErrorCode, KmlibError } from "../../errors.ts";
import { Class, Mode, classOf, isAluClass, isJumpClass, JumpOp, jumpOpOf, opcodeName } from "./opcode.ts";
import * as opcode from "./opcode.ts";
import * as register from "./register.ts";
import type { Register } from "./register.ts";

// Local copies of what validate() and encode read per instruction (under tsx each read of an
// import is a getter call).
const { OP_LDDW } = opcode;
const { isRegister } = register;

export interface Instruction {
  /** The opcode byte. */
  readonly op: number;
  readonly dst: Register;
  /** Source register, or a pseudo source for `lddw` and `call`. */
  readonly src: number;
  /** Signed 16-bit offset. */
  readonly off: number;
  /** Signed 32-bit immediate (for `lddw` the low half; see imm64). */
  readonly imm: number;
  /** For `lddw` only: the full 64-bit immediate. */
  readonly imm64?: bigint;
  /** A label naming this instruction. */
  readonly symbol?: string;
  /** The label this jump or bpf-to-bpf call targets; resolved by the assembler. */
  readonly ref?: string;
  /** The map this `lddw` refers to; its fd is patched in at load time. */
  readonly mapRef?: string;
}

/** Number of 8-byte slots an instruction occupies (2 for `lddw`). */
export const slots = (ins: Instruction): 1 | 2 => (ins.op === OP_LDDW ? 2 : 1);

function fail(msg: string, index?: number): never {
  throw new KmlibError(ErrorCode.InvalidInstruction, index === undefined ? msg : `instruction ${index}: ${msg}`);
}

export function checkInt(v: number, bits: number, what: string, index?: number): void {
  const min = -(2 ** (bits - 1));
  const max = 2 ** (bits - 1) - 1;
  if (!Number.isInteger(v) || v < min || v > max) fail(`invalid int${bits} ${what}: ${v}`, index);
}

/** Validate field ranges (not semantics); throws `KMLIB_INVALID_INSTRUCTION` naming the index. */
export function validate(ins: Instruction, index?: number): void {
  if (!Number.isInteger(ins.op) || ins.op < 0 || ins.op > 0xff) fail(`invalid opcode: ${ins.op}`, index);
  if (!isRegister(ins.dst)) fail(`invalid dst register: ${ins.dst}`, index);
  if (!Number.isInteger(ins.src) || ins.src < 0 || ins.src > 15) fail(`invalid src register: ${ins.src}`, index);
  checkInt(ins.off, 16, "offset", index);
  if (ins.op === OP_LDDW) {
    const v = ins.imm64 ?? BigInt(ins.imm);
    if (v < -(1n << 63n) || v >= 1n << 64n) fail(`invalid 64-bit immediate: ${v}`, index);
  } else {
    checkInt(ins.imm, 32, "immediate", index);
  }
}

/** Encode instructions to their wire form. Unresolved `ref`s must be resolved first. */
export function encode(insns: readonly Instruction[]): Uint8Array {
  let n = 0;
  insns.forEach((ins, i) => {
    validate(ins, i);
    n += slots(ins);
  });
  return encodeValid(insns, n);
}

/** `encode` for instructions already validated (the assembler's): `nSlots` is their total slots. */
export function encodeValid(insns: readonly Instruction[], nSlots: number): Uint8Array {
  const out = new Uint8Array(nSlots * 8);
  const dv = new DataView(out.buffer);
  let p = 0;
  for (const ins of insns) {
    out[p] = ins.op;
    out[p + 1] = (ins.src << 4) | ins.dst;
    dv.setInt16(p + 2, ins.off, true);
    if (ins.op === OP_LDDW) {
      const v = BigInt.asUintN(64, ins.imm64 ?? BigInt(ins.imm));
      dv.setUint32(p + 4, Number(v & 0xffffffffn), true);
      dv.setUint32(p + 12, Number(v >> 32n), true);
      p += 16;
    } else {
      dv.setInt32(p + 4, ins.imm, true);
      p += 8;
    }
  }
  return out;
}

/**
 * Decode wire-form instructions. Throws `KMLIB_INVALID_ENCODING` on truncated input; the
 * ISA's rules for each field are checked by `checkEncoding` (bpf/asm/classify).
 */
export function decode(bytes: Uint8Array): Instruction[] {
  if (bytes.length % 8 !== 0) {
    throw new KmlibError(ErrorCode.InvalidEncoding, `invalid encoding: ${bytes.length} bytes is not a multiple of 8`);
  }
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const out: Instruction[] = [];
  for (let p = 0; p < bytes.length; ) {
    const op = bytes[p]!;
    const regs = bytes[p + 1]!;
    const dst = regs & 0x0f;
    const src = regs >> 4;
    if (dst > 10) {
      throw new KmlibError(ErrorCode.InvalidEncoding, `invalid encoding at slot ${p / 8}: dst register ${dst}`);
    }
    const off = dv.getInt16(p + 2, true);
    const imm = dv.getInt32(p + 4, true);
    if (op === OP_LDDW) {
      if (p + 16 > bytes.length) {
        throw new KmlibError(ErrorCode.InvalidEncoding, `invalid encoding at slot ${p / 8}: lddw truncated`);
      }
      if (bytes[p + 8] !== 0 || bytes[p + 9] !== 0 || dv.getInt16(p + 10, true) !== 0) {
        throw new KmlibError(ErrorCode.InvalidEncoding, `invalid encoding at slot ${p / 8 + 1}: lddw second half must be zero but for its immediate`);
      }
      const hi = BigInt(dv.getUint32(p + 12, true));
      const lo = BigInt(dv.getUint32(p + 4, true));
      out.push({ op, dst: dst as Register, src, off, imm, imm64: BigInt.asIntN(64, (hi << 32n) | lo) });
      p += 16;
    } else {
      out.push({ op, dst: dst as Register, src, off, imm });
      p += 8;
    }
  }
  return out;
}

/**
 * Decode the one instruction at byte `offset`, never throwing: `size` is how many bytes it
 * takes (16 for `lddw`), and `problem` says why there is no instruction there (a register that
 * does not exist, an `lddw` whose second half is not blank: 8 bytes; too few bytes left: 1
 * byte, which is how far llvm-objdump moves on). Fields are not checked further here;
 * `classify` does that.
 */
export function decodeAt(bytes: Uint8Array, offset: number): { ins?: Instruction; size: number; problem?: string } {
  const left = bytes.length - offset;
  if (left < 8) return { size: 1, problem: `only ${left} bytes left` };
  const dv = new DataView(bytes.buffer, bytes.byteOffset + offset, left);
  const op = dv.getUint8(0);
  const dst = dv.getUint8(1) & 0x0f;
  const src = dv.getUint8(1) >> 4;
  if (dst > 10) return { size: 8, problem: `dst register ${dst}` };
  const off = dv.getInt16(2, true);
  const imm = dv.getInt32(4, true);
  if (op !== OP_LDDW) return { ins: { op, dst: dst as Register, src, off, imm }, size: 8 };
  if (left < 16) return { size: 1, problem: "lddw truncated" };
  if (dv.getUint8(8) !== 0 || dv.getUint8(9) !== 0 || dv.getInt16(10, true) !== 0) {
    return { size: 8, problem: "lddw second half must be zero but for its immediate" };
  }
  const imm64 = BigInt.asIntN(64, (BigInt(dv.getUint32(12, true)) << 32n) | BigInt(dv.getUint32(4, true)));
  return { ins: { op, dst: dst as Register, src, off, imm, imm64 }, size: 16 };
}

/** True for instructions whose `off` (or `imm` for gotol / local call) is a branch target. */
export function isBranch(ins: Instruction): boolean {
  const cls = classOf(ins.op);
  if (!isJumpClass(cls)) return false;
  const jop = jumpOpOf(ins.op);
  if (jop === JumpOp.EXIT) return false;
  if (jop === JumpOp.CALL) return ins.src === 1;
  return true;
}

/** A short debugging form: `ALU64|MOV|K dst: r0 src: r0 off: 0 imm: 0`. */
export function formatRaw(ins: Instruction): string {
  const imm = ins.op === OP_LDDW ? String(ins.imm64 ?? ins.imm) : String(ins.imm);
  const meta = [ins.symbol && `<${ins.symbol}>`, ins.ref && `-> ${ins.ref}`, ins.mapRef && `map ${ins.mapRef}`].filter(Boolean).join(" ");
  return `${opcodeName(ins.op)} dst: r${ins.dst} src: r${ins.src} off: ${ins.off} imm: ${imm}${meta ? " " + meta : ""}`;
}

export { Class, Mode, isAluClass };
