/**
 * @module subsystems/lfs-gc/policies/lifetime-features
 * The features of the learned lifetime table, in floats: what selects a block's cell when it
 * is written. The integer twins the kernel side runs are in `kernel-int/features.ts`.
 *
 * A cell is the composite ((region·LONG_BUCKETS + long)·INTERVAL_BUCKETS + interval)·COUNT_BUCKETS
 * + activity of four buckets:
 * - interval: the host writes since the block's previous write (0: first write), half-octaves
 *   from U/64 up;
 * - activity: the block's write count decayed by e every DECAY devices' worth (U) of host
 *   writes, half-octaves;
 * - long: the block's write count decayed over LONG_DECAY·U, octaves of its rate against one
 *   write per U (thresholds 2, 4, 8, 16, 32 writes). A block that was hot for a long time and
 *   is cold now is told from one always cold: under phase changes their futures differ;
 * - region: the write count of the block's region (one of REGIONS contiguous ranges of
 *   logical blocks) decayed over REGION_DECAY·U, octaves against an average region. A block
 *   whose neighbours just turned hot most likely did too: the first write after a phase switch
 *   is no longer a cold write in disguise (hot sets of real and synthetic workloads are
 *   contiguous, or made of contiguous files).
 * The first two are the block's short-term history (the "recent cell", RECENT_CELLS of them).
 * Buckets are counted by comparisons against thresholds, as the kernel's twin does, so both
 * agree wherever their activities agree.
 */

/** Interval buckets: 0 = no previous write, then half-octaves from U/64 up. */
export const INTERVAL_BUCKETS = 26;
/** Recent-activity buckets: half-octaves of the block's decayed write count. */
export const COUNT_BUCKETS = 16;
/** Cells of a block's short-term history (interval × recent activity). */
export const RECENT_CELLS = INTERVAL_BUCKETS * COUNT_BUCKETS;
/** Long-term activity buckets. */
export const LONG_BUCKETS = 6;
/** Region activity buckets. */
export const REGION_BUCKETS = 4;
/** Cells of the table. */
export const LIFETIME_CELLS = REGION_BUCKETS * LONG_BUCKETS * RECENT_CELLS;
/** Cells sharing one region bucket (what a relocated block keeps when its region is read again). */
export const REGION_STRIDE = LONG_BUCKETS * RECENT_CELLS;
/** Time constant of the decayed write count, in logical devices' worth of host writes. */
export const DECAY = 1;
/** Time constant of the long-term write count, in devices' worth of host writes. */
export const LONG_DECAY = 8;
/** Regions of the logical address space. */
export const REGIONS = 64;
/** Time constant of a region's write count, in devices' worth of host writes. */
export const REGION_DECAY = 0.1;

/** Long bucket k ≥ 1 starts at LONG_DECAY·2^(k - LONG_BUCKETS/2) writes (a rate of 2^(k-3) per U). */
export const LONG_THRESHOLDS: readonly number[] = Array.from({ length: LONG_BUCKETS - 1 }, (_, i) => LONG_DECAY * 2 ** (i + 1 - LONG_BUCKETS / 2));

/**
 * Recent cell of a block written `interval` host writes after its previous write (-1: first
 * write), with `activity` its write count decayed by e every DECAY devices' worth of writes,
 * on a device of `u` logical blocks.
 */
export function recentCell(interval: number, activity: number, u: number): number {
  let ib = 0;
  if (interval > 0) {
    const x = Math.floor(2 * Math.log2((interval * 64) / u)) + 1;
    ib = x < 1 ? 1 : x >= INTERVAL_BUCKETS ? INTERVAL_BUCKETS - 1 : x;
  }
  const a = Math.floor(2 * Math.log2(activity));
  const cb = a < 0 ? 0 : a >= COUNT_BUCKETS ? COUNT_BUCKETS - 1 : a;
  return ib * COUNT_BUCKETS + cb;
}

/** Interval bucket of a cell (composite or recent). */
export const intervalBucketOf = (cell: number): number => Math.floor((cell % RECENT_CELLS) / COUNT_BUCKETS);

/** The composite cell of a region bucket, a long bucket and a recent cell. */
export const composeCell = (region: number, long: number, recent: number): number => (region * LONG_BUCKETS + long) * RECENT_CELLS + recent;

/** `cell` with its region bucket replaced by `region`. */
export const withRegion = (cell: number, region: number): number => (cell % REGION_STRIDE) + region * REGION_STRIDE;

/** A block's decayed write count after a write `interval` after its previous one (-1: first), time constant decay·U. */
export function decayedActivity(previous: number, interval: number, u: number, decay = DECAY): number {
  return (interval > 0 ? previous * Math.exp(-interval / (decay * u)) : 0) + 1;
}

/** Long bucket of a long-term write count (time constant LONG_DECAY·U). */
export function longBucket(longActivity: number): number {
  let k = 0;
  while (k < LONG_THRESHOLDS.length && longActivity >= LONG_THRESHOLDS[k]!) k++;
  return k;
}

/** A region's time constant in host writes: an integer, so the kernel's twin decays by the same. */
export const regionTau = (u: number): number => Math.max(1, Math.round(REGION_DECAY * u));

/** Least s ≥ 0 with REGIONS·2^s ≥ u: region = lba >> s (at most REGIONS regions). */
export function regionShift(u: number): number {
  let s = 0;
  while (REGIONS * 2 ** s < u) s++;
  return s;
}

/**
 * Region bucket of a region's decayed write count: octaves of count·REGIONS/τ (1 = a region
 * written as often as the average one), bucket k ≥ 1 from 2^(k - REGION_BUCKETS/2) on.
 */
export function regionBucket(count: number, tau: number): number {
  let k = 0;
  while (k < REGION_BUCKETS - 1 && count * REGIONS >= tau * 2 ** (k + 1 - REGION_BUCKETS / 2)) k++;
  return k;
}

/** Per-region write counts, decayed over REGION_DECAY devices' worth of host writes. */
export class RegionActivity {
  readonly count = new Float64Array(REGIONS);
  readonly updated = new Float64Array(REGIONS);
  readonly tau: number;
  readonly shift: number;

  constructor(readonly logicalBlocks: number) {
    this.tau = regionTau(logicalBlocks);
    this.shift = regionShift(logicalBlocks);
  }

  /** The region's count decayed to `now` (no decay for now ≤ its last update). */
  #decayed(r: number, now: number): number {
    const dt = now - this.updated[r]!;
    return dt > 0 ? this.count[r]! * Math.exp(-dt / this.tau) : this.count[r]!;
  }

  /** Counts a host write to `lba` at `now`; returns its region's bucket, the write counted. */
  write(lba: number, now: number): number {
    const r = lba >> this.shift;
    const c = (this.count[r] = this.#decayed(r, now) + 1);
    if (now > this.updated[r]!) this.updated[r] = now;
    return regionBucket(c, this.tau);
  }

  /** The bucket of `lba`'s region at `now`, nothing counted and nothing stored. */
  peek(lba: number, now: number): number {
    return regionBucket(this.#decayed(lba >> this.shift, now), this.tau);
  }

  clone(): RegionActivity {
    const c = new RegionActivity(this.logicalBlocks);
    c.count.set(this.count);
    c.updated.set(this.updated);
    return c;
  }
}
