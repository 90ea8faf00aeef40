/**
 * @module subsystems/netguard/gen/model
 * The model slot. A model is its own program in PROG_ARRAY slot MODEL, so user space swaps
 * models with one atomic map update: a packet runs either the old model or the new one,
 * never a mix, and the data path is never reloaded.
 *
 * The model ABI (what a compiled model body must be): a bpf-to-bpf subprogram entered with
 * R1 = pointer to NUM_FEATURES signed 64-bit features (read only, features.ts order) that
 * returns R0 = class | confidence << 16 (class 0 = benign, anything else = attack;
 * confidence per mille, clamped to 1000). Its labels must not start with "ng_".
 * The wrapper around it reads the features from the per-CPU scratch area, stores the
 * verdict and confidence there, sets Flag.MODEL_RAN and tail-calls the decide program.
 */
import {
  Add, And, CallLocal, Exit, JEq, JGT, JLE, LoadImm64, LoadMem, Mov, Rsh, StoreMem, label,
  R0, R1, R2, R6, R9, type AsmInput,
} from "../../../bpf/asm/index.ts";
import { Flag, ModelAbi, ProgSlot, Scratch } from "../layout.ts";
import { FEATURES, type FeatureName, featureIndex } from "../features.ts";
import { ErrorCode, KmlibError } from "../../../errors.ts";
import { ATTACH, MapName, lookupZero, returnVerdict, setFlag, tailCall, type Attach } from "./common.ts";

const L = (n: string) => `ng_m_${n}`;
export const MODEL_ENTRY = "ng_model_entry";

/** Wrap a model body (see the module comment) into a complete model program. */
export function modelProgram(attach: Attach, body: AsmInput): AsmInput {
  return [
    Mov.reg(R6, R1),
    lookupZero(MapName.SCRATCH, R9, L("exit_pass")),
    Mov.reg(R1, R9),
    Add.imm(R1, Scratch.FEATURES),
    CallLocal(MODEL_ENTRY),
    Mov.reg(R1, R0),
    And.imm(R1, ModelAbi.CLASS_MASK),
    JEq.imm(R1, 0, L("benign")),
    Mov.imm(R1, 1),
    label(L("benign")),
    StoreMem("W", R9, Scratch.MODEL_VERDICT, R1),
    Rsh.imm(R0, ModelAbi.CONF_SHIFT),
    And.imm(R0, 0xffff),
    JLE.imm(R0, ModelAbi.CONF_MAX, L("conf_ok")),
    Mov.imm(R0, ModelAbi.CONF_MAX),
    label(L("conf_ok")),
    StoreMem("W", R9, Scratch.MODEL_CONF, R0),
    setFlag(Flag.MODEL_RAN),
    tailCall(ProgSlot.DECIDE),
    // No decide program installed: the default's verdict stands.
    LoadMem("W", R0, R9, Scratch.DEFAULT_VERDICT),
    returnVerdict(attach, R0, L("fallback")),
    label(L("exit_pass")),
    Mov.imm(R0, ATTACH[attach].pass),
    Exit(),
    label(MODEL_ENTRY),
    body,
  ];
}

export interface ThresholdModel {
  readonly feature: FeatureName;
  /** Attack when feature > threshold (unsigned compare). */
  readonly threshold: bigint | number;
  /** Confidence per mille of each answer. */
  readonly confidence?: number;
}

/**
 * A stand-in model body until the compiler lands: attack when one feature exceeds a
 * threshold. Also the TypeScript twin, for the reference.
 */
export function thresholdModelBody(m: ThresholdModel): AsmInput {
  const i = featureIndex(m.feature);
  if (i < 0) throw new KmlibError(ErrorCode.InvalidArgument, `unknown feature "${m.feature}" (features: ${FEATURES.map((f) => f.name).join(", ")})`);
  const conf = m.confidence ?? 900;
  return [
    LoadMem("DW", R0, R1, 8 * i),
    LoadImm64(R2, BigInt(m.threshold)),
    JGT.reg(R0, R2, "tm_attack"),
    Mov.imm(R0, conf << ModelAbi.CONF_SHIFT),
    Exit(),
    label("tm_attack"),
    Mov.imm(R0, (conf << ModelAbi.CONF_SHIFT) | 1),
    Exit(),
  ];
}

export function thresholdModelFn(m: ThresholdModel): (features: readonly bigint[]) => number {
  const i = featureIndex(m.feature);
  const conf = m.confidence ?? 900;
  const t = BigInt.asUintN(64, BigInt(m.threshold));
  return (f) => (BigInt.asUintN(64, f[i]!) > t ? (conf << ModelAbi.CONF_SHIFT) | 1 : conf << ModelAbi.CONF_SHIFT);
}
