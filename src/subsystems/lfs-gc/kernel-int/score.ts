/**
 * @module subsystems/lfs-gc/kernel-int/score
 * The victim score and the rate quantities of `policies/lifetime.ts` in integers.
 *
 * - A block's predicted overwrite rate is Q40 (the unit the `gc-segment-state` dataset already
 *   publishes): floor(2^40 / L) for its life L clamped to [1, HORIZON_CAP·U]; per-segment sums
 *   are exact integers below blocksPerSegment·2^40 ≤ 2^52.
 * - The score is (1-u)·√R/(1+u) × 2^32, floored, as an integer below 2^52, R the expected
 *   remaining life (`remainingFromRates`, capped at 2^40 host writes). R is carried as a
 *   mantissa of 26+ bits and a binary exponent, the mantissa normalised to [2^50, 2^52) with
 *   an even exponent so its integer square root keeps 25 bits; the staleness test
 *   quiet·S > STALE_GAPS·2^40 becomes quiet > floor(STALE_GAPS·2^40 / S) (STALE_GAPS taken in
 *   1/256ths), which needs no product; a stale segment's R is v·quiet. Scores compare as plain integers; the model's confidence over the
 *   default's is taken in Q16 from the two scores.
 */
import { STALE_GAPS } from "../policies/lifetime.ts";
import { POW2 as POW2_, bitLength as bitLength_, isqrt as isqrt_, shift as shift_, udiv as udiv_ } from "./arith.ts";

// tsx reads imported bindings through getters on every use: bind the hot ones once.
const POW2 = POW2_, bitLength = bitLength_, isqrt = isqrt_, shift = shift_, udiv = udiv_;

/** Fraction bits of rates and rate sums. */
export const RATE_FRAC = 40;
export const RATE_ONE = 2 ** RATE_FRAC;
/** Lives beyond this many logical devices' worth of writes count as this far (lifetime.ts). */
export const HORIZON_CAP = 64;
/** Remaining lives are capped here (a quiet time beyond it counts as it). */
export const R_CAP = 2 ** 40;
/** Fraction bits of the score. */
export const SCORE_FRAC = 32;
/** Largest blocks per segment: keeps rate sums and the score's products below 2^53. */
export const MAX_BLOCKS_PER_SEGMENT = 4096;
/** Score of a segment with no valid block: above every other (the ledger takes it at once). */
export const SCORE_EMPTY = 2 ** 53 - 1;
/** Fraction bits of the confidence. */
export const CONF_FRAC = 16;
/** STALE_GAPS in 1/256ths (exact for the integer rule constants). */
export const STALE_GAPS_Q8 = Math.round(STALE_GAPS * 256);

/** Q40 overwrite rate of a block expected to live `life` more host writes on a device of `u` blocks. */
export function rateQ40(life: number, u: number): number {
  const cap = HORIZON_CAP * u;
  const l = life < 1 ? 1 : life > cap ? cap : life;
  // Lives come from the u32 table or from ages: integers. The unquantised-table comparison
  // (proxy/bench.ts) is the only caller with fractional lives.
  return Number.isInteger(l) ? udiv(RATE_ONE, l) : Math.floor(RATE_ONE / l);
}

/** A life clamped as the ledger stores it: [1, HORIZON_CAP·U]. */
export function clampLife(life: number, u: number): number {
  const cap = HORIZON_CAP * u;
  return life < 1 ? 1 : life > cap ? cap : life;
}

/**
 * The longest quiet time a segment with Q40 rate sum `s` is judged by its rates:
 * quiet·s/2^40 > STALE_GAPS ⇔ quiet > floor(256·STALE_GAPS·2^32 / s). Infinite for s = 0.
 */
export function freshUntil(s: number): number {
  return s > 0 ? udiv(STALE_GAPS_Q8 * 2 ** 32, s) : Infinity;
}

/**
 * Victim score of a sealed segment of `b` blocks with `v` ≤ b valid, their Q40 rates summing
 * to `s`, quiet for `quiet` host writes: floor((b-v)/(b+v)·√R·2^32) to within the quantisation.
 */
export function segmentScore(v: number, b: number, s: number, quiet: number): number {
  if (v === 0) return SCORE_EMPTY;
  let x: number, e: number;
  // Stale: R = v·quiet.
  if (quiet > freshUntil(s)) {
    x = v * (quiet < R_CAP ? quiet : R_CAP);
    if (x > R_CAP) x = R_CAP;
    e = 0;
  } else if (s < v) {
    x = R_CAP; // R = v·2^40/s > 2^40
    e = 0;
  } else {
    const k = Math.max(0, bitLength(s) - 26);
    const a = 52 - bitLength(v);
    x = udiv(v * POW2[a]!, shift(s, -k)); // R ≈ x·2^(40-a-k), x ≥ 2^25
    e = 40 - a - k;
  }
  let l = 51 - bitLength(x);
  if ((e - l) % 2 !== 0) l++;
  x = shift(x, l); // [2^50, 2^52), exponent even
  e -= l;
  const y = isqrt(x); // √R ≈ y·2^(e/2)
  const z = udiv((b - v) * y * 2 ** 13, b + v);
  return shift(z, e / 2 + SCORE_FRAC - 13);
}

/** 1 - sd/sm in Q16, clamped to [0, 2^16] (sm, sd: integer scores). */
export function confidenceQ16(sm: number, sd: number): number {
  if (sm <= 0) return 0;
  if (sd >= sm) return 0;
  // Drop low bits so (sm - sd)·2^16 stays below 2^53.
  const k = Math.max(0, bitLength(sm) - 36);
  const den = shift(sm, -k);
  return Math.min(2 ** CONF_FRAC, udiv(shift(sm - sd, -k) * 2 ** CONF_FRAC, den));
}

/** Log of a block expected to live `life` more host writes: the twin of `lifetimeClass`. */
export function lifeClassQ(life: number, u: number, logs: number): number {
  const x = life * 32; // exact: a power-of-two product
  if (logs <= 1 || !(x >= u)) return 0;
  let c = 1;
  let t = u * 4;
  while (c < logs - 1 && x >= t) {
    c++;
    t *= 4;
  }
  return c;
}
