/**
 * @module proxy/stats
 * The statistics behind efficiency estimates: Wilson score intervals for a success rate and
 * Newcombe's hybrid score interval (method 10) for the difference of two rates. Both behave at
 * rates near 0 or 1 and at small counts, where the textbook Wald interval lies; that matters
 * because a good model's error rate is exactly such a rate.
 */
import { ErrorCode, KmlibError } from "../errors.ts";

/** Inverse of the standard normal CDF (Acklam's rational approximation, |rel. error| < 1.2e-9). */
export function normalQuantile(p: number): number {
  if (!(p > 0 && p < 1)) throw new KmlibError(ErrorCode.InvalidArgument, `normalQuantile: p must be in (0, 1), got ${p}`);
  const a = [-3.969683028665376e1, 2.209460984245205e2, -2.759285104469687e2, 1.38357751867269e2, -3.066479806614716e1, 2.506628277459239];
  const b = [-5.447609879822406e1, 1.615858368580409e2, -1.556989798598866e2, 6.680131188771972e1, -1.328068155288572e1];
  const c = [-7.784894002430293e-3, -3.223964580411365e-1, -2.400758277161838, -2.549732539343734, 4.374664141464968, 2.938163982698783];
  const d = [7.784695709041462e-3, 3.224671290700398e-1, 2.445134137142996, 3.754408661907416];
  const [a0, a1, a2, a3, a4, a5] = a as [number, number, number, number, number, number];
  const [b0, b1, b2, b3, b4] = b as [number, number, number, number, number];
  const [c0, c1, c2, c3, c4, c5] = c as [number, number, number, number, number, number];
  const [d0, d1, d2, d3] = d as [number, number, number, number];
  const lo = 0.02425;
  if (p < lo) {
    const q = Math.sqrt(-2 * Math.log(p));
    return (((((c0 * q + c1) * q + c2) * q + c3) * q + c4) * q + c5) / ((((d0 * q + d1) * q + d2) * q + d3) * q + 1);
  }
  if (p > 1 - lo) return -normalQuantile(1 - p);
  const q = p - 0.5;
  const r = q * q;
  return ((((((a0 * r + a1) * r + a2) * r + a3) * r + a4) * r + a5) * q) / (((((b0 * r + b1) * r + b2) * r + b3) * r + b4) * r + 1);
}

export interface RateEstimate {
  /** Successes and trials. */
  readonly good: number;
  readonly n: number;
  /** Point estimate (0 when n = 0). */
  readonly rate: number;
  /** Two-sided interval at `confidence`. With n = 0 it is [0, 1]. */
  readonly lo: number;
  readonly hi: number;
  readonly confidence: number;
}

function checkConfidence(confidence: number): void {
  if (!(confidence > 0 && confidence < 1)) throw new KmlibError(ErrorCode.InvalidArgument, `confidence must be in (0, 1), got ${confidence}`);
}

/** Wilson score interval for `good` successes out of `n`. */
export function wilson(good: number, n: number, confidence = 0.95): RateEstimate {
  checkConfidence(confidence);
  if (!Number.isFinite(good) || !Number.isFinite(n) || good < 0 || n < 0 || good > n) {
    throw new KmlibError(ErrorCode.InvalidArgument, `wilson: need 0 <= good <= n, got good=${good} n=${n}`);
  }
  if (n === 0) return { good, n, rate: 0, lo: 0, hi: 1, confidence };
  const z = normalQuantile(1 - (1 - confidence) / 2);
  const p = good / n;
  const z2n = (z * z) / n;
  const centre = (p + z2n / 2) / (1 + z2n);
  const half = (z / (1 + z2n)) * Math.sqrt((p * (1 - p)) / n + z2n / (4 * n));
  // Clamp: rounding can push the ends a hair outside [0, 1] or past the point estimate.
  return { good, n, rate: p, lo: Math.max(0, Math.min(p, centre - half)), hi: Math.min(1, Math.max(p, centre + half)), confidence };
}

export interface DifferenceEstimate {
  /** a.rate - b.rate */
  readonly diff: number;
  readonly lo: number;
  readonly hi: number;
  readonly confidence: number;
}

/** Newcombe's hybrid score interval for rate(a) - rate(b), from two Wilson intervals. */
export function rateDifference(a: RateEstimate, b: RateEstimate): DifferenceEstimate {
  if (a.confidence !== b.confidence) throw new KmlibError(ErrorCode.InvalidArgument, "rateDifference: estimates at different confidence levels");
  const diff = a.rate - b.rate;
  const lo = diff - Math.sqrt((a.rate - a.lo) ** 2 + (b.hi - b.rate) ** 2);
  const hi = diff + Math.sqrt((a.hi - a.rate) ** 2 + (b.rate - b.lo) ** 2);
  return { diff, lo: Math.max(-1, lo), hi: Math.min(1, hi), confidence: a.confidence };
}

/**
 * One-sided test "rate(a) exceeds rate(b) by more than `margin`" at `confidence`: the lower end
 * of the two-sided interval at 1 - 2(1 - confidence) is above the margin.
 */
export function beatsByMargin(aGood: number, aN: number, bGood: number, bN: number, margin: number, confidence: number): { beats: boolean; difference: DifferenceEstimate } {
  checkConfidence(confidence);
  const two = 1 - 2 * (1 - confidence);
  if (!(two > 0)) throw new KmlibError(ErrorCode.InvalidArgument, `one-sided confidence must be above 0.5, got ${confidence}`);
  const difference = rateDifference(wilson(aGood, aN, two), wilson(bGood, bN, two));
  return { beats: aN > 0 && bN > 0 && difference.lo > margin, difference };
}
