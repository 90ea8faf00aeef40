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
import { highestScoringSealed } from "../policy.ts";
import type { GcView } from "../policy.ts";
import { RATE_ONE, clampLife as clampLife_, freshUntil as freshUntil_, rateQ40 as rateQ40_, segmentScore as segmentScore_ } from "./score.ts";

// tsx reads imported bindings through getters on every use: bind the hot ones once.
const clampLife = clampLife_, freshUntil = freshUntil_, rateQ40 = rateQ40_, segmentScore = segmentScore_;

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
  /**
   * Per segment, the fresh (not stale) score and the quiet time up to which it holds, for the
   * valid count and rate sum they were computed with: between two changes of a segment only
   * its quiet time moves, and the staleness threshold floor(256·STALE_GAPS·2^32 / s) is fixed.
   */
  #cacheValid: Int32Array = new Int32Array(0);
  #cacheSum: Float64Array = new Float64Array(0);
  #cacheQuiet: Float64Array = new Float64Array(0);
  #cacheScore: Float64Array = new Float64Array(0);

  constructor(readonly logicalBlocks: number) {
    this.life = new Float64Array(logicalBlocks);
    this.rate = new Float64Array(logicalBlocks);
  }

  attach(view: GcView): void {
    this.segSum = new Float64Array(view.segments);
    this.segLastDeath = new Float64Array(view.segments);
    this.#cacheValid = new Int32Array(view.segments).fill(-1);
    this.#cacheSum = new Float64Array(view.segments);
    this.#cacheQuiet = new Float64Array(view.segments);
    this.#cacheScore = new Float64Array(view.segments);
  }

  clone(): IntSegmentLedger {
    const c = new IntSegmentLedger(this.logicalBlocks);
    c.life.set(this.life);
    c.rate.set(this.rate);
    c.segSum = this.segSum.slice();
    c.segLastDeath = this.segLastDeath.slice();
    c.#cacheValid = new Int32Array(this.segSum.length).fill(-1);
    c.#cacheSum = new Float64Array(this.segSum.length);
    c.#cacheQuiet = new Float64Array(this.segSum.length);
    c.#cacheScore = new Float64Array(this.segSum.length);
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

  /** `segmentScore` of the segment's state (cached while only its quiet time moves and it stays fresh). */
  score(seg: number, view: GcView): number {
    const v = view.segValid[seg]!, s = this.segSum[seg]!;
    const quiet = this.quietTime(seg, view);
    if (this.#cacheValid[seg] !== v || this.#cacheSum[seg] !== s) {
      this.#cacheValid[seg] = v;
      this.#cacheSum[seg] = s;
      this.#cacheQuiet[seg] = freshUntil(s);
      this.#cacheScore[seg] = segmentScore(v, view.blocksPerSegment, s, 0);
    }
    return quiet <= this.#cacheQuiet[seg]! ? this.#cacheScore[seg]! : segmentScore(v, view.blocksPerSegment, s, quiet);
  }

  selectVictim(view: GcView): number {
    return highestScoringSealed(view, (s) => this.score(s, view));
  }
}
