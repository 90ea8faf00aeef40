/**
 * @module proxy/decide
 * The mode semantics of DESIGN.md as one pure function, so every adapter (and the eBPF
 * fragment's tests) share exactly one definition of who decides:
 * - emergency: the default only; the model is not even consulted.
 * - learning: the default decides; the model's answer is kept as a shadow for feedback.
 * - collaboration: the model decides when confident and within the budget, and only if the
 *   default's guard accepts it (veto); otherwise the default decides.
 * - recommendation: the model decides unless the default's guard vetoes it; the default's
 *   answer stays as the reference for efficiency.
 * With no model answer (none loaded, or it failed) the default decides in every mode.
 */
import { assertNever } from "../errors.ts";
import { Mode, Source } from "./mode.ts";

export interface ModelAnswer<D> {
  readonly decision: D;
  /** In the caller's units (probability 0..1, or fixed-point); compared to the threshold. */
  readonly confidence: number;
}

export interface DecideInput<D> {
  readonly mode: Mode;
  readonly defaultDecision: D;
  /** The model's answer, or undefined when no model is loaded or it could not answer. */
  readonly model: ModelAnswer<D> | undefined;
  /** Collaboration: minimum confidence for the model to decide. */
  readonly confidenceThreshold: number;
  /** Collaboration: model decisions still allowed in the current budget window. */
  readonly budgetRemaining: number;
  /** The default's guard rail: false vetoes the model's decision. Absent: accept. */
  readonly guard?: (model: D, dflt: D) => boolean;
}

export const DecideReason = {
  emergency: "emergency",
  noModel: "no-model",
  shadow: "shadow",
  confident: "confident",
  lowConfidence: "low-confidence",
  budgetExhausted: "budget-exhausted",
  veto: "veto",
  model: "model",
} as const;
export type DecideReason = (typeof DecideReason)[keyof typeof DecideReason];

export interface Decision<D> {
  readonly decision: D;
  readonly source: Source;
  readonly reason: DecideReason;
  /** The answer of the source that did not decide, when there was one (feedback, efficiency). */
  readonly shadow: D | undefined;
  /** True when this decision used one unit of the collaboration budget. */
  readonly consumesBudget: boolean;
}

export function decide<D>(input: DecideInput<D>): Decision<D> {
  const { mode, defaultDecision: dflt, model } = input;
  const byDefault = (reason: DecideReason, shadow: D | undefined): Decision<D> => ({ decision: dflt, source: Source.default, reason, shadow, consumesBudget: false });
  if (mode === Mode.emergency) return byDefault(DecideReason.emergency, undefined);
  if (model === undefined) return byDefault(DecideReason.noModel, undefined);
  const accepted = input.guard === undefined || input.guard(model.decision, dflt);
  switch (mode) {
    case Mode.learning:
      return byDefault(DecideReason.shadow, model.decision);
    case Mode.collaboration:
      if (!(model.confidence >= input.confidenceThreshold)) return byDefault(DecideReason.lowConfidence, model.decision);
      if (input.budgetRemaining <= 0) return byDefault(DecideReason.budgetExhausted, model.decision);
      if (!accepted) return byDefault(DecideReason.veto, model.decision);
      return { decision: model.decision, source: Source.model, reason: DecideReason.confident, shadow: dflt, consumesBudget: true };
    case Mode.recommendation:
      if (!accepted) return byDefault(DecideReason.veto, model.decision);
      return { decision: model.decision, source: Source.model, reason: DecideReason.model, shadow: dflt, consumesBudget: false };
    default:
      return assertNever(mode, "mode");
  }
}

/**
 * The collaboration budget: at most `limit` model decisions per window of `window` decisions,
 * so a confident but wrong model can never take over the subsystem in collaboration mode.
 */
export class CollaborationBudget {
  #seen = 0;
  #used = 0;
  constructor(
    readonly limit: number,
    readonly window: number,
  ) {}
  get remaining(): number {
    return Math.max(0, this.limit - this.#used);
  }
  /** Account for one decision; call after `decide`. */
  record(consumed: boolean): void {
    if (consumed) this.#used++;
    if (++this.#seen >= this.window) {
      this.#seen = 0;
      this.#used = 0;
    }
  }
}
