/**
 * @module proxy/paired
 * Paired metric evidence, for subsystems whose efficiency is not a per-decision success rate.
 * Garbage collection is the example: a victim choice is good or bad only through the write
 * amplification it leads to over many decisions, so the adapter measures both sources over the
 * same stretch of work (an epoch: the one that decided for real, the other on a counterfactual
 * copy fed the same input) and reports one paired outcome per epoch, the model's relative gain
 * g = 1 - metric(model) / metric(default) for a lower-is-better metric.
 *
 * Kernel-side these are three integers per mode, like the rate counters: outcomes, the sum of
 * gains and the sum of squared gains, in millionths (gains clamped to [-1, 1], so the sums stay
 * exact). They add and subtract like counters, so windows are snapshot differences. User space
 * turns a window into the mean gain with a Student t interval: epochs, not blocks, are the
 * independent units, so the interval stays honest where a rate over millions of correlated
 * block writes would not.
 */
import { ErrorCode, KmlibError } from "../errors.ts";
import { MODES, type Mode } from "./mode.ts";
import { normalQuantile } from "./stats.ts";

/** Fixed-point scale of the gain sums. */
export const PAIRED_SCALE = 1_000_000;

export interface PairedCounter {
  /** Paired outcomes (epochs). */
  readonly n: number;
  /** Sum of gains, in millionths. */
  readonly sum: number;
  /** Sum of squared gains, in millionths squared. */
  readonly sumSq: number;
}
export type PairedCounters = Readonly<Record<Mode, PairedCounter>>;

const ZERO: PairedCounter = { n: 0, sum: 0, sumSq: 0 };

export const emptyPaired = (): PairedCounters => Object.fromEntries(MODES.map((m) => [m, ZERO])) as unknown as PairedCounters;

export function checkPaired(c: PairedCounter, where: string): PairedCounter {
  if (!Number.isSafeInteger(c.n) || c.n < 0) throw new KmlibError(ErrorCode.InvalidArgument, `${where}.n: must be a non-negative integer, got ${c.n}`);
  if (!Number.isSafeInteger(c.sum)) throw new KmlibError(ErrorCode.InvalidArgument, `${where}.sum: must be an integer, got ${c.sum}`);
  if (!Number.isSafeInteger(c.sumSq) || c.sumSq < 0) throw new KmlibError(ErrorCode.InvalidArgument, `${where}.sumSq: must be a non-negative integer, got ${c.sumSq}`);
  if (Math.abs(c.sum) > c.n * PAIRED_SCALE) throw new KmlibError(ErrorCode.InvalidArgument, `${where}: |sum| ${c.sum} exceeds n x ${PAIRED_SCALE}`);
  return c;
}

/** The gain of one epoch for a lower-is-better metric, clamped to [-1, 1]. */
export function relativeGain(model: number, dflt: number): number {
  if (!(model > 0 && dflt > 0 && Number.isFinite(model) && Number.isFinite(dflt))) {
    throw new KmlibError(ErrorCode.InvalidArgument, `relativeGain: metrics must be positive and finite, got model ${model}, default ${dflt}`);
  }
  return Math.max(-1, Math.min(1, 1 - model / dflt));
}

/** Adds one outcome (`gain` in [-1, 1]) to `mode`'s cell; returns new counters. */
export function addPaired(c: PairedCounters, mode: Mode, gain: number): PairedCounters {
  if (!(gain >= -1 && gain <= 1)) throw new KmlibError(ErrorCode.InvalidArgument, `paired gain must lie in [-1, 1], got ${gain}`);
  const q = Math.round(gain * PAIRED_SCALE);
  const cell = c[mode];
  const next = checkPaired({ n: cell.n + 1, sum: cell.sum + q, sumSq: cell.sumSq + q * q }, `paired.${mode}`);
  return Object.fromEntries(MODES.map((m) => [m, m === mode ? next : c[m]])) as unknown as PairedCounters;
}

/** `now - then`; a cell that went down means the source was reset, and `now` is the delta. */
export function sincePaired(now: PairedCounters, then: PairedCounters): PairedCounters {
  return Object.fromEntries(
    MODES.map((m) => {
      const a = now[m], b = then[m];
      if (a.n < b.n || a.sumSq < b.sumSq) return [m, a];
      return [m, checkPaired({ n: a.n - b.n, sum: a.sum - b.sum, sumSq: a.sumSq - b.sumSq }, `paired.${m}`)];
    }),
  ) as unknown as PairedCounters;
}

/** ln Γ(x), Lanczos (g = 7, n = 9), |rel. error| < 1e-13 for x > 0. */
function lnGamma(x: number): number {
  const c = [0.99999999999980993, 676.5203681218851, -1259.1392167224028, 771.32342877765313, -176.61502916214059, 12.507343278686905, -0.13857109526572012, 9.9843695780195716e-6, 1.5056327351493116e-7];
  if (x < 0.5) return Math.log(Math.PI / Math.sin(Math.PI * x)) - lnGamma(1 - x);
  const y = x - 1;
  let a = c[0]!;
  const t = y + 7.5;
  for (let i = 1; i < 9; i++) a += c[i]! / (y + i);
  return 0.5 * Math.log(2 * Math.PI) + (y + 0.5) * Math.log(t) - t + Math.log(a);
}

/** Continued fraction of the incomplete beta function (modified Lentz). */
function betaCf(a: number, b: number, x: number): number {
  const tiny = 1e-300;
  let c = 1;
  let d = 1 - ((a + b) * x) / (a + 1);
  if (Math.abs(d) < tiny) d = tiny;
  d = 1 / d;
  let h = d;
  for (let m = 1; m <= 300; m++) {
    const m2 = 2 * m;
    let aa = (m * (b - m) * x) / ((a + m2 - 1) * (a + m2));
    d = 1 + aa * d;
    if (Math.abs(d) < tiny) d = tiny;
    c = 1 + aa / c;
    if (Math.abs(c) < tiny) c = tiny;
    d = 1 / d;
    h *= d * c;
    aa = (-(a + m) * (a + b + m) * x) / ((a + m2) * (a + m2 + 1));
    d = 1 + aa * d;
    if (Math.abs(d) < tiny) d = tiny;
    c = 1 + aa / c;
    if (Math.abs(c) < tiny) c = tiny;
    d = 1 / d;
    const del = d * c;
    h *= del;
    if (Math.abs(del - 1) < 1e-15) break;
  }
  return h;
}

/** Regularised incomplete beta I_x(a, b). */
export function incompleteBeta(x: number, a: number, b: number): number {
  if (x <= 0) return 0;
  if (x >= 1) return 1;
  const front = Math.exp(lnGamma(a + b) - lnGamma(a) - lnGamma(b) + a * Math.log(x) + b * Math.log(1 - x));
  return x < (a + 1) / (a + b + 2) ? (front * betaCf(a, b, x)) / a : 1 - (front * betaCf(b, a, 1 - x)) / b;
}

/** CDF of Student's t with `df` degrees of freedom. */
export function studentTCdf(t: number, df: number): number {
  if (!(df > 0)) throw new KmlibError(ErrorCode.InvalidArgument, `studentTCdf: df must be positive, got ${df}`);
  const tail = 0.5 * incompleteBeta(df / (df + t * t), df / 2, 0.5);
  return t >= 0 ? 1 - tail : tail;
}

/** Inverse CDF of Student's t (bisection on the CDF; the normal quantile beyond 1e6 df). */
export function studentTQuantile(p: number, df: number): number {
  if (!(p > 0 && p < 1)) throw new KmlibError(ErrorCode.InvalidArgument, `studentTQuantile: p must be in (0, 1), got ${p}`);
  if (!(df > 0)) throw new KmlibError(ErrorCode.InvalidArgument, `studentTQuantile: df must be positive, got ${df}`);
  if (df > 1e6) return normalQuantile(p);
  if (p < 0.5) return -studentTQuantile(1 - p, df);
  let lo = 0;
  let hi = Math.max(1, normalQuantile(p));
  while (studentTCdf(hi, df) < p) hi *= 2;
  for (let i = 0; i < 200 && hi - lo > 1e-12 * Math.max(1, hi); i++) {
    const mid = (lo + hi) / 2;
    if (studentTCdf(mid, df) < p) lo = mid;
    else hi = mid;
  }
  return (lo + hi) / 2;
}

export interface PairedEstimate {
  readonly n: number;
  /** Mean gain (0 when n = 0). */
  readonly mean: number;
  /** Sample standard deviation of the gains (0 when n < 2). */
  readonly sd: number;
  /** Two-sided t interval at `confidence`, within [-1, 1]; [-1, 1] when n < 2. */
  readonly lo: number;
  readonly hi: number;
  readonly confidence: number;
}

/** Mean gain and its Student t interval from one window's counter. */
export function pairedEstimate(c: PairedCounter, confidence = 0.95): PairedEstimate {
  if (!(confidence > 0 && confidence < 1)) throw new KmlibError(ErrorCode.InvalidArgument, `confidence must be in (0, 1), got ${confidence}`);
  checkPaired(c, "paired");
  const { n } = c;
  if (n === 0) return { n, mean: 0, sd: 0, lo: -1, hi: 1, confidence };
  const mean = c.sum / n / PAIRED_SCALE;
  if (n < 2) return { n, mean, sd: 0, lo: -1, hi: 1, confidence };
  const variance = Math.max(0, (c.sumSq - (c.sum * c.sum) / n) / (n - 1)) / (PAIRED_SCALE * PAIRED_SCALE);
  const sd = Math.sqrt(variance);
  const half = studentTQuantile(1 - (1 - confidence) / 2, n - 1) * (sd / Math.sqrt(n));
  return { n, mean, sd, lo: Math.max(-1, mean - half), hi: Math.min(1, mean + half), confidence };
}
