/**
 * @module proxy/kernel/fragment
 * eBPF fragments (DSL, pure) that make up the kernel side of a proxy, so every subsystem's
 * program embeds the same rules:
 * - `effectiveMode`: reads the control record and yields the mode the data path uses; when
 *   now - heartbeat > timeout (or no heartbeat, no record, a bad mode) it yields emergency on
 *   its own: the kernel never waits for user space.
 * - `decideFragment`: the `decide()` rule of `proxy/decide.ts`, with the collaboration budget
 *   enforced kernel-side when given a budget cell (`budgetLookup`).
 * - `countDecision`: bumps the per-CPU efficiency counter of (mode, source).
 * - `boundsCheck`: the kernel-side second check of a recommendation field.
 * Register conventions are explicit parameters; fragments clobber R0-R5 (helper calls) and
 * only the callee-saved registers they are given. Labels are prefixed so fragments compose.
 */
import {
  Add, Call, Helper, JEq, JGE, JGT, JLE, JLT, JNE, JSGT, JSLT, Ja, LoadImm64, LoadMapPtr, LoadMem, Lsh, Mov, StoreImm, StoreMem, Sub, label,
  type AsmInput, type Register,
} from "../../bpf/asm/index.ts";
import { ControlOffset } from "../control.ts";
import { ModeCode, SOURCES, SourceCode } from "../mode.ts";

/** Layout of one efficiency counter cell (per CPU): three u64. */
export const COUNTER_CELL_SIZE = 24;
export const CounterOffset = { decided: 0, evaluated: 8, good: 16 } as const;

export interface EffectiveModeOptions {
  /** Name of the control array map (one 64-byte entry at key 0). */
  readonly map: string;
  /** Callee-saved register that receives the control record pointer (0 when absent). */
  readonly ctl: Register;
  /** Callee-saved register that receives the effective mode code. */
  readonly mode: Register;
  /** A free 4-byte stack slot (negative offset from R10) for the map key. */
  readonly stackOff: number;
  readonly prefix?: string;
}

/** mode := effective mode code; ctl := control pointer or 0. */
export function effectiveMode(o: EffectiveModeOptions): AsmInput {
  const p = o.prefix ?? "em";
  const emergency = `${p}_emergency`, done = `${p}_done`;
  return [
    Mov.imm(o.ctl, 0),
    StoreImm("W", 10, o.stackOff, 0),
    LoadMapPtr(1, o.map),
    Mov.reg(2, 10),
    Add.imm(2, o.stackOff),
    Call(Helper.map_lookup_elem),
    JEq.imm(0, 0, emergency),
    Mov.reg(o.ctl, 0),
    // The heartbeat: 0 means the agent never wrote one.
    LoadMem("DW", o.mode, o.ctl, ControlOffset.heartbeatNs),
    JEq.imm(o.mode, 0, emergency),
    Call(Helper.ktime_get_ns),
    // r0 = now - heartbeat (unsigned: a heartbeat "in the future" is a huge age, i.e. stale).
    Sub.reg(0, o.mode),
    LoadMem("DW", 1, o.ctl, ControlOffset.heartbeatTimeoutNs),
    JGT.reg(0, 1, emergency),
    LoadMem("W", o.mode, o.ctl, ControlOffset.mode),
    JEq.imm(o.mode, 0, emergency),
    JGT.imm(o.mode, ModeCode.recommendation, emergency),
    Ja(done),
    label(emergency),
    Mov.imm(o.mode, ModeCode.emergency),
    label(done),
  ];
}

export interface DecideFragmentOptions {
  /** Effective mode code (from `effectiveMode`). */
  readonly mode: Register;
  /** Control pointer (from `effectiveMode`; 0 means no record: treated as emergency upstream). */
  readonly ctl: Register;
  readonly defaultDecision: Register;
  readonly modelDecision: Register;
  /** Model confidence, x 65536 (Q16), compared with the control record's threshold. */
  readonly confidenceQ16: Register;
  /** Non-zero when the default's guard vetoes the model's decision. */
  readonly veto: Register;
  /** Receives the decision. */
  readonly decision: Register;
  /** Receives the source code (0 default, 1 model). */
  readonly source: Register;
  /**
   * Stack slot (8-aligned, negative) where `budgetLookup` spilled the budget cell pointer.
   * Absent: no budget (the model decides every confident collaboration decision).
   */
  readonly budgetSlot?: number;
  readonly prefix?: string;
}

/** Per-CPU budget cell: u32 decisions seen in the window, u32 model decisions used. */
export const BUDGET_CELL_SIZE = 8;

/**
 * Looks up the per-CPU budget cell (array map `map`, key 0) and spills the pointer (or 0) to
 * `slot`, for `decideFragment`'s budgetSlot. Clobbers R0-R5.
 */
export function budgetLookup(o: { map: string; slot: number; keyOff: number }): AsmInput {
  return [StoreImm("W", 10, o.keyOff, 0), LoadMapPtr(1, o.map), Mov.reg(2, 10), Add.imm(2, o.keyOff), Call(Helper.map_lookup_elem), StoreMem("DW", 10, o.slot, 0)];
}

/**
 * decision, source := the `decide()` rule: emergency and learning -> default; collaboration ->
 * model if confident and not vetoed; recommendation -> model unless vetoed. Uses R1 as scratch.
 */
export function decideFragment(o: DecideFragmentOptions): AsmInput {
  const p = o.prefix ?? "dc";
  const byModel = `${p}_model`, byDefault = `${p}_default`, done = `${p}_done`;
  // Budget window (per CPU): every collaboration decision counts as seen; the window restarts
  // after budget_window decisions; the model may take budget_limit of them. R0, R1 and the
  // decision register (set only at the end) are the scratch registers.
  const budget: AsmInput =
    o.budgetSlot === undefined
      ? []
      : [
          LoadMem("DW", 0, 10, o.budgetSlot),
          JEq.imm(0, 0, byDefault),
          LoadMem("W", 1, 0, 0),
          Add.imm(1, 1),
          LoadMem("W", o.decision, o.ctl, ControlOffset.budgetWindow),
          JLE.reg(1, o.decision, `${p}_in_window`),
          Mov.imm(1, 1),
          StoreImm("W", 0, 4, 0),
          label(`${p}_in_window`),
          StoreMem("W", 0, 0, 1),
        ];
  const spend: AsmInput =
    o.budgetSlot === undefined
      ? []
      : [
          LoadMem("DW", 0, 10, o.budgetSlot),
          LoadMem("W", 1, 0, 4),
          LoadMem("W", o.decision, o.ctl, ControlOffset.budgetLimit),
          JGE.reg(1, o.decision, byDefault),
          Add.imm(1, 1),
          StoreMem("W", 0, 4, 1),
        ];
  return [
    JEq.imm(o.mode, ModeCode.recommendation, `${p}_recommend`),
    JNE.imm(o.mode, ModeCode.collaboration, byDefault),
    JEq.imm(o.ctl, 0, byDefault),
    budget,
    JNE.imm(o.veto, 0, byDefault),
    LoadMem("W", 1, o.ctl, ControlOffset.confidenceQ16),
    JLT.reg(o.confidenceQ16, 1, byDefault),
    spend,
    Ja(byModel),
    label(`${p}_recommend`),
    JNE.imm(o.veto, 0, byDefault),
    Ja(byModel),
    label(byDefault),
    Mov.reg(o.decision, o.defaultDecision),
    Mov.imm(o.source, SourceCode.default),
    Ja(done),
    label(byModel),
    Mov.reg(o.decision, o.modelDecision),
    Mov.imm(o.source, SourceCode.model),
    label(done),
  ];
}

export interface CountOptions {
  /** Per-CPU array of COUNTER_CELL_SIZE cells, COUNTER_SLOTS entries. */
  readonly map: string;
  readonly mode: Register;
  readonly source: Register;
  /** Which u64 of the cell to increment. */
  readonly field?: keyof typeof CounterOffset;
  readonly stackOff: number;
  readonly prefix?: string;
}

/** counters[mode * 2 + source].field += 1 (per CPU: no atomics needed). Clobbers R0-R5. */
export function countDecision(o: CountOptions): AsmInput {
  const p = o.prefix ?? "cnt";
  const off = CounterOffset[o.field ?? "decided"];
  return [
    Mov.reg(1, o.mode),
    Lsh.imm(1, Math.log2(SOURCES.length)),
    Add.reg(1, o.source),
    StoreMem32(o.stackOff),
    LoadMapPtr(1, o.map),
    Mov.reg(2, 10),
    Add.imm(2, o.stackOff),
    Call(Helper.map_lookup_elem),
    JEq.imm(0, 0, `${p}_skip`),
    LoadMem("DW", 1, 0, off),
    Add.imm(1, 1),
    StoreMemDW(0, off, 1),
    label(`${p}_skip`),
  ];
}

const StoreMem32 = (stackOff: number) => StoreMem("W", 10, stackOff, 1);
const StoreMemDW = (dst: Register, off: number, src: Register) => StoreMem("DW", dst, off, src);

/**
 * The kernel-side bounds check of a (signed 64-bit) recommendation value in `value`: jumps to
 * `fail` when outside [min, max]. `tmp` is clobbered when a bound does not fit 32 bits.
 */
export function boundsCheck(value: Register, min: number, max: number, fail: string, tmp: Register): AsmInput {
  const fits = (x: number) => x >= -(2 ** 31) && x < 2 ** 31;
  const out: AsmInput[number][] = [];
  if (fits(min)) out.push(JSLT.imm(value, min, fail));
  else out.push(LoadImm64(tmp, BigInt(min)), JSLT.reg(value, tmp, fail));
  if (fits(max)) out.push(JSGT.imm(value, max, fail));
  else out.push(LoadImm64(tmp, BigInt(max)), JSGT.reg(value, tmp, fail));
  return out;
}
