/**
 * @module subsystems/netguard/gen/compiled
 * Hosts a model compiled by kmlib (compile/, function form, inline strategy) in netguard's
 * model slot. The wrapper picks the model's features by name from the kernel's vector,
 * turns them into its int32 inputs (features.ts `modelInputValue`: shift, saturate), calls
 * `${prefix}predict(x, scores)` as a bpf-to-bpf subprogram, and derives the confidence from
 * the winning score's margin over the runner-up (over 0 for a one-score model):
 *
 *     conf = 500 + min(500, (margin * mul) >> shift)          (per mille)
 *
 * where margin * mul >> shift ~ 500 * margin / full, and `full` is the margin that means
 * certainty: one tree's probability scale (2^fracBits), a forest's (trees * 2^fracBits),
 * or a logit of 4 (2^fracBits * 4) for boosted, linear and MLP models. A model answering
 * NO_DECISION (r0 < 0) leaves the packet to the default (Flag.MODEL_MISSING).
 * `compiledModelFn` is the TypeScript twin, for the reference.
 */
import {
  Add, CallLocal, Exit, Ja, JEq, JLE, JSGE, JSGT, JSLT32, LoadImm64, LoadMem, LoadMemSX, Mov, Mul, Neg, Rsh, StoreMem, Sub, label,
  R0, R1, R2, R3, R4, R6, R7, R9, type AsmInput, type AsmItem, type Register,
} from "../../../bpf/asm/index.ts";
import { ErrorCode, KmlibError } from "../../../errors.ts";
import { evaluateIr } from "../../../ml/ir/evaluate.ts";
import type { IrModel } from "../../../ml/ir/types.ts";
import { MODEL_INPUT_MAX, MODEL_SHIFTS, featureIndexOf, modelInput } from "../features.ts";
import { Flag, MAX_MODEL_SCORES, ModelAbi, ProgSlot, Scratch } from "../layout.ts";
import { ATTACH, MapName, lookupZero, returnVerdict, setFlag, tailCall, type Attach } from "./common.ts";

/** What the wrapper needs of a compiled model (compile/compile.ts CompiledModel). */
export interface HostableModel {
  readonly ir: IrModel;
  readonly strategy: string;
  readonly form: string;
  readonly prefix: string;
  readonly programs: readonly { readonly items: readonly AsmItem[] }[];
  readonly nScores: number;
}

export interface ConfidenceScale {
  readonly mul: number;
  readonly shift: number;
}

/** `mul`, `shift` such that (margin * mul) >> shift ~ 500 * margin / full (see the module comment). */
export function confidenceScale(ir: IrModel): ConfidenceScale {
  const unit = 2 ** ir.scoreFracBits;
  let full: number;
  switch (ir.kind) {
    case "tree": full = unit; break;
    case "forest": full = unit * ir.trees.length; break;
    case "boosted": case "linear": case "mlp": full = unit * 4; break;
  }
  let shift = 0;
  while (shift < 40 && (500 * 2 ** shift) / full < 2 ** 20) shift++;
  const mul = Math.max(1, Math.round((500 * 2 ** shift) / full));
  return { mul: Math.min(mul, 2 ** 31 - 1), shift };
}

function check(m: HostableModel): void {
  const bad = (why: string) => new KmlibError(ErrorCode.InvalidModel, `cannot host this compiled model in netguard: ${why}`);
  if (m.form !== "function") throw bad(`form "${m.form}" (compile it with form "function")`);
  if (m.strategy !== "inline") throw bad(`strategy "${m.strategy}" (its parameter maps are not netguard's; use the inline strategy)`);
  if (m.programs.length !== 1) throw bad(`${m.programs.length} programs (one function expected)`);
  if (m.nScores < 1 || m.nScores > MAX_MODEL_SCORES) throw bad(`${m.nScores} scores (1..${MAX_MODEL_SCORES})`);
  if (m.prefix.startsWith("ng_")) throw bad(`prefix "${m.prefix}" collides with netguard's labels`);
  m.ir.quant.forEach((q, j) => {
    if (q.scale !== 1 || q.offset !== 0) throw bad(`feature "${m.ir.featureNames[j]}" is quantized (scale ${q.scale}, offset ${q.offset}); netguard feeds identity-quantized model inputs`);
  });
  m.ir.featureNames.forEach(featureIndexOf);
}

const L = (n: string) => `ng_c_${n}`;

/**
 * One model input in eBPF (features.ts `shiftSaturate`): `tmp` = the 64-bit feature at
 * [src + from] >> shift, saturated at 2^31 - 1, stored as an int32 at [dst + to]. Also the
 * e2e path's model body (e2e/model-program.ts), with its own registers and per-model shifts.
 */
export function modelInputItems(tmp: Register, src: Register, from: number, shift: number, dst: Register, to: number, done: string): AsmItem[] {
  return [
    LoadMem("DW", tmp, src, from),
    ...(shift > 0 ? [Rsh.imm(tmp, shift)] : []),
    JLE.imm(tmp, MODEL_INPUT_MAX, done),
    Mov.imm(tmp, MODEL_INPUT_MAX),
    label(done),
    StoreMem("W", dst, to, tmp),
  ];
}

/** The complete model-slot program around a compiled function-form model. */
export function compiledModelProgram(attach: Attach, m: HostableModel, scale: ConfidenceScale = confidenceScale(m.ir)): AsmInput {
  check(m);
  const names = m.ir.featureNames;
  const S = (c: number) => Scratch.MODEL_SCORES + 4 * c;
  const margin: AsmInput = m.nScores === 1
    ? [LoadMemSX("W", R3, R9, S(0)), JSGE.imm(R3, 0, L("margin")), Neg(R3)]
    : [
        // R3 = the winner's score, R4 = the best other score.
        LoadImm64(R4, -(1n << 40n)),
        Mov.imm(R3, 0),
        Array.from({ length: m.nScores }, (_, c) => [
          LoadMemSX("W", R2, R9, S(c)),
          JEq.imm(R7, c, L(`winner${c}`)),
          JSGT.reg(R4, R2, L(`next${c}`)),
          Mov.reg(R4, R2),
          Ja(L(`next${c}`)),
          label(L(`winner${c}`)),
          Mov.reg(R3, R2),
          label(L(`next${c}`)),
        ]),
        Sub.reg(R3, R4),
        JSGE.imm(R3, 0, L("margin")),
        Mov.imm(R3, 0),
      ];
  const decideOrDefault: AsmInput = [tailCall(ProgSlot.DECIDE), LoadMem("W", R0, R9, Scratch.DEFAULT_VERDICT)];
  return [
    Mov.reg(R6, R1),
    lookupZero(MapName.SCRATCH, R9, L("exit_pass")),
    names.map((name, j) => {
      const i = featureIndexOf(name);
      return modelInputItems(R0, R9, Scratch.FEATURES + 8 * i, MODEL_SHIFTS[i] ?? 0, R9, Scratch.MODEL_X + 4 * j, L(`x${j}`));
    }),
    Mov.reg(R1, R9),
    Add.imm(R1, Scratch.MODEL_X),
    Mov.reg(R2, R9),
    Add.imm(R2, Scratch.MODEL_SCORES),
    CallLocal(`${m.prefix}predict`),
    JSLT32.imm(R0, 0, L("no_decision")),
    Mov.reg(R7, R0),
    margin,
    label(L("margin")),
    Mul.imm(R3, scale.mul),
    Rsh.imm(R3, scale.shift),
    JLE.imm(R3, 500, L("conf_ok")),
    Mov.imm(R3, 500),
    label(L("conf_ok")),
    Add.imm(R3, 500),
    StoreMem("W", R9, Scratch.MODEL_CONF, R3),
    Mov.imm(R1, 0),
    JEq.imm(R7, 0, L("benign")),
    Mov.imm(R1, 1),
    label(L("benign")),
    StoreMem("W", R9, Scratch.MODEL_VERDICT, R1),
    setFlag(Flag.MODEL_RAN),
    decideOrDefault,
    returnVerdict(attach, R0, L("fallback")),
    label(L("no_decision")),
    setFlag(Flag.MODEL_MISSING),
    decideOrDefault,
    returnVerdict(attach, R0, L("fallback_nd")),
    label(L("exit_pass")),
    Mov.imm(R0, ATTACH[attach].pass),
    Exit(),
    m.programs[0]!.items,
  ];
}

/** The TypeScript twin: features -> r0 in ModelAbi form, exactly as the wrapper computes it. */
export function compiledModelFn(ir: IrModel, scale: ConfidenceScale = confidenceScale(ir)): (features: readonly bigint[]) => number {
  const n = ir.featureNames;
  return (features) => {
    const r = evaluateIr(ir, modelInput(features, n));
    let margin: bigint;
    if (r.scores.length === 1) {
      margin = BigInt(Math.abs(r.scores[0]!));
    } else {
      let other = -(1n << 40n);
      for (let c = 0; c < r.scores.length; c++) if (c !== r.class && BigInt(r.scores[c]!) > other) other = BigInt(r.scores[c]!);
      margin = BigInt(r.scores[r.class]!) - other;
      if (margin < 0n) margin = 0n;
    }
    const scaled = BigInt.asUintN(64, margin * BigInt(scale.mul)) >> BigInt(scale.shift);
    const conf = 500 + Number(scaled > 500n ? 500n : scaled);
    return (r.class & ModelAbi.CLASS_MASK) | (conf << ModelAbi.CONF_SHIFT);
  };
}
