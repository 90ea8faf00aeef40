/**
 * @module test/bpf/asm/builders
 * One small program per DSL builder, found by walking the DSL module's exports, so a builder
 * added later without a sample here fails the tests instead of going untested.
 */
import * as dsl from "../../../src/bpf/asm/dsl.ts";
import { type AsmInput, type Instruction, Helper, R0, R1, R2, R3, R4, R10, assemble } from "../../../src/bpf/asm/index.ts";

const { label, Exit, Mov } = dsl;

/** Samples for builders that are plain functions, by export name. */
const samples: Record<string, () => AsmInput> = {
  withSymbol: () => [dsl.withSymbol(Mov.imm(R0, 0), "start"), Exit()],
  Neg: () => [dsl.Neg(R3)],
  Neg32: () => [dsl.Neg32(R4)],
  MovSX: () => [dsl.MovSX(8, R1, R2), dsl.MovSX(16, R1, R2), dsl.MovSX(32, R3, R4)],
  MovSX32: () => [dsl.MovSX32(8, R1, R2), dsl.MovSX32(16, R3, R4)],
  ToLE: () => [dsl.ToLE(R1, 16), dsl.ToLE(R1, 32), dsl.ToLE(R1, 64)],
  ToBE: () => [dsl.ToBE(R2, 16), dsl.ToBE(R2, 32), dsl.ToBE(R2, 64)],
  BSwap: () => [dsl.BSwap(R3, 16), dsl.BSwap(R3, 32), dsl.BSwap(R3, 64)],
  Ja: () => [dsl.Ja("skip"), Mov.imm(R0, 1), label("skip"), dsl.Ja("back"), label("back"), Exit()],
  MayGoto: () => [label("loop"), dsl.MayGoto("done"), dsl.Ja("loop"), label("done"), Exit()],
  JaLong: () => [dsl.JaLong("far"), Mov.imm(R0, 1), label("far"), dsl.JaLong("far")],
  Call: () => [dsl.Call(Helper.map_lookup_elem), dsl.Call(Helper.ktime_get_ns)],
  CallLocal: () => [dsl.CallLocal("sub"), Exit(), label("sub"), Mov.imm(R0, 2), Exit()],
  CallKfunc: () => [dsl.CallKfunc(12345), dsl.CallKfunc(777, 2)],
  Exit: () => [Exit()],
  Return: () => [dsl.Return(3), dsl.Return()],
  LoadMem: () => (["B", "H", "W", "DW"] as const).map((s, i) => dsl.LoadMem(s, R1, R2, i * 4 - 8)),
  LoadMemSX: () => (["B", "H", "W"] as const).map((s) => dsl.LoadMemSX(s, R3, R10, -16)),
  StoreMem: () => (["B", "H", "W", "DW"] as const).map((s) => dsl.StoreMem(s, R10, -8, R1)),
  StoreImm: () => (["B", "H", "W", "DW"] as const).map((s) => dsl.StoreImm(s, R10, -4, -9)),
  LoadAbs: () => (["B", "H", "W"] as const).map((s) => dsl.LoadAbs(s, 14)),
  LoadInd: () => (["B", "H", "W"] as const).map((s) => dsl.LoadInd(s, R2, 6)),
  AtomicAdd: () => [dsl.AtomicAdd("W", R1, 0, R2), dsl.AtomicAdd("DW", R1, 8, R2), dsl.AtomicAdd("W", R1, 0, R2, true), dsl.AtomicAdd("DW", R1, -8, R2, true)],
  AtomicOr: () => [dsl.AtomicOr("W", R1, 0, R2), dsl.AtomicOr("DW", R1, 0, R2, true)],
  AtomicAnd: () => [dsl.AtomicAnd("DW", R1, 0, R2), dsl.AtomicAnd("W", R1, 4, R2, true)],
  AtomicXor: () => [dsl.AtomicXor("W", R1, 0, R3), dsl.AtomicXor("DW", R1, 0, R3, true)],
  AtomicXchg: () => [dsl.AtomicXchg("W", R1, 0, R2), dsl.AtomicXchg("DW", R1, 16, R2)],
  AtomicCmpXchg: () => [dsl.AtomicCmpXchg("W", R1, 0, R2), dsl.AtomicCmpXchg("DW", R1, 0, R2)],
  LoadAcquire: () => (["B", "H", "W", "DW"] as const).map((s) => dsl.LoadAcquire(s, R0, R1, -2)),
  StoreRelease: () => (["B", "H", "W", "DW"] as const).map((s) => dsl.StoreRelease(s, R10, -8, R2)),
  LoadImm64: () => [dsl.LoadImm64(R1, 0x1234n), dsl.LoadImm64(R2, -1n), dsl.LoadImm64(R3, 0xdead_beef_0000_0001n), dsl.LoadImm64(R4, -(1n << 63n))],
  LoadMapPtr: () => [dsl.LoadMapPtr(R1, "counters")],
  LoadMapValue: () => [dsl.LoadMapValue(R1, "config", 24)],
  LoadMapFd: () => [dsl.LoadMapFd(R1, 7)],
  LoadMapFdValue: () => [dsl.LoadMapFdValue(R2, 7, 16)],
  LoadBtfId: () => [dsl.LoadBtfId(R3, 4242)],
  LoadMapIdx: () => [dsl.LoadMapIdx(R1, 0)],
  LoadMapIdxValue: () => [dsl.LoadMapIdxValue(R1, 1, 8)],
  LoadFunc: () => [dsl.LoadFunc(R2, "cb"), Exit(), label("cb"), Mov.imm(R0, 0), Exit()],
};

/** Exports of the DSL that are not instruction builders. */
const notBuilders = new Set(["isLabel", "label"]);

export interface BuilderSample {
  readonly name: string;
  readonly program: AsmInput;
  /** The assembled (resolved) instructions. */
  readonly instructions: readonly Instruction[];
}

/** A sample program for every builder the DSL exports. Throws naming a builder without one. */
export function allBuilders(): BuilderSample[] {
  const out: BuilderSample[] = [];
  for (const [name, value] of Object.entries(dsl)) {
    if (notBuilders.has(name)) continue;
    let program: AsmInput;
    if (typeof value === "object" && value !== null && "imm" in value && "reg" in value) {
      const b = value as { imm: (...a: never[]) => Instruction; reg: (...a: never[]) => Instruction };
      if (b.imm.length === 3) {
        const j = value as dsl.JumpBuilder;
        program = [j.imm(R1, -3, "t"), j.reg(R1, R2, "t"), j.imm(R3, 0x7fffffff, "u"), Mov.imm(R0, 1), label("t"), label("u"), Exit()];
      } else {
        const a = value as dsl.AluBuilder;
        program = [a.imm(R1, name.startsWith("Mov") ? -7 : 13), a.reg(R2, R3), a.imm(R4, -1)];
      }
    } else {
      const sample = samples[name];
      if (sample === undefined) throw new Error(`DSL builder ${name} has no sample in test/bpf/asm/builders.ts`);
      program = sample();
    }
    out.push({ name, program, instructions: assemble(program).instructions });
  }
  return out;
}
