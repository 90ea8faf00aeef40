/**
 * @module bpf/asm/assembler
 * Turns a list of instructions and labels into a resolved program: label references become
 * jump/call offsets counted in 8-byte slots (`lddw` takes two), map references are listed
 * for the loader to patch. Errors name the instruction: an unknown or duplicate label, a
 * jump that does not fit its 16-bit field (use `JaLong` for long unconditional jumps), an
 * instruction whose encoding the ISA does not allow (see `classify`).
 */
import { ErrorCode, KmlibError } from "../../errors.ts";
import * as instruction from "./instruction.ts";
import type { Instruction } from "./instruction.ts";
import * as dsl from "./dsl.ts";
import type { AsmItem } from "./dsl.ts";
import * as opcode from "./opcode.ts";
import * as classify from "./classify.ts";

// Local copies of imported bindings (under tsx each read of an import is a getter call; these
// run per instruction, and programs run to ~1M instructions).
const { encodeValid, validate } = instruction;
const { isLabel } = dsl;
const { Class, JumpOp, OP_LDDW, PseudoLd, classOf, jumpOpOf } = opcode;
const { encodingProblem } = classify;

/** A place where the loader must write a map's file descriptor. */
export interface MapRelocation {
  /** Index of the `lddw` in `instructions`. */
  readonly index: number;
  /** Slot (8-byte unit) of the `lddw` in the encoded program. */
  readonly slot: number;
  readonly map: string;
}

export interface Assembled {
  /** Resolved instructions; symbolic metadata kept for disassembly. */
  readonly instructions: readonly Instruction[];
  /** Wire form (map fds still zero). */
  readonly bytes: Uint8Array;
  readonly relocations: readonly MapRelocation[];
  /** Slot of every label. */
  readonly labels: ReadonlyMap<string, number>;
}

/** Accepts items nested in arrays, so generators can return fragments. */
export type AsmInput = readonly (AsmItem | AsmInput)[];

function flatten(items: AsmInput, out: AsmItem[] = []): AsmItem[] {
  for (const it of items) {
    if (Array.isArray(it)) flatten(it as AsmInput, out);
    else out.push(it as AsmItem);
  }
  return out;
}

const describe = (i: number, ins: Instruction) => `instruction ${i}${ins.symbol ? ` <${ins.symbol}>` : ""}`;

export function assemble(input: AsmInput): Assembled {
  const items = flatten(input);
  const insns: Instruction[] = [];
  const labels = new Map<string, number>();
  const slotOf: number[] = [];
  let slot = 0;
  // Labels waiting for the next instruction (reused: programs run to ~1M instructions).
  const pending: string[] = [];
  const define = (name: string, at: number) => {
    if (labels.has(name)) throw new KmlibError(ErrorCode.DuplicateLabel, `duplicate label "${name}" at instruction ${insns.length}`);
    labels.set(name, at);
  };
  for (const it of items) {
    if (isLabel(it)) {
      pending.push(it.label);
      continue;
    }
    let symbol = it.symbol;
    if (pending.length > 0) {
      for (const name of pending) define(name, slot);
      symbol ??= pending[0];
      pending.length = 0;
    }
    if (it.symbol !== undefined) define(it.symbol, slot);
    validate(it, insns.length);
    const problem = encodingProblem(it);
    if (problem !== undefined) throw new KmlibError(ErrorCode.InvalidInstruction, `${describe(insns.length, it)}: invalid instruction: ${problem}`);
    insns.push(symbol === it.symbol ? it : { ...it, symbol });
    slotOf.push(slot);
    slot += it.op === OP_LDDW ? 2 : 1;
  }
  // A label at the very end is legal only if nothing jumps to it; it names "past the end".
  for (const name of pending) define(name, slot);

  const relocations: MapRelocation[] = [];
  const resolved: Instruction[] = new Array<Instruction>(insns.length);
  for (let i = 0; i < insns.length; i++) {
    const ins = insns[i]!;
    if (ins.mapRef !== undefined) relocations.push({ index: i, slot: slotOf[i]!, map: ins.mapRef });
    resolved[i] = ins.ref === undefined ? ins : resolveRef(ins, i, labels, slotOf[i]!, slot);
  }
  // Every field was validated above and offsets are range-checked: encode without a second pass.
  return { instructions: resolved, bytes: encodeValid(resolved, slot), relocations, labels };
}

function resolveRef(ins: Instruction, i: number, labels: ReadonlyMap<string, number>, at: number, end: number): Instruction {
  const target = labels.get(ins.ref!);
  if (target === undefined) throw new KmlibError(ErrorCode.UnknownLabel, `${describe(i, ins)}: unknown label "${ins.ref}"`);
  if (target >= end) throw new KmlibError(ErrorCode.JumpOutOfRange, `${describe(i, ins)}: label "${ins.ref}" is past the last instruction`);
  const delta = target - (at + 1);
  const cls = classOf(ins.op);
  const jop = jumpOpOf(ins.op);
  // A function address (lddw with BPF_PSEUDO_FUNC) is relative like a call.
  if (ins.op === OP_LDDW && ins.src === PseudoLd.FUNC) return { ...ins, imm: delta, imm64: BigInt(delta >>> 0) };
  const inImm = (cls === Class.JMP32 && jop === JumpOp.JA) || jop === JumpOp.CALL;
  if (inImm) return { ...ins, imm: delta };
  if (delta < -32768 || delta > 32767) {
    throw new KmlibError(ErrorCode.JumpOutOfRange, `${describe(i, ins)}: jump to "${ins.ref}" spans ${delta} slots, beyond the 16-bit offset (use JaLong or split the program)`);
  }
  return { ...ins, off: delta };
}
