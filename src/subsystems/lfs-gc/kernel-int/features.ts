/**
 * @module subsystems/lfs-gc/kernel-int/features
 * The per-write features of the lifetime table in integers: the integer twins of
 * `decayedActivity` and `lifetimeCell` (policies/ml-lifetime.ts), as the GC's kernel side
 * computes them (see `README.md` beside this file for the formats and their ranges).
 *
 * - Activity is unsigned Q16 (act × 2^16) in a u32, saturating at 2^32 - 1 (act < 65536).
 * - Its decay exp(-interval / τ), τ = DECAY × U, is 2^-y with y = interval·log2(e)/τ in Q26:
 *   the integer part of y is a right shift, the fraction a 1024-entry Q31 table of 2^(-h/1024)
 *   times 1 - m + m²/2 for the last 16 bits (m < 2^-10·ln 2, so the error is below 2^-32).
 * - Cells compare against thresholds instead of taking logarithms: the interval bucket is
 *   1 + #{k in 1..24 : interval ≥ T_k} with T_k the least integer t where 64t/U ≥ 2^(k/2)
 *   (computed exactly, in BigInt, once per device), the activity bucket #{k in 1..15 :
 *   A ≥ ⌈2^(16 + k/2)⌉}. Both equal the float floor(2·log2(·)) bucket exactly in exact
 *   arithmetic; the float version differs only where its rounded log2 lands on the other side
 *   of a bucket edge (counted by the tests).
 */
import { ErrorCode, KmlibError } from "../../../errors.ts";
import { DECAY, LIFETIME_CELLS } from "../policies/ml-lifetime.ts";
import { POW2 as POW2_, mulShr as mulShr_, udiv as udiv_ } from "./arith.ts";

// tsx reads imported bindings through getters on every use: bind the hot ones once.
const POW2 = POW2_, mulShr = mulShr_, udiv = udiv_;

/** Interval buckets (0: first write) and activity buckets, as in policies/ml-lifetime.ts. */
export const INTERVAL_BUCKETS = 26;
export const COUNT_BUCKETS = 16;
if (INTERVAL_BUCKETS * COUNT_BUCKETS !== LIFETIME_CELLS) throw new Error("kernel-int features: bucket counts disagree with LIFETIME_CELLS");

/** Fraction bits of the activity; one write is ACT_ONE. */
export const ACT_FRAC = 16;
export const ACT_ONE = 1 << ACT_FRAC;
export const ACT_MAX = 0xffff_ffff;
/** Fraction bits of the decay exponent y; rows of the 2^-x table and their width. */
export const Y_FRAC = 26;
export const EXP_BITS = 10;
export const EXP_ROWS = 1 << EXP_BITS;
const LOW_BITS = Y_FRAC - EXP_BITS;
/** log2(e) in Q21 and ln(2) in Q36: their products with a Q26 / 16-bit operand stay < 2^53. */
export const LOG2E_Q21 = Math.round(Math.LOG2E * 2 ** 21);
export const LN2_Q36 = Math.round(Math.LN2 * 2 ** 36);
/** Intervals of at least this many τ decay the previous activity to nothing. */
export const DECAY_HORIZON = 32;
/** Largest device (τ) the Q26 decay step keeps exact: ri·2^26 < 2^52. */
export const MAX_TAU = 2 ** 26;

/** 2^(-h/1024) in Q31, h = 0..1023 (entry 0 is exactly 2^31). */
export const EXP_TABLE: Uint32Array = (() => {
  const t = new Uint32Array(EXP_ROWS);
  for (let h = 0; h < EXP_ROWS; h++) t[h] = Math.round(2 ** 31 * 2 ** (-h / EXP_ROWS));
  return t;
})();

/** ⌈2^(16 + k/2)⌉ for k = 1..15: the least Q16 activity in bucket k (exact, BigInt isqrt). */
export const ACT_THRESHOLDS: readonly number[] = Array.from({ length: COUNT_BUCKETS - 1 }, (_, i) => Number(ceilSqrt(1n << BigInt(32 + i + 1))));

function isqrtBig(n: bigint): bigint {
  if (n < 2n) return n;
  let x = BigInt(Math.floor(Math.sqrt(Number(n))));
  while (x * x > n) x--;
  while ((x + 1n) * (x + 1n) <= n) x++;
  return x;
}
function ceilSqrt(n: bigint): bigint {
  const s = isqrtBig(n);
  return s * s === n ? s : s + 1n;
}

/**
 * Least integer t with 64t/u ≥ 2^(k/2), i.e. (64t)² ≥ u²·2^k, for k = 1..INTERVAL_BUCKETS-2.
 */
export function intervalThresholds(u: number): number[] {
  const out: number[] = [];
  const U = BigInt(u);
  for (let k = 1; k <= INTERVAL_BUCKETS - 2; k++) {
    // 64t ≥ ⌈sqrt(u²·2^k)⌉ ⇔ t ≥ ⌈⌈sqrt(u²·2^k)⌉ / 64⌉
    const r = ceilSqrt(U * U * (1n << BigInt(k)));
    out.push(Number((r + 63n) / 64n));
  }
  return out;
}

/** What the feature step needs of one device: τ and its interval thresholds. */
export class FeatureConfig {
  readonly tau: number;
  readonly intervalThresholds: Float64Array;

  constructor(readonly logicalBlocks: number) {
    const tau = DECAY * logicalBlocks;
    if (!Number.isInteger(tau) || tau < 1 || tau > MAX_TAU) {
      throw new KmlibError(ErrorCode.InvalidArgument, `kernel-int features: decay constant ${tau} (DECAY x logical blocks) must be an integer in [1, 2^26]`);
    }
    this.tau = tau;
    this.intervalThresholds = Float64Array.from(intervalThresholds(logicalBlocks));
  }
}

/** exp(-interval / τ) in Q31 (0 < interval < DECAY_HORIZON·τ). */
export function decayFactorQ31(interval: number, tau: number): number {
  const qi = udiv(interval, tau);
  const ri = interval - qi * tau;
  const t = qi * 2 ** Y_FRAC + udiv(ri * 2 ** Y_FRAC, tau); // interval / τ, Q26, < 2^31
  const y = Math.floor((t * LOG2E_Q21) / 2 ** 21); // t · log2(e), Q26
  const n = Math.floor(y / 2 ** Y_FRAC);
  const x = y - n * 2 ** Y_FRAC; // no `%`: on doubles it is a slow fmod
  const h = Math.floor(x / 2 ** LOW_BITS);
  const l = x - h * 2 ** LOW_BITS;
  const m = Math.floor((l * LN2_Q36) / 2 ** 30); // l·ln2, Q32, < 2^22
  const g = 2 ** 32 - m + Math.floor((m * m) / 2 ** 33); // e^(-l·ln2), Q32
  const f = mulShr(g, EXP_TABLE[h]!, 32); // 2^-x, Q31
  return Math.floor(f / POW2[n]!);
}

/** Q16 activity after a write `interval` after the previous one (interval ≤ 0: first write). */
export function decayActivityQ16(previous: number, interval: number, tau: number): number {
  if (interval <= 0 || interval >= DECAY_HORIZON * tau) return ACT_ONE;
  const a = mulShr(previous, decayFactorQ31(interval, tau), 31) + ACT_ONE;
  return a > ACT_MAX ? ACT_MAX : a;
}

/**
 * Interval bucket: 0 for a first write (interval ≤ 0), else 1 + thresholds reached (they
 * ascend, so the first one missed ends the count, as in the eBPF program).
 */
export function intervalBucket(interval: number, thresholds: Float64Array): number {
  if (interval <= 0) return 0;
  let k = 0;
  while (k < thresholds.length && interval >= thresholds[k]!) k++;
  return 1 + k;
}

const ACT_T = Float64Array.from(ACT_THRESHOLDS);

/** Activity bucket of a Q16 activity. */
export function activityBucket(actQ16: number): number {
  let k = 0;
  while (k < ACT_T.length && actQ16 >= ACT_T[k]!) k++;
  return k;
}

/** Table cell of a write, the twin of `lifetimeCell(interval, actQ16 / 2^16, u)`. */
export function cellQ(interval: number, actQ16: number, cfg: FeatureConfig): number {
  return intervalBucket(interval, cfg.intervalThresholds) * COUNT_BUCKETS + activityBucket(actQ16);
}
