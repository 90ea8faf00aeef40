/**
 * @module subsystems/lfs-gc/kernel-int/ledger
 * The integer twin of `SegmentLedger` (kind "rate", policies/lifetime.ts) as the GC's kernel
 * side keeps it: per block its clamped expected life and Q40 overwrite rate, per segment the
 * exact integer sum of its valid blocks' rates and when it last lost a block. Victims by the
 * integer `segmentScore`, first best wins (as the float rule's strict `>`).
 *
 * `RateLedger` is what the proxied policy needs of either ledger, so the float original stays
 * available as the reference the tests and benches compare against.
 */
import type { GcView } from "../policy.ts";
import { RATE_ONE, clampLife, rateQ40, segmentScore } from "./score.ts";

/** What the GC's kernel side uses of a rate ledger (the float `SegmentLedger` fits too). */
export interface RateLedger {
  attach(view: GcView): void;
  setLife(lba: number, life: number): void;
  remaining(lba: number, now: number): number;
  invalidate(lba: number, view: GcView): void;
  placed(lba: number, seg: number, view: GcView): void;
  /** Sum of the segment's predicted overwrite rates per host write (float view of the sum). */
  segmentSum(seg: number): number;
  quietTime(seg: number, view: GcView): number;
  score(seg: number, view: GcView): number;
  selectVictim(view: GcView): number;
  /** A deep copy, for a policy that drives a copy of the device. */
  clone(): RateLedger;
}

export class IntSegmentLedger implements RateLedger {
  /** Per block: expected life, clamped to [1, HORIZON_CAP·U]. */
  readonly life: Float64Array;
  /** Per block: Q40 overwrite rate. */
  readonly rate: Float64Array;
  /** Per segment: exact sum of the Q40 rates of its valid blocks. */
  segSum: Float64Array = new Float64Array(0);
  segLastDeath: Float64Array = new Float64Array(0);

  constructor(readonly logicalBlocks: number) {
    this.life = new Float64Array(logicalBlocks);
    this.rate = new Float64Array(logicalBlocks);
  }

  attach(view: GcView): void {
    this.segSum = new Float64Array(view.segments);
    this.segLastDeath = new Float64Array(view.segments);
  }

  clone(): IntSegmentLedger {
    const c = new IntSegmentLedger(this.logicalBlocks);
    c.life.set(this.life);
    c.rate.set(this.rate);
    c.segSum = this.segSum.slice();
    c.segLastDeath = this.segLastDeath.slice();
    return c;
  }

  setLife(lba: number, life: number): void {
    this.life[lba] = clampLife(life, this.logicalBlocks);
    this.rate[lba] = rateQ40(life, this.logicalBlocks);
  }

  /** Expected remaining life: the clamped life itself (rates are memoryless). */
  remaining(lba: number): number {
    return this.life[lba]!;
  }

  invalidate(lba: number, view: GcView): void {
    const p = view.l2p[lba]!;
    if (p < 0) return;
    const seg = (p / view.blocksPerSegment) | 0;
    this.segSum[seg]! -= this.rate[lba]!;
    this.segLastDeath[seg] = view.now;
  }

  placed(lba: number, seg: number, view: GcView): void {
    if (view.segWritten[seg] === 1) this.segSum[seg] = 0;
    this.segSum[seg]! += this.rate[lba]!;
  }

  /** The exact Q40 sum. */
  segmentSumQ40(seg: number): number {
    return this.segSum[seg]!;
  }

  segmentSum(seg: number): number {
    return this.segSum[seg]! / RATE_ONE;
  }

  quietTime(seg: number, view: GcView): number {
    return view.now - Math.max(this.segLastDeath[seg]!, view.segSealTime[seg]!);
  }

  score(seg: number, view: GcView): number {
    return segmentScore(view.segValid[seg]!, view.blocksPerSegment, this.segSum[seg]!, this.quietTime(seg, view));
  }

  selectVictim(view: GcView): number {
    let best = -1;
    let bestScore = -1;
    for (let s = 0; s < view.segments; s++) {
      if (view.segState[s] !== 2 /* SegState.Sealed */) continue;
      if (view.segValid[s] === 0) return s;
      const score = this.score(s, view);
      if (score > bestScore) {
        bestScore = score;
        best = s;
      }
    }
    return best;
  }
}
