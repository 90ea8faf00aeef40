/**
 * @module subsystems/lfs-gc/future
 * The whole host write sequence of a run, recorded in advance, with each write's next
 * overwrite position: what the oracle policy knows and no real system can. Deterministic
 * workloads make the recording exact: the run replays the same sequence.
 */
import type { Workload } from "./workload.ts";

/** Position of a write never followed by another write to the same block. */
export const NEVER = 0x7fffffff;

export class FutureIndex {
  /** Block written by host write k (0-based). */
  readonly seq: Int32Array;
  /** Position of the next write to the same block after write k, or NEVER. */
  readonly nextPos: Int32Array;

  constructor(seq: Int32Array, logicalBlocks: number) {
    this.seq = seq;
    const next = (this.nextPos = new Int32Array(seq.length));
    const last = new Int32Array(logicalBlocks).fill(NEVER);
    for (let k = seq.length - 1; k >= 0; k--) {
      const lba = seq[k]!;
      next[k] = last[lba]!;
      last[lba] = k;
    }
  }

  /** Records `fill` (written first) and then `writes` blocks of `workload`. */
  static record(workload: Workload, fill: Int32Array, writes: number): FutureIndex {
    const seq = new Int32Array(fill.length + writes);
    seq.set(fill);
    workload.next(seq.subarray(fill.length), writes);
    return new FutureIndex(seq, workload.logicalBlocks);
  }
}

/** Replays a recorded sequence (after its fill prefix) as a workload. */
export class RecordedWorkload implements Workload {
  private pos: number;
  constructor(
    readonly name: string,
    readonly logicalBlocks: number,
    private readonly seq: Int32Array,
    start: number,
  ) {
    this.pos = start;
  }
  next(out: Int32Array, n: number): void {
    out.set(this.seq.subarray(this.pos, this.pos + n));
    this.pos += n;
  }
}
