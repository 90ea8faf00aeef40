/**
 * @module subsystems/lfs-gc/kernel-int/record
 * The contract between the generated eBPF programs (`gen.ts`) and their TypeScript twins: the
 * maps' layouts, the test-run records (little-endian u64 words, the XDP packet of
 * BPF_PROG_TEST_RUN, outputs written in place) and what each program must compute for a
 * record, in the twins' own functions.
 *
 * - `gc_cfg`: ARRAY, one element: τ and its decay horizon DECAY_HORIZON·τ, the life cap
 *   HORIZON_CAP·U, the long τ and its horizon, the region τ, its horizon and the region shift,
 *   the 3 region thresholds and the 24 interval thresholds (u64), the 1024-row 2^-x table (u32).
 * - `gc_life`: ARRAY, LIFETIME_CELLS elements of u32: the deployed lifetime table.
 * - `gc_region`: ARRAY, REGIONS elements of {Q8 count, last update} (u64 each): the kernel's
 *   per-region state, shared by every block of a region, updated by each host write.
 * - Feature record (a host write): interval (0: first write), previous Q16 activity, previous
 *   Q16 long activity, lba, now | new activity, new long activity, region bucket, cell,
 *   predicted life, Q40 rate.
 * - Relocation record (GC moves a block): lba, now, the block's cell | region bucket of now,
 *   cell with that bucket, predicted life, Q40 rate (the region state is read, not written).
 * - Score record: valid, blocks per segment, Q40 rate sum, quiet time | score.
 */
import { withRegion } from "../policies/lifetime-features.ts";
import { DECAY_HORIZON, EXP_ROWS, EXP_TABLE, INTERVAL_BUCKETS, REGION_BUCKETS, type FeatureConfig, type IntRegionActivity, cellQ, decayActivityQ16 } from "./features.ts";
import { HORIZON_CAP, rateQ40, segmentScore } from "./score.ts";

export const MapNames = { config: "gc_cfg", life: "gc_life", region: "gc_region" } as const;

const REGION_T = 64, INTERVAL_T = REGION_T + 8 * (REGION_BUCKETS - 1), EXP_T = INTERVAL_T + 8 * (INTERVAL_BUCKETS - 2);
/** Byte offsets inside the `gc_cfg` value. */
export const ConfigLayout = {
  tau: 0,
  horizon: 8,
  lifeCap: 16,
  longTau: 24,
  longHorizon: 32,
  regionTau: 40,
  regionHorizon: 48,
  regionShift: 56,
  regionThresholds: REGION_T,
  thresholds: INTERVAL_T,
  exp: EXP_T,
  size: EXP_T + 4 * EXP_ROWS,
} as const;

/** Byte offsets inside a `gc_region` value. */
export const RegionLayout = { count: 0, updated: 8, size: 16 } as const;

/** Byte offsets of the feature record. */
export const FeatureRecord = {
  interval: 0, prevActivity: 8, prevLong: 16, lba: 24, now: 32, activity: 40, long: 48, region: 56, cell: 64, life: 72, rate: 80, size: 88,
} as const;
/** Byte offsets of the relocation record. */
export const RelocateRecord = { lba: 0, now: 8, cell: 16, region: 24, newCell: 32, life: 40, rate: 48, size: 56 } as const;
/** Byte offsets of the score record. */
export const ScoreRecord = { valid: 0, blocksPerSegment: 8, rateSum: 16, quiet: 24, score: 32, size: 40 } as const;

/** The `gc_cfg` value for a device. */
export function encodeConfig(cfg: FeatureConfig): Uint8Array {
  const out = new Uint8Array(ConfigLayout.size);
  const dv = new DataView(out.buffer);
  dv.setBigUint64(ConfigLayout.tau, BigInt(cfg.tau), true);
  dv.setBigUint64(ConfigLayout.horizon, BigInt(DECAY_HORIZON * cfg.tau), true);
  dv.setBigUint64(ConfigLayout.lifeCap, BigInt(HORIZON_CAP * cfg.logicalBlocks), true);
  dv.setBigUint64(ConfigLayout.longTau, BigInt(cfg.longTau), true);
  dv.setBigUint64(ConfigLayout.longHorizon, BigInt(DECAY_HORIZON * cfg.longTau), true);
  dv.setBigUint64(ConfigLayout.regionTau, BigInt(cfg.regionTau), true);
  dv.setBigUint64(ConfigLayout.regionHorizon, BigInt(DECAY_HORIZON * cfg.regionTau), true);
  dv.setBigUint64(ConfigLayout.regionShift, BigInt(cfg.regionShift), true);
  cfg.regionThresholds.forEach((t, k) => dv.setBigUint64(ConfigLayout.regionThresholds + 8 * k, BigInt(t), true));
  cfg.intervalThresholds.forEach((t, k) => dv.setBigUint64(ConfigLayout.thresholds + 8 * k, BigInt(t), true));
  EXP_TABLE.forEach((e, h) => dv.setUint32(ConfigLayout.exp + 4 * h, e, true));
  return out;
}

export interface FeatureIn {
  readonly interval: number;
  readonly prevActivity: number;
  readonly prevLong: number;
  readonly lba: number;
  readonly now: number;
}

export interface FeatureOut {
  readonly activity: number;
  readonly long: number;
  readonly region: number;
  readonly cell: number;
  readonly life: number;
  readonly rate: number;
}

export interface RelocateOut {
  readonly region: number;
  readonly cell: number;
  readonly life: number;
  readonly rate: number;
}

/** What the feature program computes for one record (interval 0: a first write); counts the write in `regions`. */
export function featureStep(r: FeatureIn, cfg: FeatureConfig, table: Uint32Array, regions: IntRegionActivity): FeatureOut {
  const activity = decayActivityQ16(r.prevActivity, r.interval, cfg.tau);
  const long = decayActivityQ16(r.prevLong, r.interval, cfg.longTau);
  const region = regions.write(r.lba, r.now);
  const cell = cellQ(r.interval, activity, long, region, cfg);
  const life = table[cell]!;
  return { activity, long, region, cell, life, rate: rateQ40(life, cfg.logicalBlocks) };
}

/** What the relocation program computes for a block of `cell` moved at `now` (`regions` only read). */
export function relocateStep(lba: number, now: number, cell: number, cfg: FeatureConfig, table: Uint32Array, regions: IntRegionActivity): RelocateOut {
  const region = regions.peek(lba, now);
  const c = withRegion(cell, region);
  const life = table[c]!;
  return { region, cell: c, life, rate: rateQ40(life, cfg.logicalBlocks) };
}

/** What the score program computes for one record. */
export function scoreStep(valid: number, blocksPerSegment: number, rateSum: number, quiet: number): number {
  return segmentScore(valid, blocksPerSegment, rateSum, quiet);
}

function record(size: number, words: readonly number[]): Uint8Array {
  const out = new Uint8Array(size);
  const dv = new DataView(out.buffer);
  words.forEach((w, i) => dv.setBigUint64(8 * i, BigInt(w), true));
  return out;
}

export const encodeFeatureRecord = (r: FeatureIn): Uint8Array => record(FeatureRecord.size, [r.interval, r.prevActivity, r.prevLong, r.lba, r.now]);
export const encodeRelocateRecord = (lba: number, now: number, cell: number): Uint8Array => record(RelocateRecord.size, [lba, now, cell]);
export const encodeScoreRecord = (valid: number, b: number, rateSum: number, quiet: number): Uint8Array => record(ScoreRecord.size, [valid, b, rateSum, quiet]);

const word = (rec: Uint8Array, off: number): number => Number(new DataView(rec.buffer, rec.byteOffset, rec.byteLength).getBigUint64(off, true));

export function decodeFeatureRecord(rec: Uint8Array): FeatureOut {
  const F = FeatureRecord;
  return { activity: word(rec, F.activity), long: word(rec, F.long), region: word(rec, F.region), cell: word(rec, F.cell), life: word(rec, F.life), rate: word(rec, F.rate) };
}
export function decodeRelocateRecord(rec: Uint8Array): RelocateOut {
  const R = RelocateRecord;
  return { region: word(rec, R.region), cell: word(rec, R.newCell), life: word(rec, R.life), rate: word(rec, R.rate) };
}
/** A `gc_region` value as {count, updated}. */
export function decodeRegion(v: Uint8Array): { count: number; updated: number } {
  return { count: word(v, RegionLayout.count), updated: word(v, RegionLayout.updated) };
}
export const decodeScore = (rec: Uint8Array): number => word(rec, ScoreRecord.score);
