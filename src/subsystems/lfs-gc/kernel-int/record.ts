/**
 * @module subsystems/lfs-gc/kernel-int/record
 * The contract between the generated eBPF programs (`gen.ts`) and their TypeScript twins: the
 * maps' layouts, the test-run records (little-endian u64 words, the XDP packet of
 * BPF_PROG_TEST_RUN, outputs written in place) and what each program must compute for a
 * record, in the twins' own functions.
 *
 * - `gc_cfg`: ARRAY, one element: τ, the decay horizon DECAY_HORIZON·τ, the life cap
 *   HORIZON_CAP·U, the 24 interval thresholds (u64) and the 1024-row 2^-x table (u32).
 * - `gc_life`: ARRAY, LIFETIME_CELLS elements of u32: the deployed lifetime table.
 * - Feature record: interval (0: first write), previous Q16 activity | new activity, cell,
 *   predicted life, Q40 rate.
 * - Score record: valid, blocks per segment, Q40 rate sum, quiet time | score.
 */
import { DECAY_HORIZON, EXP_ROWS, EXP_TABLE, INTERVAL_BUCKETS, type FeatureConfig, cellQ, decayActivityQ16 } from "./features.ts";
import { HORIZON_CAP, rateQ40, segmentScore } from "./score.ts";

export const MapNames = { config: "gc_cfg", life: "gc_life" } as const;

/** Byte offsets inside the `gc_cfg` value. */
export const ConfigLayout = {
  tau: 0,
  horizon: 8,
  lifeCap: 16,
  thresholds: 24,
  exp: 24 + 8 * (INTERVAL_BUCKETS - 2),
  size: 24 + 8 * (INTERVAL_BUCKETS - 2) + 4 * EXP_ROWS,
} as const;

/** Byte offsets of the feature record. */
export const FeatureRecord = { interval: 0, prevActivity: 8, activity: 16, cell: 24, life: 32, rate: 40, size: 48 } as const;
/** Byte offsets of the score record. */
export const ScoreRecord = { valid: 0, blocksPerSegment: 8, rateSum: 16, quiet: 24, score: 32, size: 40 } as const;

/** The `gc_cfg` value for a device. */
export function encodeConfig(cfg: FeatureConfig): Uint8Array {
  const out = new Uint8Array(ConfigLayout.size);
  const dv = new DataView(out.buffer);
  dv.setBigUint64(ConfigLayout.tau, BigInt(cfg.tau), true);
  dv.setBigUint64(ConfigLayout.horizon, BigInt(DECAY_HORIZON * cfg.tau), true);
  dv.setBigUint64(ConfigLayout.lifeCap, BigInt(HORIZON_CAP * cfg.logicalBlocks), true);
  cfg.intervalThresholds.forEach((t, k) => dv.setBigUint64(ConfigLayout.thresholds + 8 * k, BigInt(t), true));
  EXP_TABLE.forEach((e, h) => dv.setUint32(ConfigLayout.exp + 4 * h, e, true));
  return out;
}

export interface FeatureOut {
  readonly activity: number;
  readonly cell: number;
  readonly life: number;
  readonly rate: number;
}

/** What the feature program computes for one record (interval 0: a first write). */
export function featureStep(interval: number, prevActivity: number, cfg: FeatureConfig, table: Uint32Array): FeatureOut {
  const activity = decayActivityQ16(prevActivity, interval, cfg.tau);
  const cell = cellQ(interval, activity, cfg);
  const life = table[cell]!;
  return { activity, cell, life, rate: rateQ40(life, cfg.logicalBlocks) };
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

export const encodeFeatureRecord = (interval: number, prevActivity: number): Uint8Array => record(FeatureRecord.size, [interval, prevActivity]);
export const encodeScoreRecord = (valid: number, b: number, rateSum: number, quiet: number): Uint8Array => record(ScoreRecord.size, [valid, b, rateSum, quiet]);

const word = (rec: Uint8Array, off: number): number => Number(new DataView(rec.buffer, rec.byteOffset, rec.byteLength).getBigUint64(off, true));

export function decodeFeatureRecord(rec: Uint8Array): FeatureOut {
  return { activity: word(rec, FeatureRecord.activity), cell: word(rec, FeatureRecord.cell), life: word(rec, FeatureRecord.life), rate: word(rec, FeatureRecord.rate) };
}
export const decodeScore = (rec: Uint8Array): number => word(rec, ScoreRecord.score);
