/**
 * @module proxy/feedback
 * Feedback, the RFC's "error back-propagation": one record per decision in learning and
 * collaboration modes, saying what each source answered and how it turned out. The agent stores
 * these and retrains on them; the efficiency counters are their aggregate.
 */
import { ErrorCode, KmlibError } from "../errors.ts";
import { MODES, type Mode, SOURCES, type Source } from "./mode.ts";

export interface FeedbackRecord {
  readonly proxy: string;
  /** Monotonic per proxy; with `proxy` it identifies the record (replays are idempotent). */
  readonly seq: number;
  readonly mode: Mode;
  /** Who decided. */
  readonly source: Source;
  readonly defaultDecision: number;
  /** The model's answer (decided or shadow); absent when no model answered. */
  readonly modelDecision?: number;
  readonly confidence?: number;
  /** The model version whose answer this is. */
  readonly modelVersion?: number;
  /** Outcome per source where known: true = good decision. */
  readonly defaultGood?: boolean;
  readonly modelGood?: boolean;
  /** Integer features the decision was made on (for retraining). */
  readonly features?: readonly number[];
  /** CLOCK_MONOTONIC ns or wall ms, as the adapter says; informational. */
  readonly time?: number;
}

/** Modes in which the RFC asks for back-propagation. */
export const FEEDBACK_MODES: readonly Mode[] = ["learning", "collaboration"];

export function validateFeedback(r: FeedbackRecord): FeedbackRecord {
  const bad = (field: string, why: string) => new KmlibError(ErrorCode.InvalidArgument, `feedback.${field}: ${why}`);
  if (typeof r.proxy !== "string" || r.proxy.length === 0) throw bad("proxy", "must be a non-empty string");
  if (!Number.isSafeInteger(r.seq) || r.seq < 0) throw bad("seq", `must be a non-negative integer, got ${r.seq}`);
  if (!MODES.includes(r.mode)) throw bad("mode", `unknown mode ${String(r.mode)}`);
  if (!SOURCES.includes(r.source)) throw bad("source", `unknown source ${String(r.source)}`);
  if (!Number.isFinite(r.defaultDecision)) throw bad("defaultDecision", "must be a number");
  if (r.source === "model" && r.modelDecision === undefined) throw bad("modelDecision", "required when the model decided");
  if (r.modelDecision !== undefined && !Number.isFinite(r.modelDecision)) throw bad("modelDecision", "must be a number");
  if (r.modelVersion !== undefined && (!Number.isSafeInteger(r.modelVersion) || r.modelVersion < 1)) throw bad("modelVersion", "must be a positive integer");
  if (r.features !== undefined && !r.features.every((x) => Number.isFinite(x))) throw bad("features", "must be finite numbers");
  return r;
}
