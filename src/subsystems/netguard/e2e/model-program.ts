/**
 * @module subsystems/netguard/e2e/model-program
 * A trained integer model (ml/ir) as a netguard model: the artefact the registry stores and
 * the program that goes into the data path's model slot. This is the thin adapter between two
 * ABIs: netguard hands a model NUM_FEATURES signed 64-bit features (gen/model.ts) and wants
 * `class | confidence << 16`; kmlib's compiler (`compileModel`, function form, inline
 * strategy) emits `ngx_predict(const int32 *x, int32 *scores)` (compile/abi.ts). The body here picks the model's inputs out of the feature
 * contract, shifts the nanosecond features down (so they fit int32 with useful resolution),
 * saturates at INT32_MAX, calls the compiled function, and turns the scores into a per-mille
 * confidence. `inputsOf` is the same transform in TypeScript, so training data, the reference
 * evaluation and the kernel all see identical integers; both halves of the transform are the
 * data path's (features.ts `shiftSaturate`, gen/compiled.ts `modelInputItems`), with the
 * shifts a model carries in its artefact (by default the contract's `MODEL_SHIFTS`).
 * The rest stays apart from gen/compiled.ts on purpose: this body answers through the model
 * ABI of gen/model.ts, its confidence is max / sum of tree scores (the data path's is the
 * winning margin) and a class out of range reads as benign.
 */
import { Add, CallLocal, Div, Exit, Ja, JEq, JLE, LoadMemSX, Lsh, Mov, Mul, Or, label, R0, R1, R2, R3, R4, R5, R10, type AsmItem } from "../../../bpf/asm/index.ts";
import { ErrorCode, KmlibError } from "../../../errors.ts";
import { evaluateIr } from "../../../ml/ir/evaluate.ts";
import { parseIr, serializeIr } from "../../../ml/ir/serialize.ts";
import { irScoreCount, type IrModel } from "../../../ml/ir/types.ts";
import { compileModel } from "../../../compile/index.ts";
import { FEATURE_CONTRACT_VERSION, FEATURE_NAMES, MODEL_SHIFTS, type FeatureName, featureIndex, shiftSaturate } from "../features.ts";
import { modelInputItems } from "../gen/compiled.ts";
import { ModelAbi } from "../layout.ts";
import { buildModelProgram, type Attach, type NetguardProgSpec } from "../program.ts";

export const ARTEFACT_FORMAT = "kmlib-netguard-model";
const PREFIX = "ngx_";

export interface ModelInput {
  readonly feature: FeatureName;
  readonly shift: number;
}

export interface NetguardModel {
  /** The model's inputs, in its feature order, as contract features. */
  readonly inputs: readonly ModelInput[];
  readonly ir: IrModel;
  /** Where it came from ("lab", "cicids2017"), informational. */
  readonly origin: string;
}

/** The model inputs for a list of contract features, with the contract's shifts (ns -> ~us). */
export function inputsFor(features: readonly FeatureName[]): ModelInput[] {
  return features.map((feature) => ({ feature, shift: MODEL_SHIFTS[featureIndex(feature)] ?? 0 }));
}

function checkModel(m: NetguardModel): void {
  const bad = (why: string) => new KmlibError(ErrorCode.InvalidModel, `netguard model: ${why}`);
  if (m.inputs.length !== m.ir.nFeatures) throw bad(`${m.inputs.length} inputs for a model of ${m.ir.nFeatures} features`);
  for (const i of m.inputs) {
    if (featureIndex(i.feature) < 0) throw bad(`unknown contract feature "${i.feature}" (features: ${FEATURE_NAMES.join(", ")})`);
    if (!Number.isInteger(i.shift) || i.shift < 0 || i.shift > 62) throw bad(`shift of ${i.feature} must be an integer in 0..62, got ${i.shift}`);
  }
  if (m.ir.nClasses < 2) throw bad("needs at least two classes (class 0 = benign)");
}

/** The model's int32 inputs from a contract feature vector (the kernel's transform, exactly). */
export function inputsOf(inputs: readonly ModelInput[], features: readonly bigint[]): Int32Array {
  const out = new Int32Array(inputs.length);
  inputs.forEach((inp, j) => (out[j] = shiftSaturate(features[featureIndex(inp.feature)] ?? 0n, inp.shift)));
  return out;
}

/** Confidence per mille from the scores, as the kernel computes it (see `confidenceItems`). */
export function confidenceOf(ir: IrModel, scores: readonly number[]): number {
  if (!hasProbabilityScores(ir)) return ModelAbi.CONF_MAX;
  let max = 0, sum = 0;
  for (const s of scores) {
    if (s > max) max = s;
    sum += s;
  }
  return sum <= 0 ? 0 : Math.min(ModelAbi.CONF_MAX, Math.floor((max * 1000) / sum));
}

/** What the model slot answers for a feature vector: verdict (0 pass, 1 drop) and confidence. */
export function predictFeatures(m: NetguardModel, features: readonly bigint[]): { verdict: 0 | 1; conf: number; class: number } {
  const r = evaluateIr(m.ir, inputsOf(m.inputs, features));
  return { verdict: r.class === 0 ? 0 : 1, conf: confidenceOf(m.ir, r.scores), class: r.class };
}

/** Tree and forest scores are non-negative class weights: confidence = max / sum. */
function hasProbabilityScores(ir: IrModel): boolean {
  return ir.kind === "tree" || ir.kind === "forest";
}

/**
 * The netguard model body (gen/model.ts ABI): r1 = int64 features. Stack: x (int32 inputs)
 * below fp, the scores below x. Calls the compiled `ngx_predict`, leaves class | conf << 16.
 */
export function modelBody(m: NetguardModel): AsmItem[] {
  checkModel(m);
  const n = m.inputs.length;
  const nScores = irScoreCount(m.ir);
  const xAt = 4 * n + (4 * n) % 8;
  const sAt = xAt + 4 * nScores + (4 * nScores) % 8;
  if (sAt > 256) throw new KmlibError(ErrorCode.InvalidModel, `netguard model: ${n} inputs and ${nScores} scores need ${sAt} stack bytes (at most 256 beside tail calls)`);
  const out: AsmItem[] = [];
  m.inputs.forEach((inp, j) => out.push(...modelInputItems(R3, R1, 8 * featureIndex(inp.feature), inp.shift, R10, -xAt + 4 * j, `${PREFIX}sat${j}`)));
  out.push(Mov.reg(R1, R10), Add.imm(R1, -xAt), Mov.reg(R2, R10), Add.imm(R2, -sAt), CallLocal(`${PREFIX}predict`));
  // r0 = class (0..nClasses-1); anything else (NO_DECISION) reads as benign.
  out.push(JLE.imm(R0, m.ir.nClasses - 1, `${PREFIX}cls_ok`), Mov.imm(R0, 0), label(`${PREFIX}cls_ok`));
  out.push(...confidenceItems(m.ir, nScores, sAt));
  out.push(Lsh.imm(R4, ModelAbi.CONF_SHIFT), Or.reg(R0, R4), Exit());
  // the compiler's function form (compile/abi.ts), inline so no map of its own is needed
  const compiled = compileModel(m.ir, { form: "function", strategy: "inline", prefix: PREFIX });
  return [...out, ...compiled.programs[0]!.items];
}

/** r4 = confidence per mille from the scores at fp - sAt (clobbers r3, r5). */
function confidenceItems(ir: IrModel, nScores: number, sAt: number): AsmItem[] {
  if (!hasProbabilityScores(ir)) return [Mov.imm(R4, ModelAbi.CONF_MAX)];
  const out: AsmItem[] = [Mov.imm(R4, 0), Mov.imm(R5, 0)];
  for (let s = 0; s < nScores; s++) {
    const skip = `${PREFIX}max${s}`;
    // scores are non-negative int32 here (sums of fixed-point class weights)
    out.push(LoadMemSX("W", R3, R10, -sAt + 4 * s), Add.reg(R5, R3), JLE.reg(R3, R4, skip), Mov.reg(R4, R3), label(skip));
  }
  const zero = `${PREFIX}conf_zero`, done = `${PREFIX}conf_done`;
  out.push(
    JEq.imm(R5, 0, zero),
    Mul.imm(R4, 1000),
    Div.reg(R4, R5),
    JLE.imm(R4, ModelAbi.CONF_MAX, done),
    Mov.imm(R4, ModelAbi.CONF_MAX),
    Ja(done),
    label(zero),
    Mov.imm(R4, 0),
    label(done),
  );
  return out;
}

/** The complete program for the model slot. */
export function buildNetguardModelProgram(m: NetguardModel, attach: Attach = "xdp", name = "ng_model_ir"): NetguardProgSpec {
  return buildModelProgram(attach, modelBody(m), name);
}

interface ArtefactDoc {
  format: typeof ARTEFACT_FORMAT;
  version: 1;
  featureContract: number;
  origin: string;
  inputs: ModelInput[];
  ir: unknown;
}

/** The registry artefact: JSON with the contract version, the inputs and the integer model. */
export function encodeArtefact(m: NetguardModel): Uint8Array {
  checkModel(m);
  const doc: ArtefactDoc = { format: ARTEFACT_FORMAT, version: 1, featureContract: FEATURE_CONTRACT_VERSION, origin: m.origin, inputs: [...m.inputs], ir: JSON.parse(serializeIr(m.ir)) };
  return new TextEncoder().encode(JSON.stringify(doc));
}

export function decodeArtefact(bytes: Uint8Array): NetguardModel {
  let doc: Partial<ArtefactDoc>;
  try {
    doc = JSON.parse(new TextDecoder().decode(bytes)) as Partial<ArtefactDoc>;
  } catch (e) {
    throw new KmlibError(ErrorCode.InvalidModel, "netguard model artefact is not JSON", { cause: e });
  }
  if (doc?.format !== ARTEFACT_FORMAT || doc.version !== 1) throw new KmlibError(ErrorCode.InvalidModel, `not a ${ARTEFACT_FORMAT} v1 artefact`);
  if (doc.featureContract !== FEATURE_CONTRACT_VERSION) {
    throw new KmlibError(ErrorCode.InvalidModel, `model trained on feature contract v${doc.featureContract}, the data path computes v${FEATURE_CONTRACT_VERSION}`);
  }
  if (!Array.isArray(doc.inputs)) throw new KmlibError(ErrorCode.InvalidModel, "netguard model artefact: inputs missing");
  const m: NetguardModel = { inputs: doc.inputs, ir: parseIr(JSON.stringify(doc.ir)), origin: String(doc.origin ?? "") };
  checkModel(m);
  return m;
}
