/**
 * @module subsystems/lfs-gc/desnoyers
 * Analytic write amplification from Desnoyers, "Analytic Modeling of SSD Write Performance"
 * (SYSTOR 2012), the yardstick the simulator is validated against. Notation: T physical
 * blocks, U logical blocks, spare factor Sf = (T - U) / T, α = T / U = 1 / (1 - Sf),
 * Np blocks per segment.
 *
 * - FIFO (LRW), uniform overwrites: a block survives one trip round the log with probability
 *   X0 = e^{-α(1 - X0)} (the non-trivial root, X0 = -W(-α e^{-α}) / α), and A = 1 / (1 - X0).
 * - Greedy, uniform: the steady-state distribution of valid counts over segments. Segments
 *   flow down one level per invalidation with equal flux through every level above the
 *   cleaning level j, so n_i ∝ 1/i there; the page and segment balances then fix j (and the
 *   fraction of victims taken one level lower). As Np grows it tends to the LRW result,
 *   Desnoyers' observation that greedy and LRW converge for large segments.
 * - FIFO, hot/cold (or any mix of classes k with data fraction f_k taking write fraction
 *   r_k): each class survives the trip with its own probability, which gives the fixed point
 *   A = Σ_k r_k / (1 - e^{-α r_k / (f_k A)}).
 */
import { ErrorCode, KmlibError } from "../../errors.ts";

function alphaOf(spareFactor: number): number {
  if (!(spareFactor > 0 && spareFactor < 1)) throw new KmlibError(ErrorCode.InvalidArgument, `spare factor must lie in (0, 1): ${spareFactor}`);
  return 1 / (1 - spareFactor);
}

/** Bisection for a sign change of `f` on [lo, hi]. */
function bisect(f: (x: number) => number, lo: number, hi: number): number {
  let flo = f(lo);
  for (let i = 0; i < 200; i++) {
    const mid = (lo + hi) / 2;
    const fm = f(mid);
    if (fm === 0) return mid;
    if (fm < 0 === flo < 0) {
      lo = mid;
      flo = fm;
    } else hi = mid;
  }
  return (lo + hi) / 2;
}

/** Fraction of a FIFO victim still valid under uniform overwrites (the model's X0). */
export function lrwValidFraction(spareFactor: number): number {
  const a = alphaOf(spareFactor);
  // f(0) < 0 and f > 0 just below 1; the trivial root x = 1 is excluded.
  return bisect((x) => x - Math.exp(-a * (1 - x)), 0, 1 - 1e-12);
}

/** Write amplification of FIFO (LRW) cleaning under uniform random overwrites. */
export function lrwUniformWa(spareFactor: number): number {
  return 1 / (1 - lrwValidFraction(spareFactor));
}

/** Write amplification of greedy cleaning under uniform overwrites with `np` blocks per segment. */
export function greedyUniformWa(spareFactor: number, np: number): number {
  const a = alphaOf(spareFactor);
  if (!Number.isInteger(np) || np < 2) throw new KmlibError(ErrorCode.InvalidArgument, `blocks per segment must be an integer >= 2: ${np}`);
  // H[j] = harmonic numbers; D(j) = H[np] - H[j].
  const h = new Float64Array(np + 1);
  for (let i = 1; i <= np; i++) h[i] = h[i - 1]! + 1 / i;
  // With victims taken at level j, the segment balance needs α = L(j) = np (H_np - H_j) /
  // (np - j), which grows as j falls: find j with L(j) <= α < L(j - 1).
  const level = (j: number): number => (np * (h[np]! - h[j]!)) / (np - j);
  let j = np - 1;
  while (j > 0 && level(j - 1) <= a) j--;
  if (j === 0) return 1; // so much spare that victims hold nothing
  // Between levels: a fraction μ of victims decays one level below j before it is taken.
  const d = h[np]! - h[j]!;
  const mu = Math.min(1 / j, Math.max(0, (a * (np - j) - np * d) / (np - a * j)));
  const victimValid = j * (1 - mu);
  return np / (np - victimValid);
}

export interface DataClass {
  /** Fraction of the logical data in this class. */
  dataFraction: number;
  /** Fraction of the host writes going to it. */
  writeFraction: number;
}

/** Write amplification of FIFO cleaning with one log shared by several classes of data. */
export function lrwMixedWa(spareFactor: number, classes: readonly DataClass[]): number {
  const a = alphaOf(spareFactor);
  const sumF = classes.reduce((s, c) => s + c.dataFraction, 0);
  const sumR = classes.reduce((s, c) => s + c.writeFraction, 0);
  if (Math.abs(sumF - 1) > 1e-9 || Math.abs(sumR - 1) > 1e-9) throw new KmlibError(ErrorCode.InvalidArgument, "class fractions must each sum to 1");
  const f = (wa: number): number => classes.reduce((s, c) => s + c.writeFraction / -Math.expm1((-a * c.writeFraction) / (c.dataFraction * wa)), 0) - wa;
  return bisect(f, 1, 1e6);
}

/** The hot/cold special case: `hotWrites` of the writes go to `hotData` of the data. */
export function lrwHotColdWa(spareFactor: number, hotWrites: number, hotData: number): number {
  return lrwMixedWa(spareFactor, [
    { dataFraction: hotData, writeFraction: hotWrites },
    { dataFraction: 1 - hotData, writeFraction: 1 - hotWrites },
  ]);
}
