/**
 * @module subsystems/lfs-gc/proxy/learner
 * The GC's model-thread logic, written once for both agents that run it: the simulation's
 * loop (`session.ts`) and `kmlib agent` (`agent-parts.ts`). It learns the lifetime table from
 * the published per-block history (`gc-block-history`), frames the quantised table as the
 * artefact the kernel side loads, and picks victims from a segment-state snapshot
 * (`gc-segment-state`) to send as a recommendation.
 */
import type { DatasetPortion } from "../../../agent/adapter.ts";
import { ErrorCode, KmlibError } from "../../../errors.ts";
import { lifeScore, remainingFromRates } from "../policies/lifetime.ts";
import { type LfsGcAdapter, RECOMMENDED_VICTIMS } from "./adapter.ts";
import { HISTORY_COLUMNS, RATE_SCALE, type SegmentRows } from "./datasets.ts";
import { type HistoryColumns, LifetimeTrainer, encodeTable } from "./table.ts";

/** The agent's victim choice from a segment-state snapshot: the `k` best, empty segments first. */
export function recommendVictims(rows: SegmentRows, k = RECOMMENDED_VICTIMS): number[] {
  const scored: Array<[number, number]> = [];
  for (let i = 0; i < rows.length; i++) {
    const v = rows.valid[i]!;
    if (v >= rows.blocksPerSegment) continue;
    const score = v === 0 ? Infinity : lifeScore(v, rows.blocksPerSegment, remainingFromRates(v, rows.rateSumQ[i]! / RATE_SCALE, rows.quiet[i]!));
    scored.push([score, rows.segment[i]!]);
  }
  scored.sort((a, b) => b[0] - a[0]);
  return scored.slice(0, k).map(([, s]) => s);
}

/** A `gc-block-history` portion as the agent stored it (rows of time, prev_cell, cell), as columns. */
export function historyColumns(p: DatasetPortion): HistoryColumns {
  const cols = p.dataset.columns;
  if (cols.length !== HISTORY_COLUMNS.length || HISTORY_COLUMNS.some((c, i) => cols[i] !== c)) {
    throw new KmlibError(ErrorCode.InvalidArgument, `dataset ${p.dataset.id}: columns ${cols.join(", ")}, expected ${HISTORY_COLUMNS.join(", ")}`);
  }
  const n = p.rows.length;
  const time = new Float64Array(n), prevCell = new Int16Array(n), cell = new Int16Array(n);
  for (let i = 0; i < n; i++) {
    const f = p.rows[i]!.features;
    time[i] = f[0]!;
    prevCell[i] = f[1]!;
    cell[i] = f[2]!;
  }
  return { time, prevCell, cell, length: n };
}

export class GcLearner {
  readonly trainer: LifetimeTrainer;
  /** Store clock (host writes) of the newest record learned from. */
  #now = 0;

  constructor(readonly logicalBlocks: number) {
    this.trainer = new LifetimeTrainer(logicalBlocks);
  }

  /** Records learned from so far. */
  get records(): number {
    return this.trainer.records;
  }
  get now(): number {
    return this.#now;
  }

  /** Learns from the next portion of history (portions must come in order). */
  ingest(h: HistoryColumns): void {
    this.trainer.ingest(h);
    if (h.length > 0) this.#now = Math.max(this.#now, h.time[h.length - 1]!);
  }

  /** The table learned so far, quantised and framed for `deployModel`, as of `now`. */
  artefact(now = this.#now): Uint8Array {
    return encodeTable(this.trainer.quantize(now), this.logicalBlocks);
  }

  /** Victims from a fresh segment-state snapshot, sent as a recommendation from model `version`. */
  async recommend(adapter: LfsGcAdapter, version: number): Promise<number[]> {
    const victims = recommendVictims(adapter.segmentState());
    const values = Object.fromEntries(adapter.recommendationSchema.fields.map((f, i) => [f.name, victims[i] ?? -1]));
    await adapter.applyRecommendation({ modelVersion: version, values });
    return victims;
  }
}
