/**
 * @module subsystems/lfs-gc/proxy/datasets
 * The two datasets the GC's kernel side publishes, in the RFC's terms:
 *
 * - `gc-block-history`, a memory stream of one record per host write (time, the cell the
 *   overwritten version was written in, the new version's cell; cells are the composite ones
 *   of `policies/lifetime-features.ts`, computed kernel-side): what the agent learns block
 *   lifetimes from. Kept in a ring; a portion older than the ring holds is out of bounds, as
 *   a ring buffer the agent fell behind on would be.
 * - `gc-segment-state`, a structure prepared on request: one row per sealed segment (id,
 *   valid blocks, sum of the predicted overwrite rates of its valid blocks in 2^-40 units,
 *   host writes since it last lost a block). Each request makes a new snapshot; the previous
 *   one becomes obsolete.
 */
import { ErrorCode, KmlibError } from "../../../errors.ts";
import { DatasetTracker, type Portion } from "../../../proxy/dataset.ts";
import { SegState } from "../policy.ts";
import type { GcView } from "../policy.ts";
import type { SegmentLedger } from "../policies/lifetime.ts";
import { LIFETIME_CELLS } from "../policies/ml-lifetime.ts";
import type { HistorySink } from "./kernel-policy.ts";
import type { HistoryColumns } from "./table.ts";

export const HISTORY_COLUMNS = ["time", "prev_cell", "cell"] as const;
// Cells travel as signed 16-bit integers (-1: no previous version): the composite table must fit.
if (LIFETIME_CELLS > 0x7fff) throw new Error(`gc-block-history: ${LIFETIME_CELLS} cells do not fit the 16-bit cell columns`);
export const SEGMENT_COLUMNS = ["segment", "valid", "rate_sum_q40", "quiet"] as const;
/** Fixed-point scale of published rate sums. */
export const RATE_SCALE = 2 ** 40;

export class HistoryRing implements HistorySink {
  readonly tracker = new DatasetTracker("gc-block-history", "memory stream", 0);
  readonly #time: Float64Array;
  readonly #prev: Int16Array;
  readonly #cell: Int16Array;
  /** Records published so far (the stream's end). */
  #end = 0;

  constructor(readonly capacity: number) {
    if (!Number.isInteger(capacity) || capacity < 1) throw new KmlibError(ErrorCode.InvalidArgument, `history capacity must be a positive integer, got ${capacity}`);
    this.#time = new Float64Array(capacity);
    this.#prev = new Int16Array(capacity);
    this.#cell = new Int16Array(capacity);
  }

  push(time: number, prevCell: number, cell: number): void {
    const i = this.#end++ % this.capacity;
    this.#time[i] = time;
    this.#prev[i] = prevCell;
    this.#cell[i] = cell;
  }

  /** Makes everything pushed so far visible to the agent (one publish per batch, not per write). */
  publish(): void {
    const pending = this.#end - this.tracker.describe().available;
    if (pending > 0) this.tracker.publish(pending);
  }

  get end(): number {
    return this.#end;
  }
  /** The oldest record the ring still holds. */
  get start(): number {
    return Math.max(0, this.#end - this.capacity);
  }

  /** Extracts a portion as columns (copies: the ring moves on). */
  read(p: Portion): HistoryColumns {
    this.publish();
    if (p.offset < this.start) {
      throw new KmlibError(ErrorCode.OutOfBounds, `gc-block-history: records before ${this.start} were overwritten (ring of ${this.capacity})`);
    }
    this.tracker.extract(p);
    const time = new Float64Array(p.size);
    const prevCell = new Int16Array(p.size);
    const cell = new Int16Array(p.size);
    for (let k = 0; k < p.size; k++) {
      const i = (p.offset + k) % this.capacity;
      time[k] = this.#time[i]!;
      prevCell[k] = this.#prev[i]!;
      cell[k] = this.#cell[i]!;
    }
    return { time, prevCell, cell, length: p.size };
  }
}

export interface SegmentRows {
  readonly tracker: DatasetTracker;
  readonly segment: Int32Array;
  readonly valid: Int32Array;
  /** Sum of predicted overwrite rates (per host write) of the valid blocks, x 2^40, rounded. */
  readonly rateSumQ: Float64Array;
  readonly quiet: Float64Array;
  readonly blocksPerSegment: number;
  readonly length: number;
}

let snapshots = 0;

/** A snapshot of every sealed segment's state, as the kernel side would copy it out. */
export function segmentSnapshot(view: GcView, ledger: Pick<SegmentLedger, "segmentSum" | "quietTime">): SegmentRows {
  const n = view.sealedCount;
  const segment = new Int32Array(n), valid = new Int32Array(n), rateSumQ = new Float64Array(n), quiet = new Float64Array(n);
  let k = 0;
  for (let s = 0; s < view.segments && k < n; s++) {
    if (view.segState[s] !== SegState.Sealed) continue;
    segment[k] = s;
    valid[k] = view.segValid[s]!;
    rateSumQ[k] = Math.round(Math.max(0, ledger.segmentSum(s)) * RATE_SCALE);
    quiet[k] = ledger.quietTime(s, view);
    k++;
  }
  const tracker = new DatasetTracker(`gc-segment-state-${++snapshots}`, "structure", k);
  return { tracker, segment, valid, rateSumQ, quiet, blocksPerSegment: view.blocksPerSegment, length: k };
}
