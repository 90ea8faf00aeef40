/**
 * @module bpf/asm/listing
 * A listing for humans in the style of cilium/ebpf: one line per instruction, the slot, a
 * name made of the opcode's parts and the fields that matter, with labels and map names:
 *
 *     prog:
 *        0: LdXMemW dst: r2 src: r1 off: 4
 *        1: JGTReg dst: r3 src: r2 off: 30 <LBB0_6>
 *        3: LoadMapPtr dst: r1 map: counters
 *        5: Call map_lookup_elem
 */
import { assertNever } from "../../errors.ts";
import { type Instruction, slots } from "./instruction.ts";
import { type AluName, type CondName, classify } from "./classify.ts";
import { helperName } from "./helper.ts";
import { PseudoLd } from "./opcode.ts";

const aluNames: Record<AluName, string> = {
  add: "Add", sub: "Sub", mul: "Mul", div: "Div", or: "Or", and: "And", lsh: "LSh", rsh: "RSh", mod: "Mod", xor: "Xor", arsh: "ArSh",
};
const condNames: Record<CondName, string> = {
  jeq: "JEq", jne: "JNE", jgt: "JGT", jge: "JGE", jlt: "JLT", jle: "JLE", jsgt: "JSGT", jsge: "JSGE", jslt: "JSLT", jsle: "JSLE", jset: "JSet",
};
const cap = (s: string) => s[0]!.toUpperCase() + s.slice(1);

/**
 * One instruction in the cilium-like form, e.g. `LdXMemW dst: r2 src: r1 off: 4`.
 * `target` names what a branch or local call goes to (default: the instruction's `ref`).
 */
export function describeInstruction(ins: Instruction, target = ins.ref): string {
  const k = classify(ins);
  const { dst, src, off, imm } = ins;
  const w = (wide: boolean) => (wide ? "" : "32");
  const ref = target === undefined ? "" : ` <${target}>`;
  switch (k.kind) {
    case "invalid":
      return `Invalid op: 0x${ins.op.toString(16)} dst: r${dst} src: r${src} off: ${off} imm: ${imm} (${k.reason})`;
    case "alu": {
      const name = `${k.signed ? "S" : ""}${aluNames[k.op]}${k.operand === "imm" ? "Imm" : "Reg"}${w(k.wide)}`;
      return `${name} dst: r${dst} ${k.operand === "imm" ? `imm: ${imm}` : `src: r${src}`}`;
    }
    case "neg":
      return `Neg${w(k.wide)} dst: r${dst}`;
    case "mov":
      return `Mov${k.operand === "imm" ? "Imm" : "Reg"}${w(k.wide)} dst: r${dst} ${k.operand === "imm" ? `imm: ${imm}` : `src: r${src}`}`;
    case "movsx":
      return `MovSX${k.bits}${w(k.wide)} dst: r${dst} src: r${src}`;
    case "end":
      return `${k.order === "swap" ? "BSwap" : k.order === "le" ? "ToLE" : "ToBE"}${k.bits} dst: r${dst}`;
    case "ja":
      return `Ja off: ${off}${ref}`;
    case "gotol":
      return `JaLong imm: ${imm}${ref}`;
    case "may_goto":
      return `MayGoto off: ${off}${ref}`;
    case "jcond":
      return `${condNames[k.op]}${k.operand === "imm" ? "Imm" : "Reg"}${w(k.wide)} dst: r${dst} ${k.operand === "imm" ? `imm: ${imm}` : `src: r${src}`} off: ${off}${ref}`;
    case "call":
      if (k.target === "local") return `CallLocal imm: ${imm}${ref}`;
      if (k.target === "kfunc") return `CallKfunc btf_id: ${imm}${off ? ` btf_fd_idx: ${off}` : ""}`;
      return `Call ${helperName.get(imm) ?? `helper#${imm}`}`;
    case "exit":
      return "Exit";
    case "lddw": {
      const v = BigInt.asIntN(64, ins.imm64 ?? BigInt(imm));
      const lo = Number(BigInt.asUintN(32, v));
      const hi = Number(BigInt.asUintN(32, v >> 32n));
      const map = ins.mapRef === undefined ? `fd: ${lo}` : `map: ${ins.mapRef}`;
      switch (k.pseudo) {
        case PseudoLd.MAP_FD:
          return `LoadMapPtr dst: r${dst} ${map}`;
        case PseudoLd.MAP_VALUE:
          return `LoadMapValue dst: r${dst} ${map} off: ${hi}`;
        case PseudoLd.MAP_IDX:
          return `LoadMapPtr dst: r${dst} idx: ${lo}`;
        case PseudoLd.MAP_IDX_VALUE:
          return `LoadMapValue dst: r${dst} idx: ${lo} off: ${hi}`;
        case PseudoLd.BTF_ID:
          return `LoadBtfId dst: r${dst} btf_id: ${lo}`;
        case PseudoLd.FUNC:
          return `LoadFunc dst: r${dst} imm: ${imm}${ref}`;
        default:
          return `LdImmDW dst: r${dst} imm: ${v}${ins.mapRef === undefined ? "" : ` map: ${ins.mapRef}`}`;
      }
    }
    case "ldabs":
      return `LdAbs${k.size} imm: ${imm}`;
    case "ldind":
      return `LdInd${k.size} src: r${src} imm: ${imm}`;
    case "ldx":
      return `LdXMem${k.signed ? "SX" : ""}${k.size} dst: r${dst} src: r${src} off: ${off}`;
    case "st":
      return `StMem${k.size} dst: r${dst} off: ${off} imm: ${imm}`;
    case "stx":
      return `StXMem${k.size} dst: r${dst} src: r${src} off: ${off}`;
    case "atomic":
      return `StXAtomic${k.fetch && (k.op === "add" || k.op === "or" || k.op === "and" || k.op === "xor") ? "Fetch" : ""}${k.op === "cmpxchg" ? "CmpXchg" : cap(k.op)}${k.size} dst: r${dst} src: r${src} off: ${off}`;
    case "load_acquire":
      return `LoadAcquire${k.size} dst: r${dst} src: r${src} off: ${off}`;
    case "store_release":
      return `StoreRelease${k.size} dst: r${dst} src: r${src} off: ${off}`;
    default:
      return assertNever(k, "instruction kind");
  }
}

/** Slot a branch, local call or function address goes to (resolved offsets only). */
function branchSlot(ins: Instruction, slot: number): number | undefined {
  const k = classify(ins);
  if (k.kind === "ja" || k.kind === "jcond" || k.kind === "may_goto") return slot + 1 + ins.off;
  if (k.kind === "gotol" || (k.kind === "call" && k.target === "local") || (k.kind === "lddw" && k.pseudo === PseudoLd.FUNC)) return slot + 1 + ins.imm;
  return undefined;
}

/**
 * A whole program, one instruction per line, numbered by slot, symbols on their own line.
 * Branches name their target's symbol (or `ref`); `targets` overrides that per instruction index.
 */
export function formatListing(insns: readonly Instruction[], targets?: ReadonlyMap<number, string>): string {
  const symbolAt = new Map<number, string>();
  let total = 0;
  for (const ins of insns) {
    if (ins.symbol !== undefined) symbolAt.set(total, ins.symbol);
    total += slots(ins);
  }
  const width = String(Math.max(total - 1, 0)).length;
  const lines: string[] = [];
  let slot = 0;
  insns.forEach((ins, i) => {
    if (ins.symbol !== undefined) lines.push(`${ins.symbol}:`);
    const t = branchSlot(ins, slot);
    const target = targets?.get(i) ?? ins.ref ?? (t === undefined ? undefined : symbolAt.get(t));
    lines.push(`${" ".repeat(2)}${String(slot).padStart(width)}: ${describeInstruction(ins, target)}`);
    slot += slots(ins);
  });
  return lines.join("\n") + "\n";
}
