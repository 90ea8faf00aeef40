/**
 * @module proxy/efficiency
 * Efficiency counters, one cell per (mode, source), as the kernel side keeps them, and the
 * estimates user space makes from them. A cell counts the decisions that source made, the
 * answers of that source that were evaluated (decided or shadow: in learning mode the model is
 * evaluated without deciding; in recommendation mode the default is the sampled reference), and
 * how many of those were good.
 */
import { ErrorCode, KmlibError } from "../errors.ts";
import { MODES, type Mode, SOURCES, type Source } from "./mode.ts";
import { type DifferenceEstimate, type RateEstimate, rateDifference, wilson } from "./stats.ts";

export interface Counter {
  readonly decided: number;
  readonly evaluated: number;
  readonly good: number;
}
export type EfficiencyCounters = Readonly<Record<Mode, Readonly<Record<Source, Counter>>>>;

const ZERO: Counter = { decided: 0, evaluated: 0, good: 0 };

function build(f: (m: Mode, s: Source) => Counter): EfficiencyCounters {
  return Object.fromEntries(MODES.map((m) => [m, Object.fromEntries(SOURCES.map((s) => [s, f(m, s)]))])) as unknown as EfficiencyCounters;
}

export const emptyCounters = (): EfficiencyCounters => build(() => ZERO);

export function checkCounter(c: Counter, where: string): Counter {
  for (const k of ["decided", "evaluated", "good"] as const) {
    if (!Number.isSafeInteger(c[k]) || c[k] < 0) throw new KmlibError(ErrorCode.InvalidArgument, `${where}.${k}: must be a non-negative integer, got ${c[k]}`);
  }
  if (c.good > c.evaluated) throw new KmlibError(ErrorCode.InvalidArgument, `${where}: good (${c.good}) exceeds evaluated (${c.evaluated})`);
  return c;
}

export const addCounters = (a: EfficiencyCounters, b: EfficiencyCounters): EfficiencyCounters =>
  build((m, s) => ({ decided: a[m][s].decided + b[m][s].decided, evaluated: a[m][s].evaluated + b[m][s].evaluated, good: a[m][s].good + b[m][s].good }));

/**
 * `now - then`: counters since a snapshot. Counters only grow; a cell that went down means the
 * kernel side was reset (program reloaded), and then `now` itself is the delta.
 */
export function sinceSnapshot(now: EfficiencyCounters, then: EfficiencyCounters): EfficiencyCounters {
  return build((m, s) => {
    const a = now[m][s], b = then[m][s];
    if (a.decided < b.decided || a.evaluated < b.evaluated || a.good < b.good) return a;
    return checkCounter({ decided: a.decided - b.decided, evaluated: a.evaluated - b.evaluated, good: a.good - b.good }, `counters.${m}.${s}`);
  });
}

/** Record one evaluated answer into a mutable copy (used by simulators and the mock adapter). */
export function recordOutcome(c: EfficiencyCounters, mode: Mode, source: Source, decided: boolean, good: boolean | undefined): EfficiencyCounters {
  const cell = c[mode][source];
  const next: Counter = {
    decided: cell.decided + (decided ? 1 : 0),
    evaluated: cell.evaluated + (good === undefined ? 0 : 1),
    good: cell.good + (good === true ? 1 : 0),
  };
  return build((m, s) => (m === mode && s === source ? next : c[m][s]));
}

export interface ModeEstimate {
  readonly mode: Mode;
  readonly default: RateEstimate;
  readonly model: RateEstimate;
  /** model rate - default rate, Newcombe interval. */
  readonly gain: DifferenceEstimate;
  readonly decided: Readonly<Record<Source, number>>;
}

export function estimate(c: EfficiencyCounters, confidence = 0.95): Readonly<Record<Mode, ModeEstimate>> {
  return Object.fromEntries(
    MODES.map((mode) => {
      const d = wilson(c[mode].default.good, c[mode].default.evaluated, confidence);
      const m = wilson(c[mode].model.good, c[mode].model.evaluated, confidence);
      return [mode, { mode, default: d, model: m, gain: rateDifference(m, d), decided: { default: c[mode].default.decided, model: c[mode].model.decided } }];
    }),
  ) as Record<Mode, ModeEstimate>;
}
