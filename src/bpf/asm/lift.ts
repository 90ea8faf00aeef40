/**
 * @module bpf/asm/lift
 * Decoded instructions back into the DSL: every instruction becomes the builder call that
 * makes it (`Add.imm(R1, 5)`, `JGT.reg(R3, R2, "L36")`, `AtomicAdd("DW", R0, 0, R1)`), and
 * every branch, local call and function address gets a label instead of its offset. So
 * `assemble(lift(decode(bytes)).items).bytes` is `bytes` again, and `source` is the program
 * as TypeScript a human can edit.
 */
import { ErrorCode, KmlibError, assertNever } from "../../errors.ts";
import { type Instruction, slots } from "./instruction.ts";
import { type AluName, type CondName, type InsnKind, classify } from "./classify.ts";
import * as dsl from "./dsl.ts";
import { helperName } from "./helper.ts";
import { PseudoLd } from "./opcode.ts";
import type { Register } from "./register.ts";

export interface Lifted {
  /** DSL items: instructions made by the builders, with labels where code is jumped to. */
  readonly items: readonly dsl.AsmItem[];
  /** The same program as TypeScript source, one builder call or `label(...)` per line. */
  readonly source: string;
}

const aluBuilders: Record<AluName, [dsl.AluBuilder, dsl.AluBuilder, string]> = {
  add: [dsl.Add, dsl.Add32, "Add"], sub: [dsl.Sub, dsl.Sub32, "Sub"], mul: [dsl.Mul, dsl.Mul32, "Mul"], div: [dsl.Div, dsl.Div32, "Div"],
  or: [dsl.Or, dsl.Or32, "Or"], and: [dsl.And, dsl.And32, "And"], lsh: [dsl.Lsh, dsl.Lsh32, "Lsh"], rsh: [dsl.Rsh, dsl.Rsh32, "Rsh"],
  mod: [dsl.Mod, dsl.Mod32, "Mod"], xor: [dsl.Xor, dsl.Xor32, "Xor"], arsh: [dsl.ArSh, dsl.ArSh32, "ArSh"],
};
const signedBuilders: Partial<Record<AluName, [dsl.AluBuilder, dsl.AluBuilder, string]>> = {
  div: [dsl.SDiv, dsl.SDiv32, "SDiv"], mod: [dsl.SMod, dsl.SMod32, "SMod"],
};
const jumpBuilders: Record<CondName, [dsl.JumpBuilder, dsl.JumpBuilder, string]> = {
  jeq: [dsl.JEq, dsl.JEq32, "JEq"], jne: [dsl.JNE, dsl.JNE32, "JNE"], jgt: [dsl.JGT, dsl.JGT32, "JGT"], jge: [dsl.JGE, dsl.JGE32, "JGE"],
  jlt: [dsl.JLT, dsl.JLT32, "JLT"], jle: [dsl.JLE, dsl.JLE32, "JLE"], jsgt: [dsl.JSGT, dsl.JSGT32, "JSGT"], jsge: [dsl.JSGE, dsl.JSGE32, "JSGE"],
  jslt: [dsl.JSLT, dsl.JSLT32, "JSLT"], jsle: [dsl.JSLE, dsl.JSLE32, "JSLE"], jset: [dsl.JSet, dsl.JSet32, "JSet"],
};
const atomicBuilders = {
  add: [dsl.AtomicAdd, "AtomicAdd"], or: [dsl.AtomicOr, "AtomicOr"], and: [dsl.AtomicAnd, "AtomicAnd"], xor: [dsl.AtomicXor, "AtomicXor"],
} as const;

const R = (r: number) => `R${r}`;
const q = (s: string) => JSON.stringify(s);

/** One instruction as a builder call; `target` is the label of its branch target, if any. */
function liftOne(ins: Instruction, k: InsnKind, target: string | undefined): [Instruction, string] {
  const { dst, src, off, imm } = ins;
  const s = src as Register;
  const label = () => {
    if (target === undefined) throw new KmlibError(ErrorCode.InvalidInstruction, "branch without a target label");
    return target;
  };
  switch (k.kind) {
    case "alu": {
      const [b64, b32, name] = (k.signed ? signedBuilders[k.op] : undefined) ?? aluBuilders[k.op];
      const b = k.wide ? b64 : b32;
      const n = `${name}${k.wide ? "" : "32"}`;
      return k.operand === "imm" ? [b.imm(dst, imm), `${n}.imm(${R(dst)}, ${imm})`] : [b.reg(dst, s), `${n}.reg(${R(dst)}, ${R(s)})`];
    }
    case "neg":
      return k.wide ? [dsl.Neg(dst), `Neg(${R(dst)})`] : [dsl.Neg32(dst), `Neg32(${R(dst)})`];
    case "mov": {
      const b = k.wide ? dsl.Mov : dsl.Mov32;
      const n = k.wide ? "Mov" : "Mov32";
      return k.operand === "imm" ? [b.imm(dst, imm), `${n}.imm(${R(dst)}, ${imm})`] : [b.reg(dst, s), `${n}.reg(${R(dst)}, ${R(s)})`];
    }
    case "movsx":
      if (k.wide) return [dsl.MovSX(k.bits, dst, s), `MovSX(${k.bits}, ${R(dst)}, ${R(s)})`];
      if (k.bits === 32) throw new KmlibError(ErrorCode.InvalidInstruction, "32-bit movsx from 32 bits");
      return [dsl.MovSX32(k.bits, dst, s), `MovSX32(${k.bits}, ${R(dst)}, ${R(s)})`];
    case "end": {
      const [b, n] = k.order === "le" ? [dsl.ToLE, "ToLE"] : k.order === "be" ? [dsl.ToBE, "ToBE"] : [dsl.BSwap, "BSwap"];
      return [b(dst, k.bits), `${n}(${R(dst)}, ${k.bits})`];
    }
    case "ja":
      return [dsl.Ja(label()), `Ja(${q(label())})`];
    case "gotol":
      return [dsl.JaLong(label()), `JaLong(${q(label())})`];
    case "may_goto":
      return [dsl.MayGoto(label()), `MayGoto(${q(label())})`];
    case "jcond": {
      const [b64, b32, name] = jumpBuilders[k.op];
      const b = k.wide ? b64 : b32;
      const n = `${name}${k.wide ? "" : "32"}`;
      return k.operand === "imm"
        ? [b.imm(dst, imm, label()), `${n}.imm(${R(dst)}, ${imm}, ${q(label())})`]
        : [b.reg(dst, s, label()), `${n}.reg(${R(dst)}, ${R(s)}, ${q(label())})`];
    }
    case "call":
      if (k.target === "local") return [dsl.CallLocal(label()), `CallLocal(${q(label())})`];
      if (k.target === "kfunc") return [dsl.CallKfunc(imm, off), off === 0 ? `CallKfunc(${imm})` : `CallKfunc(${imm}, ${off})`];
      return [dsl.Call(imm), helperName.has(imm) && imm !== 0 ? `Call(Helper.${helperName.get(imm)})` : `Call(${imm})`];
    case "exit":
      return [dsl.Exit(), "Exit()"];
    case "lddw": {
      const v = BigInt.asIntN(64, ins.imm64 ?? BigInt(imm));
      const lo = Number(BigInt.asUintN(32, v));
      const hi = Number(BigInt.asUintN(32, v >> 32n));
      switch (k.pseudo) {
        case PseudoLd.NONE:
          // A map relocation in an object: what a loader turns into a map pointer load.
          if (ins.mapRef !== undefined) return [dsl.LoadMapPtr(dst, ins.mapRef), `LoadMapPtr(${R(dst)}, ${q(ins.mapRef)})`];
          return [dsl.LoadImm64(dst, v), `LoadImm64(${R(dst)}, ${v}n)`];
        case PseudoLd.MAP_FD:
          if (ins.mapRef !== undefined) return [dsl.LoadMapPtr(dst, ins.mapRef), `LoadMapPtr(${R(dst)}, ${q(ins.mapRef)})`];
          return [dsl.LoadMapFd(dst, lo), `LoadMapFd(${R(dst)}, ${lo})`];
        case PseudoLd.MAP_VALUE:
          if (ins.mapRef !== undefined) return [dsl.LoadMapValue(dst, ins.mapRef, hi), `LoadMapValue(${R(dst)}, ${q(ins.mapRef)}, ${hi})`];
          return [dsl.LoadMapFdValue(dst, lo, hi), `LoadMapFdValue(${R(dst)}, ${lo}, ${hi})`];
        case PseudoLd.BTF_ID:
          return [dsl.LoadBtfId(dst, lo), `LoadBtfId(${R(dst)}, ${lo})`];
        case PseudoLd.FUNC:
          return [dsl.LoadFunc(dst, label()), `LoadFunc(${R(dst)}, ${q(label())})`];
        case PseudoLd.MAP_IDX:
          return [dsl.LoadMapIdx(dst, lo), `LoadMapIdx(${R(dst)}, ${lo})`];
        case PseudoLd.MAP_IDX_VALUE:
          return [dsl.LoadMapIdxValue(dst, lo, hi), `LoadMapIdxValue(${R(dst)}, ${lo}, ${hi})`];
      }
      throw new KmlibError(ErrorCode.InvalidInstruction, `lddw with unknown pseudo source ${k.pseudo}`);
    }
    case "ldabs":
      return [dsl.LoadAbs(k.size as "W" | "H" | "B", imm), `LoadAbs(${q(k.size)}, ${imm})`];
    case "ldind":
      return [dsl.LoadInd(k.size as "W" | "H" | "B", s, imm), `LoadInd(${q(k.size)}, ${R(s)}, ${imm})`];
    case "ldx":
      return k.signed
        ? [dsl.LoadMemSX(k.size as "W" | "H" | "B", dst, s, off), `LoadMemSX(${q(k.size)}, ${R(dst)}, ${R(s)}, ${off})`]
        : [dsl.LoadMem(k.size, dst, s, off), `LoadMem(${q(k.size)}, ${R(dst)}, ${R(s)}, ${off})`];
    case "st":
      return [dsl.StoreImm(k.size, dst, off, imm), `StoreImm(${q(k.size)}, ${R(dst)}, ${off}, ${imm})`];
    case "stx":
      return [dsl.StoreMem(k.size, dst, off, s), `StoreMem(${q(k.size)}, ${R(dst)}, ${off}, ${R(s)})`];
    case "atomic": {
      const args = `${q(k.size)}, ${R(dst)}, ${off}, ${R(s)}`;
      if (k.op === "xchg") return [dsl.AtomicXchg(k.size, dst, off, s), `AtomicXchg(${args})`];
      if (k.op === "cmpxchg") return [dsl.AtomicCmpXchg(k.size, dst, off, s), `AtomicCmpXchg(${args})`];
      const [b, n] = atomicBuilders[k.op];
      return [b(k.size, dst, off, s, k.fetch), k.fetch ? `${n}(${args}, true)` : `${n}(${args})`];
    }
    case "load_acquire":
      return [dsl.LoadAcquire(k.size, dst, s, off), `LoadAcquire(${q(k.size)}, ${R(dst)}, ${R(s)}, ${off})`];
    case "store_release":
      return [dsl.StoreRelease(k.size, dst, off, s), `StoreRelease(${q(k.size)}, ${R(dst)}, ${off}, ${R(s)})`];
    default:
      return assertNever(k, "instruction kind");
  }
}

export interface LiftOptions {
  /**
   * Labels for instructions whose target lies outside these instructions, by instruction
   * index: in an unlinked object a bpf-to-bpf call is `call -1` plus a relocation naming
   * the function, which becomes `CallLocal("that_function")`.
   */
  readonly externalRefs?: ReadonlyMap<number, string>;
}

/** Where a branch, local call or function address points, as a slot; undefined otherwise. */
function targetSlot(ins: Instruction, k: InsnKind, slot: number): number | undefined {
  switch (k.kind) {
    case "ja":
    case "jcond":
    case "may_goto":
      return slot + 1 + ins.off;
    case "gotol":
      return slot + 1 + ins.imm;
    case "call":
      return k.target === "local" ? slot + 1 + ins.imm : undefined;
    case "lddw":
      return k.pseudo === PseudoLd.FUNC ? slot + 1 + ins.imm : undefined;
    default:
      return undefined;
  }
}

/**
 * Lift decoded instructions into DSL items with labels (`L<slot>`, or the instruction's own
 * `symbol`). Throws `KMLIB_INVALID_ENCODING` for an invalid instruction and
 * `KMLIB_JUMP_OUT_OF_RANGE` for a branch that leaves the program or lands inside an `lddw`.
 */
export function lift(insns: readonly Instruction[], options: LiftOptions = {}): Lifted {
  const starts = new Map<number, number>();
  const kinds: InsnKind[] = [];
  let slot = 0;
  insns.forEach((ins, i) => {
    const k = classify(ins);
    if (k.kind === "invalid") throw new KmlibError(ErrorCode.InvalidEncoding, `invalid encoding at slot ${slot}: ${k.reason}`);
    kinds.push(k);
    starts.set(slot, i);
    slot += slots(ins);
  });
  const total = slot;
  const labelAt = new Map<number, string>();
  const targets: (number | undefined)[] = [];
  slot = 0;
  insns.forEach((ins, i) => {
    const t = options.externalRefs?.has(i) ? undefined : targetSlot(ins, kinds[i]!, slot);
    targets.push(t);
    if (t !== undefined) {
      const at = starts.get(t);
      if (at === undefined) {
        throw new KmlibError(ErrorCode.JumpOutOfRange, `slot ${slot}: target slot ${t} is ${t < 0 || t >= total ? "outside the program" : "inside an lddw"}`);
      }
      labelAt.set(at, insns[at]!.symbol ?? `L${t}`);
    }
    slot += slots(ins);
  });
  const items: dsl.AsmItem[] = [];
  const lines: string[] = [];
  slot = 0;
  insns.forEach((ins, i) => {
    const name = labelAt.get(i) ?? ins.symbol;
    if (name !== undefined) {
      items.push(dsl.label(name));
      lines.push(`label(${q(name)}),`);
    }
    const t = targets[i];
    const ref = options.externalRefs?.get(i) ?? (t === undefined ? undefined : labelAt.get(starts.get(t)!));
    const [item, text] = liftOne(ins, kinds[i]!, ref);
    items.push(item);
    lines.push(`${text},`);
    slot += slots(ins);
  });
  return { items, source: lines.join("\n") + "\n" };
}
