/**
 * @module proxy/controller
 * The mode controller: moves a proxy between modes on evidence, and records why.
 * - Promotes learning -> collaboration -> recommendation only when, over at least
 *   `minDecisions` evaluated answers of each source since the last transition, the model's good
 *   rate beats the default's by more than `promoteMargin` at one-sided `confidence`
 *   (Newcombe interval), for `promoteStreak` evaluations in a row. The window restarts at every
 *   transition, so evidence from one mode never vouches for another.
 * - Demotes one step when the model is confidently no better than the default by
 *   `demoteMargin` (the gain's upper bound is below it): a regression. Demotion and collapse
 *   look at the most recent window that holds `minDecisions` answers (not the whole window
 *   since the transition), so a sudden regression is not diluted by a good past.
 * - Goes to emergency on an efficiency collapse (model confidently worse than the default by
 *   `collapseMargin`, or its rate confidently below `collapseRate`), on heartbeat loss and on a
 *   failed model load; recovers to `recoverTo` when the cause clears (heartbeat back, model
 *   loaded, `collapseCooldownMs` passed) if `autoRecover`.
 * Evidence comes in one of two kinds, fixed per controller: `rate` (the default) compares the
 * sources' good rates from the efficiency counters as above; `paired` reads paired metric
 * outcomes (`proxy/paired.ts`: per epoch, the model's relative gain over the default on the
 * same work) and uses their mean with a Student t interval as the gain, `minDecisions` then
 * counting paired outcomes. Every other rule is the same for both kinds.
 * Pure: time comes from the injected clock; counters from the caller.
 */
import { ErrorCode, KmlibError } from "../errors.ts";
import { type Counter, type EfficiencyCounters, emptyCounters, sinceSnapshot } from "./efficiency.ts";
import { LADDER, Mode, nextDown, nextUp } from "./mode.ts";
import { type PairedCounters, type PairedEstimate, emptyPaired, pairedEstimate, sincePaired } from "./paired.ts";
import { type DifferenceEstimate, type RateEstimate, rateDifference, wilson } from "./stats.ts";

export interface ControllerThresholds {
  /** One-sided confidence of every test (0.5, 1). */
  readonly confidence: number;
  /** Model good rate minus default good rate needed to promote. */
  readonly promoteMargin: number;
  /** Demote when the gain's upper bound falls below this. */
  readonly demoteMargin: number;
  /** Evaluated answers of each source needed before any evidence-based move. */
  readonly minDecisions: number;
  /** Consecutive passing evaluations needed to promote. */
  readonly promoteStreak: number;
  /** Emergency when the gain's upper bound is below -collapseMargin. */
  readonly collapseMargin: number;
  /** Emergency when the model's good rate is confidently below this (0 disables). */
  readonly collapseRate: number;
  /** Highest mode the controller may promote to. */
  readonly maxMode: Mode;
  /** Leave emergency on its own when its cause clears. */
  readonly autoRecover: boolean;
  readonly recoverTo: Mode;
  /** After a collapse, wait this long before recovering. */
  readonly collapseCooldownMs: number;
}

export const DEFAULT_THRESHOLDS: ControllerThresholds = Object.freeze({
  confidence: 0.95,
  promoteMargin: 0.01,
  demoteMargin: 0,
  minDecisions: 1000,
  promoteStreak: 3,
  collapseMargin: 0.1,
  collapseRate: 0,
  maxMode: Mode.recommendation,
  autoRecover: true,
  recoverTo: Mode.learning,
  collapseCooldownMs: 60_000,
});

export function resolveThresholds(partial: Partial<ControllerThresholds> = {}): ControllerThresholds {
  const t = { ...DEFAULT_THRESHOLDS, ...partial };
  const bad = (field: string, why: string) => new KmlibError(ErrorCode.InvalidConfig, `controller.${field}: ${why}`);
  if (!(t.confidence > 0.5 && t.confidence < 1)) throw bad("confidence", `must be in (0.5, 1), got ${t.confidence}`);
  for (const k of ["promoteMargin", "demoteMargin", "collapseMargin", "collapseRate"] as const) {
    if (!(t[k] >= -1 && t[k] <= 1)) throw bad(k, `must be in [-1, 1], got ${t[k]}`);
  }
  if (t.demoteMargin > t.promoteMargin) throw bad("demoteMargin", `must not exceed promoteMargin (${t.promoteMargin}), or the controller would oscillate`);
  if (!Number.isSafeInteger(t.minDecisions) || t.minDecisions < 1) throw bad("minDecisions", `must be a positive integer, got ${t.minDecisions}`);
  if (!Number.isSafeInteger(t.promoteStreak) || t.promoteStreak < 1) throw bad("promoteStreak", `must be a positive integer, got ${t.promoteStreak}`);
  if (!LADDER.includes(t.maxMode)) throw bad("maxMode", `must be one of ${LADDER.join(", ")}`);
  if (!LADDER.includes(t.recoverTo)) throw bad("recoverTo", `must be one of ${LADDER.join(", ")}`);
  if (!(t.collapseCooldownMs >= 0)) throw bad("collapseCooldownMs", "must be >= 0");
  return Object.freeze(t);
}

export const TransitionReason = {
  promote: "promote",
  demote: "demote",
  collapse: "efficiency-collapse",
  heartbeatLost: "heartbeat-lost",
  modelLoadFailed: "model-load-failed",
  recover: "recover",
  operator: "operator",
} as const;
export type TransitionReason = (typeof TransitionReason)[keyof typeof TransitionReason];

export interface Evidence {
  /** Counters of the current mode since the last transition. */
  readonly window: { readonly default: Counter; readonly model: Counter };
  readonly default: RateEstimate;
  readonly model: RateEstimate;
  /**
   * model - default at two-sided 1 - 2(1 - confidence), i.e. one-sided `confidence`. With
   * paired evidence: the mean paired gain and its t interval (`paired`).
   */
  readonly gain: DifferenceEstimate;
  /** Paired evidence only: the window's paired outcomes. */
  readonly paired?: PairedEstimate;
}

/** What the controller compares: good rates, or paired metric outcomes. */
export type EvidenceKind = "rate" | "paired";

export interface Transition {
  /** Clock time (ms) of the transition. */
  readonly at: number;
  readonly from: Mode;
  readonly to: Mode;
  readonly reason: TransitionReason;
  /** One human sentence with the numbers. */
  readonly detail: string;
  readonly evidence?: Evidence;
}

type EmergencyCause = "heartbeat" | "model-load" | "collapse" | "operator";

export interface ControllerOptions {
  readonly initial?: Mode;
  readonly thresholds?: Partial<ControllerThresholds>;
  /** Milliseconds; default Date.now. */
  readonly now?: () => number;
  /** Cumulative counters at start, so the first window counts only what follows. */
  readonly baseline?: EfficiencyCounters;
  /**
   * Why an initial emergency holds (a restarted agent passes what it recorded); unknown or
   * absent causes count as an operator's request, which only an operator clears.
   */
  readonly initialCauses?: readonly string[];
  /** Default `rate`. With `paired`, `evaluate` needs paired counters too. */
  readonly evidence?: EvidenceKind;
  /** Cumulative paired counters at start (paired evidence). */
  readonly baselinePaired?: PairedCounters;
}

/** Cumulative inputs at one evaluation. */
interface Snapshot {
  readonly counters: EfficiencyCounters;
  readonly paired: PairedCounters;
}

const CAUSES: readonly EmergencyCause[] = ["heartbeat", "model-load", "collapse", "operator"];

/** Evaluations remembered for the recent window. */
const RECENT_KEPT = 64;

const pct = (x: number) => `${(100 * x).toFixed(2)}%`;

export class ModeController {
  readonly thresholds: ControllerThresholds;
  readonly evidenceKind: EvidenceKind;
  readonly #now: () => number;
  #mode: Mode;
  #baseline: Snapshot;
  #last: Snapshot;
  /** Snapshots at recent evaluations since the last transition, oldest first. */
  #recent: Snapshot[] = [];
  #streak = 0;
  #pinned = false;
  #causes = new Set<EmergencyCause>();
  #collapseAt = 0;
  readonly #history: Transition[] = [];

  constructor(opts: ControllerOptions = {}) {
    this.thresholds = resolveThresholds(opts.thresholds);
    this.#now = opts.now ?? Date.now;
    this.#mode = opts.initial ?? Mode.learning;
    this.evidenceKind = opts.evidence ?? "rate";
    if (this.evidenceKind !== "rate" && this.evidenceKind !== "paired") throw new KmlibError(ErrorCode.InvalidConfig, `controller.evidence: must be "rate" or "paired", got ${String(this.evidenceKind)}`);
    this.#baseline = { counters: opts.baseline ?? emptyCounters(), paired: opts.baselinePaired ?? emptyPaired() };
    this.#last = this.#baseline;
    if (this.#mode === Mode.emergency) {
      const known = (opts.initialCauses ?? []).filter((c): c is EmergencyCause => (CAUSES as readonly string[]).includes(c));
      for (const c of known.length > 0 ? known : (["operator"] as const)) this.#causes.add(c);
    }
  }

  get mode(): Mode {
    return this.#mode;
  }
  get pinned(): boolean {
    return this.#pinned;
  }
  get history(): readonly Transition[] {
    return this.#history;
  }
  /** Why the proxy is in emergency (empty otherwise). */
  get emergencyCauses(): readonly string[] {
    return [...this.#causes];
  }

  /** The rate evidence for the current mode from cumulative `counters`. */
  evidence(counters: EfficiencyCounters, since: EfficiencyCounters = this.#baseline.counters): Evidence {
    const w = sinceSnapshot(counters, since)[this.#mode];
    const two = 1 - 2 * (1 - this.thresholds.confidence);
    const d = wilson(w.default.good, w.default.evaluated, two);
    const m = wilson(w.model.good, w.model.evaluated, two);
    return { window: { default: w.default, model: w.model }, default: d, model: m, gain: rateDifference(m, d) };
  }

  /** The evidence of this controller's kind for the current mode, between two snapshots. */
  #evidence(now: Snapshot, since: Snapshot): Evidence {
    const rate = this.evidence(now.counters, since.counters);
    if (this.evidenceKind === "rate") return rate;
    const p = pairedEstimate(sincePaired(now.paired, since.paired)[this.#mode], 1 - 2 * (1 - this.thresholds.confidence));
    return { ...rate, gain: { diff: p.mean, lo: p.lo, hi: p.hi, confidence: p.confidence }, paired: p };
  }

  #move(to: Mode, reason: TransitionReason, detail: string, evidence?: Evidence): Transition {
    const t: Transition = { at: this.#now(), from: this.#mode, to, reason, detail, ...(evidence ? { evidence } : {}) };
    this.#mode = to;
    this.#streak = 0;
    this.#baseline = this.#last;
    this.#recent = [];
    this.#history.push(t);
    return t;
  }

  #emergency(cause: EmergencyCause, reason: TransitionReason, detail: string, evidence?: Evidence): Transition | undefined {
    this.#causes.add(cause);
    if (cause === "collapse") this.#collapseAt = this.#now();
    if (this.#mode === Mode.emergency) return undefined;
    return this.#move(Mode.emergency, reason, detail, evidence);
  }

  #clear(cause: EmergencyCause, detail: string): Transition | undefined {
    this.#causes.delete(cause);
    if (this.#mode !== Mode.emergency || this.#causes.size > 0 || !this.thresholds.autoRecover) return undefined;
    return this.#move(this.thresholds.recoverTo, TransitionReason.recover, detail);
  }

  /**
   * Feed cumulative counters (as read from the kernel), and with paired evidence the cumulative
   * paired counters; returns the transition made, if any. Safety moves (collapse) apply even
   * when the mode is pinned by an operator.
   */
  evaluate(counters: EfficiencyCounters, paired?: PairedCounters): Transition | undefined {
    if (this.evidenceKind === "paired" && paired === undefined) throw new KmlibError(ErrorCode.InvalidArgument, "this controller weighs paired evidence: evaluate needs paired counters");
    const snap: Snapshot = { counters, paired: paired ?? emptyPaired() };
    this.#last = snap;
    const t = this.thresholds;
    if (this.#mode === Mode.emergency) {
      if (this.#causes.has("collapse") && this.#now() - this.#collapseAt >= t.collapseCooldownMs) {
        return this.#clear("collapse", `collapse cooldown of ${t.collapseCooldownMs} ms passed`);
      }
      return undefined;
    }
    const enough = (e: Evidence) =>
      e.paired ? e.paired.n >= t.minDecisions : e.window.default.evaluated >= t.minDecisions && e.window.model.evaluated >= t.minDecisions;
    const ev = this.#evidence(snap, this.#baseline);
    if (!enough(ev)) {
      this.#remember(snap);
      return undefined;
    }
    // The shortest recent window with enough answers, for the safety checks.
    let recent = ev;
    for (let i = this.#recent.length - 1; i >= 0; i--) {
      const e = this.#evidence(snap, this.#recent[i]!);
      if (enough(e)) {
        recent = e;
        break;
      }
    }
    this.#remember(snap);
    const summary = (e: Evidence) =>
      e.paired
        ? `model gain ${pct(e.gain.diff)} in [${pct(e.gain.lo)}, ${pct(e.gain.hi)}] (sd ${pct(e.paired.sd)}) over ${e.paired.n} paired outcomes`
        : `model ${pct(e.model.rate)} vs default ${pct(e.default.rate)} good, gain ${pct(e.gain.diff)} in [${pct(e.gain.lo)}, ${pct(e.gain.hi)}] over ${e.window.model.evaluated}/${e.window.default.evaluated} answers`;
    if (recent.gain.hi < -t.collapseMargin) {
      return this.#emergency("collapse", TransitionReason.collapse, `${summary(recent)}: model worse than default by more than ${pct(t.collapseMargin)}`, recent);
    }
    // A good rate means nothing for paired evidence: only the gain counts there.
    if (t.collapseRate > 0 && !recent.paired && recent.model.hi < t.collapseRate) {
      return this.#emergency("collapse", TransitionReason.collapse, `${summary(recent)}: model good rate below ${pct(t.collapseRate)}`, recent);
    }
    if (this.#pinned) return undefined;
    const down = nextDown(this.#mode);
    if (down !== undefined && recent.gain.hi < t.demoteMargin) {
      return this.#move(down, TransitionReason.demote, `${summary(recent)}: gain below ${pct(t.demoteMargin)}, regression`, recent);
    }
    const up = nextUp(this.#mode);
    const allowed = up !== undefined && LADDER.indexOf(up) <= LADDER.indexOf(t.maxMode);
    if (allowed && ev.gain.lo > t.promoteMargin) {
      if (++this.#streak >= t.promoteStreak) {
        return this.#move(up, TransitionReason.promote, `${summary(ev)}: beats default by more than ${pct(t.promoteMargin)} at ${t.confidence} confidence, ${t.promoteStreak} times in a row`, ev);
      }
    } else {
      this.#streak = 0;
    }
    return undefined;
  }

  #remember(snap: Snapshot): void {
    this.#recent.push(snap);
    if (this.#recent.length > RECENT_KEPT) this.#recent.shift();
  }

  heartbeatLost(detail = "agent heartbeat stopped"): Transition | undefined {
    return this.#emergency("heartbeat", TransitionReason.heartbeatLost, detail);
  }
  heartbeatRestored(): Transition | undefined {
    return this.#clear("heartbeat", "agent heartbeat restored");
  }
  modelLoadFailed(version: number, error: string): Transition | undefined {
    return this.#emergency("model-load", TransitionReason.modelLoadFailed, `model version ${version} failed to load: ${error}`);
  }
  modelLoaded(version: number): Transition | undefined {
    return this.#clear("model-load", `model version ${version} loaded`);
  }

  /**
   * An operator's explicit mode. `pin` stops automatic promotion and demotion (safety moves to
   * emergency still happen); requesting a ladder mode clears every emergency cause.
   */
  request(mode: Mode, opts: { pin?: boolean; who?: string } = {}): Transition | undefined {
    this.#pinned = opts.pin ?? false;
    if (mode === Mode.emergency) {
      this.#causes.add("operator");
    } else {
      this.#causes.clear();
    }
    if (mode === this.#mode) return undefined;
    return this.#move(mode, TransitionReason.operator, `mode set to ${mode} by ${opts.who ?? "operator"}${this.#pinned ? " (pinned)" : ""}`);
  }
}
