/**
 * @module subsystems/lfs-gc/kernel-int/features
 * The per-write features of the lifetime table in integers: the integer twins of
 * `policies/lifetime-features.ts` (decayed activities, region counts, buckets, the composite
 * cell), as the GC's kernel side computes them (see `README.md` beside this file for the
 * formats and their ranges).
 *
 * - A block's recent and long-term activities are unsigned Q16 (act × 2^16) in a u32,
 *   saturating at 2^32 - 1 (act < 65536); a region's count is Q8 (its counts are large: an
 *   average region holds REGION_DECAY·U/REGIONS writes), saturating likewise.
 * - Every decay exp(-dt / τ) (τ = DECAY·U, LONG_DECAY·U or the region's τ) is 2^-y with
 *   y = dt·log2(e)/τ in Q26: the integer part of y is a right shift, the fraction a 1024-entry
 *   Q31 table of 2^(-h/1024) times 1 - m + m²/2 for the last 16 bits (m < 2^-10·ln 2, so the
 *   error is below 2^-32).
 * - Buckets compare against thresholds instead of taking logarithms: the interval bucket is
 *   1 + #{k in 1..24 : interval ≥ T_k} with T_k the least integer t where 64t/U ≥ 2^(k/2)
 *   (computed exactly, in BigInt, once per device), the activity bucket #{k in 1..15 :
 *   A ≥ ⌈2^(16 + k/2)⌉}, the long bucket #{k in 1..5 : L ≥ 2^(16 + k)}, the region bucket
 *   #{k in 1..3 : C ≥ τ_r·2^(k+1)} (C·64/τ_r ≥ 2^(k-2) in Q8). All equal the float buckets
 *   exactly in exact arithmetic; the float version differs only where its rounded log2 or its
 *   rounded activity lands on the other side of a bucket edge (counted by the tests).
 */
import { ErrorCode, KmlibError } from "../../../errors.ts";
import {
  COUNT_BUCKETS, DECAY, INTERVAL_BUCKETS, LIFETIME_CELLS, LONG_BUCKETS, LONG_DECAY, LONG_THRESHOLDS, RECENT_CELLS, REGION_BUCKETS, REGIONS,
  composeCell as composeCell_, regionShift, regionTau,
} from "../policies/lifetime-features.ts";
import { POW2 as POW2_, mulShr as mulShr_, udiv as udiv_ } from "./arith.ts";

// tsx reads imported bindings through getters on every use: bind the hot ones once.
const POW2 = POW2_, mulShr = mulShr_, udiv = udiv_, composeCell = composeCell_;

export { COUNT_BUCKETS, INTERVAL_BUCKETS, LONG_BUCKETS, RECENT_CELLS, REGION_BUCKETS, REGIONS };
if (REGION_BUCKETS * LONG_BUCKETS * RECENT_CELLS !== LIFETIME_CELLS) throw new Error("kernel-int features: bucket counts disagree with LIFETIME_CELLS");

/** Fraction bits of the activity; one write is ACT_ONE. */
export const ACT_FRAC = 16;
export const ACT_ONE = 1 << ACT_FRAC;
export const ACT_MAX = 0xffff_ffff;
/** Fraction bits of a region's count; one write is REGION_ONE. */
export const REGION_FRAC = 8;
export const REGION_ONE = 1 << REGION_FRAC;
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
/** Largest time constant: ri·2^26 < 2^58 in the kernel's u64; the twin splits it (see decayFactorQ31). */
export const MAX_TAU = 2 ** 32;
/** τ up to which ri·2^26 < 2^52 is exact in one double step. */
const DIRECT_TAU = 2 ** 26;

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

/** Q16 long activity at which long bucket k = 1..LONG_BUCKETS-1 starts (exact: powers of two times ACT_ONE). */
export const LONG_THRESHOLDS_Q16: readonly number[] = LONG_THRESHOLDS.map((t) => Math.ceil(t * ACT_ONE));

/** Q8 region count at which region bucket k = 1..REGION_BUCKETS-1 starts: ⌈τ·2^(k - REGION_BUCKETS/2)·2^8 / REGIONS⌉. */
export function regionThresholds(tau: number): number[] {
  return Array.from({ length: REGION_BUCKETS - 1 }, (_, i) => Math.ceil((tau * 2 ** (i + 1 - REGION_BUCKETS / 2) * REGION_ONE) / REGIONS));
}

function checkTau(tau: number, what: string): number {
  if (!Number.isInteger(tau) || tau < 1 || tau > MAX_TAU) {
    throw new KmlibError(ErrorCode.InvalidArgument, `kernel-int features: ${what} ${tau} must be an integer in [1, 2^32]`);
  }
  return tau;
}

/** What the feature step needs of one device: the three τ, the region shift and the bucket thresholds. */
export class FeatureConfig {
  readonly tau: number;
  readonly longTau: number;
  readonly regionTau: number;
  readonly regionShift: number;
  readonly intervalThresholds: Float64Array;
  readonly regionThresholds: Float64Array;

  constructor(readonly logicalBlocks: number) {
    this.tau = checkTau(DECAY * logicalBlocks, "decay constant (DECAY x logical blocks)");
    this.longTau = checkTau(LONG_DECAY * logicalBlocks, "long decay constant (LONG_DECAY x logical blocks)");
    this.regionTau = checkTau(regionTau(logicalBlocks), "region decay constant");
    this.regionShift = regionShift(logicalBlocks);
    this.intervalThresholds = Float64Array.from(intervalThresholds(logicalBlocks));
    this.regionThresholds = Float64Array.from(regionThresholds(this.regionTau));
  }
}

/** exp(-interval / τ) in Q31 (0 < interval < DECAY_HORIZON·τ). */
export function decayFactorQ31(interval: number, tau: number): number {
  const qi = udiv(interval, tau);
  const ri = interval - qi * tau;
  // floor(ri·2^26 / τ): one u64 division in the kernel; in doubles, past 2^52, two base-2^13 steps.
  let fr: number;
  if (tau <= DIRECT_TAU) fr = udiv(ri * 2 ** Y_FRAC, tau);
  else {
    const q1 = udiv(ri * 2 ** 13, tau);
    fr = q1 * 2 ** 13 + udiv((ri * 2 ** 13 - q1 * tau) * 2 ** 13, tau);
  }
  const t = qi * 2 ** Y_FRAC + fr; // interval / τ, Q26, < 2^31
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

/** A fixed-point count (< 2^32) decayed over `dt` (dt ≤ 0: unchanged; past the horizon: 0). */
export function decayQ(previous: number, dt: number, tau: number): number {
  if (dt <= 0) return previous;
  if (dt >= DECAY_HORIZON * tau) return 0;
  return mulShr(previous, decayFactorQ31(dt, tau), 31);
}

/** Q16 activity after a write `interval` after the previous one (interval ≤ 0: first write), time constant τ. */
export function decayActivityQ16(previous: number, interval: number, tau: number): number {
  if (interval <= 0) return ACT_ONE;
  const a = decayQ(previous, interval, tau) + ACT_ONE;
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

/** Recent cell of a write, the twin of `recentCell(interval, actQ16 / 2^16, u)`. */
export function recentCellQ(interval: number, actQ16: number, cfg: FeatureConfig): number {
  return intervalBucket(interval, cfg.intervalThresholds) * COUNT_BUCKETS + activityBucket(actQ16);
}

const LONG_T = Float64Array.from(LONG_THRESHOLDS_Q16);

/** Long bucket of a Q16 long-term activity. */
export function longBucketQ(longQ16: number): number {
  let k = 0;
  while (k < LONG_T.length && longQ16 >= LONG_T[k]!) k++;
  return k;
}

/** Region bucket of a Q8 region count. */
export function regionBucketQ(countQ8: number, cfg: FeatureConfig): number {
  const t = cfg.regionThresholds;
  let k = 0;
  while (k < t.length && countQ8 >= t[k]!) k++;
  return k;
}

/** Table cell of a write: the twin of `composeCell(region, longBucket(long), recentCell(...))`. */
export function cellQ(interval: number, actQ16: number, longQ16: number, region: number, cfg: FeatureConfig): number {
  return composeCell(region, longBucketQ(longQ16), recentCellQ(interval, actQ16, cfg));
}

/**
 * Per-region Q8 write counts and their last update, as the kernel's region ARRAY map holds
 * them: the twin of `RegionActivity`.
 */
export class IntRegionActivity {
  readonly count = new Float64Array(REGIONS);
  readonly updated = new Float64Array(REGIONS);

  constructor(readonly cfg: FeatureConfig) {}

  /** Counts a host write to `lba` at `now`; returns its region's bucket, the write counted. */
  write(lba: number, now: number): number {
    const r = Math.floor(lba / POW2[this.cfg.regionShift]!);
    const c = decayQ(this.count[r]!, now - this.updated[r]!, this.cfg.regionTau) + REGION_ONE;
    this.count[r] = c > ACT_MAX ? ACT_MAX : c;
    if (now > this.updated[r]!) this.updated[r] = now;
    return regionBucketQ(this.count[r]!, this.cfg);
  }

  /** The bucket of `lba`'s region at `now`, nothing counted and nothing stored. */
  peek(lba: number, now: number): number {
    const r = Math.floor(lba / POW2[this.cfg.regionShift]!);
    return regionBucketQ(decayQ(this.count[r]!, now - this.updated[r]!, this.cfg.regionTau), this.cfg);
  }

  clone(): IntRegionActivity {
    const c = new IntRegionActivity(this.cfg);
    c.count.set(this.count);
    c.updated.set(this.updated);
    return c;
  }
}
