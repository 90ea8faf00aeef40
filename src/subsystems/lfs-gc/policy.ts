/**
 * @module subsystems/lfs-gc/policy
 * The contract between the log-structured store and a garbage-collection policy. A policy
 * answers one question on the GC path — which sealed segment to clean next
 * (`selectVictim`) — and may also say which write log (stream) each host write and each
 * relocated block goes to, as F2FS separates hot, warm and cold data. The view it reads is
 * the store's own typed arrays: no copies, nothing allocated per decision. An ML policy
 * delivered through a proxy plugs in through the same interface (see `recommended.ts`).
 */

/** Segment states in `GcView.segState`. */
export const SegState = { Free: 0, Open: 1, Sealed: 2 } as const;
export type SegState = (typeof SegState)[keyof typeof SegState];

/** What a policy may read. Times are counted in host block writes since the store began. */
export interface GcView {
  readonly segments: number;
  readonly blocksPerSegment: number;
  readonly logicalBlocks: number;
  /** Host writes so far: the simulator's clock. */
  readonly now: number;
  readonly sealedCount: number;
  /** Valid blocks per segment. */
  readonly segValid: Int32Array;
  readonly segState: Uint8Array;
  /** When the segment was sealed (became a GC candidate). */
  readonly segSealTime: Float64Array;
  /** Most recent host-write time of any block written into the segment (LFS "age"). */
  readonly segMtimeMax: Float64Array;
  /** Sum of host-write times of blocks written into the segment (F2FS keeps their mean). */
  readonly segMtimeSum: Float64Array;
  /** Blocks ever written into the segment since it was opened. */
  readonly segWritten: Int32Array;
  readonly segEraseCount: Uint32Array;
  /** Physical block → logical block, -1 when invalid or unwritten. */
  readonly p2l: Int32Array;
  /** Logical block → physical block, -1 when never written. */
  readonly l2p: Int32Array;
  /** Last host-write time per logical block (-1 when never written). */
  readonly blockTime: Float64Array;
  /** Host writes per logical block. */
  readonly blockWrites: Uint32Array;
  /** The sealed segment with the fewest valid blocks (O(1) amortised), -1 when none. */
  minValidSegment(): number;
  /** Sealed segments by increasing valid count; the callback returns false to stop. */
  forEachSealedByValid(visit: (seg: number) => boolean): void;
  /** Sealed segments from the oldest seal on; the callback returns false to stop. */
  forEachSealedOldestFirst(visit: (seg: number) => boolean): void;
  /** The oldest sealed segment, -1 when none. */
  oldestSealed(): number;
}

/** Chooses the segment GC cleans next. */
export interface VictimPolicy {
  readonly name: string;
  /** Returns a sealed segment id. Called only when at least one segment is sealed. */
  selectVictim(view: GcView): number;
}

/** A whole GC policy: victim choice plus optional data placement and learning hooks. */
export interface GcPolicy extends VictimPolicy {
  /** Number of write logs it uses (1 = a single log, as Desnoyers' model assumes). */
  readonly logs: number;
  /** Log for a host write of `lba`; absent means log 0. */
  hostLog?(lba: number, view: GcView): number;
  /** Log for a block relocated by GC out of `victim`; absent means the host's log 0. */
  gcLog?(lba: number, victim: number, view: GcView): number;
  /** Called before each host write of `lba` lands; `prevTime` is its last write time or -1. */
  onHostWrite?(lba: number, prevTime: number, view: GcView): void;
  /** Called after `lba` (host write or relocation) lands in segment `seg`. */
  onPlaced?(lba: number, seg: number, view: GcView): void;
  /** Called once when the store is built, before any write. */
  attach?(view: GcView): void;
}

/**
 * The sealed segment with the highest `score` (the first on a tie), or at once one holding no
 * valid block (cleaning it copies nothing); -1 when nothing is sealed. The victim rule of the
 * policies that score every segment on per-segment sums (the lifetime ledgers, float and
 * integer).
 */
export function highestScoringSealed(view: GcView, score: (seg: number) => number): number {
  let best = -1;
  let bestScore = -1;
  for (let s = 0; s < view.segments; s++) {
    if (view.segState[s] !== SegState.Sealed) continue;
    if (view.segValid[s] === 0) return s;
    const x = score(s);
    if (x > bestScore) {
      bestScore = x;
      best = s;
    }
  }
  return best;
}
