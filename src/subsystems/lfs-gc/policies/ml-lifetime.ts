/**
 * @module subsystems/lfs-gc/policies/ml-lifetime
 * The learned policy, as pure logic: it predicts how soon each block will be overwritten from
 * the block's own history and its region's, and then acts like the oracle on its predictions
 * (lifetime logs, victims by cost-benefit on the predicted remaining life of their data).
 *
 * The model is a lookup table, chosen because it compiles to integer-only eBPF as a plain
 * array map: a block's state at write time — the interval since its previous write, its
 * recent and its long-term activity (write counts decayed over one and over LONG_DECAY
 * devices' worth of writes) and the recent activity of its region of the address space, all
 * in log scale (`lifetime-features.ts`) — selects a cell, and each cell learns the overwrite
 * rate of blocks written in that state. A block relocated by GC is predicted again in its
 * write-time cell with its region's bucket of now. It trains online with the survival-analysis estimate rate = deaths / exposure: every
 * overwrite is a death in the cell its previous version was written in, and every block
 * still alive adds to its cell's exposure, so long-lived blocks count before they die (a plain
 * mean of observed lifetimes would see only the short ones). Both sums are discounted over
 * time, so the table follows phase changes.
 */
import type { GcPolicy, GcView } from "../policy.ts";
import { LogUsage, SegmentLedger, defaultLifetimeOptions, lifetimeClass } from "./lifetime.ts";
import type { LifetimeOptions } from "./lifetime.ts";
import {
  LIFETIME_CELLS, LONG_DECAY, RegionActivity, composeCell, decayedActivity, intervalBucketOf, longBucket, recentCell, withRegion,
} from "./lifetime-features.ts";

export {
  COUNT_BUCKETS, DECAY, INTERVAL_BUCKETS, LIFETIME_CELLS, LONG_BUCKETS, LONG_DECAY, RECENT_CELLS, REGION_BUCKETS, REGION_DECAY, REGIONS, RegionActivity,
  composeCell, decayedActivity, longBucket, recentCell, regionBucket, regionShift, regionTau, withRegion,
} from "./lifetime-features.ts";

/**
 * Ages beyond this many expected lives mark a block whose prediction went stale. At 3 (a
 * 1-in-20 event under memoryless writes) uniform writes sent 5% of relocated blocks to
 * longer-lived logs for nothing, whose open segments then cost space: ml/greedy on uniform
 * 1.032 at 3, 1.016 at 6 (2^16 blocks, 64/segment, spare 0.1), skewed workloads within ±1%.
 */
export const STALE = 6;

export interface LifetimeModelOptions {
  /** Weight of the prior (deaths at rate 1/U) that keeps empty cells sane. */
  priorDeaths: number;
  /** Memory of the estimator, in logical devices' worth of host writes. */
  memory: number;
}

/**
 * The age a version written in its cell most likely reached when the next write's cell is
 * `next`: the geometric middle of `next`'s interval bucket (its interval is that age). What
 * the agent knows of a death's age from the published history (time, previous cell, cell).
 */
export function ageOfCell(next: number, u: number): number {
  const ib = intervalBucketOf(next);
  // Bucket ib >= 2 holds intervals with 2·log2(64·interval/U) in [ib - 1, ib); bucket 1 all below.
  if (ib <= 1) return u / 128;
  return (u / 64) * Math.pow(2, (ib - 0.5) / 2);
}

/** A cell's estimate forgets versions older than this many times its interval bucket's top. */
export const WINDOW = 8;
/** Time bins per cell window (the resolution at which versions age out of it). */
const BINS = 16;
/** Window of the first-write cells (no interval), in logical devices' worth of writes. */
const FIRST_WRITE_WINDOW = 64;

/**
 * Online table model: block state → overwrite rate (deaths per host write). Per cell it keeps
 * deaths and exposure (block-writes lived by versions written in that cell), both discounted
 * by e every `memory` devices' worth of writes, and estimates rate = deaths / exposure: the
 * hazard of an exponential lifetime, unbiased in a steady state.
 *
 * Only young versions count: a cell's window is WINDOW times the top of its interval bucket
 * (blocks rewritten every T are judged over their first 16 T of life), and a version older
 * than that leaves the cell's exposure, its eventual death uncounted. Without the window a
 * cell's stale members (blocks that cooled after a phase change and sit there alive for many
 * devices' worth of writes) keep adding exposure and no deaths, and the cell's new members,
 * as hot as the old ones were, are predicted to live as long as the stale ones: after a phase
 * change the hot cells halved their rate for the whole next phase. Versions age out by time
 * bins of 1/16 of the window; a death's age comes from its interval.
 */
export class LifetimeModel {
  readonly cells = LIFETIME_CELLS;
  readonly deaths: Float64Array;
  readonly exposure: Float64Array;
  /** Versions of each cell alive now (young or not). */
  readonly alive: Float64Array;
  /** Versions of each cell alive now and still inside its window. */
  readonly young: Float64Array;
  private readonly updated: Float64Array;
  private readonly binWidth: Float64Array;
  /** Absolute index of each cell's current time bin. */
  private readonly head: Float64Array;
  /** Per cell, BINS slots: versions entered in that bin still alive and young. */
  private readonly net: Float64Array;
  private readonly u: number;
  private readonly tau: number;
  private readonly prior: number;

  constructor(logicalBlocks: number, opts: Partial<LifetimeModelOptions> = {}) {
    const o = { priorDeaths: 1, memory: 2, ...opts };
    const u = (this.u = logicalBlocks);
    this.tau = o.memory * logicalBlocks;
    this.prior = o.priorDeaths;
    this.deaths = new Float64Array(this.cells);
    this.exposure = new Float64Array(this.cells);
    this.alive = new Float64Array(this.cells);
    this.young = new Float64Array(this.cells);
    this.updated = new Float64Array(this.cells);
    this.head = new Float64Array(this.cells);
    this.net = new Float64Array(this.cells * BINS);
    this.binWidth = new Float64Array(this.cells);
    for (let c = 0; c < this.cells; c++) {
      const ib = intervalBucketOf(c);
      const window = ib === 0 ? FIRST_WRITE_WINDOW * u : WINDOW * (u / 64) * Math.pow(2, ib / 2);
      this.binWidth[c] = window / BINS;
    }
  }

  /**
   * Cell for a block written now, `interval` after its previous write (-1: first write), with
   * `activity` its write count decayed over DECAY devices' worth of writes, `longActivity` over
   * LONG_DECAY, in a region of bucket `region` (lifetime-features.ts).
   */
  cell(interval: number, activity: number, longActivity = 0, region = 0): number {
    return composeCell(region, longBucket(longActivity), recentCell(interval, activity, this.u));
  }

  /** A version written at `now` in `cell` starts its life. */
  enter(cell: number, now: number): void {
    this.advance(cell, now);
    this.alive[cell]!++;
    this.young[cell]!++;
    this.net[cell * BINS + (this.head[cell]! % BINS)]!++;
  }

  /**
   * A version written in `cell` dies (is overwritten) at `now`, aged `age` (absent: the oldest
   * young version of the cell dies). A version already out of the window is not counted.
   */
  die(cell: number, now: number, age?: number): void {
    this.advance(cell, now);
    this.alive[cell]!--;
    const head = this.head[cell]!;
    let bin = head;
    if (age !== undefined) bin = Math.min(head, Math.floor((now - age) / this.binWidth[cell]!));
    else {
      for (let k = head - BINS + 1; k < head; k++) {
        if (this.net[cell * BINS + (((k % BINS) + BINS) % BINS)]! > 0) {
          bin = k;
          break;
        }
      }
    }
    if (bin <= head - BINS) return;
    this.deaths[cell]!++;
    this.young[cell]!--;
    this.net[cell * BINS + (((bin % BINS) + BINS) % BINS)]!--;
  }

  /** Estimated overwrite rate per host write of blocks in `cell`. */
  rate(cell: number, now: number): number {
    this.advance(cell, now);
    return (this.deaths[cell]! + this.prior) / (this.exposure[cell]! + this.prior * this.u);
  }

  /** Brings a cell to `now`: bins age out of the window, exposure accrues young × time, both sums decay. */
  private advance(cell: number, now: number): void {
    if (now <= this.updated[cell]!) return;
    const w = this.binWidth[cell]!;
    const to = Math.floor(now / w);
    let head = this.head[cell]!;
    for (let k = 0; head < to && k <= BINS; k++) {
      this.accrue(cell, (head + 1) * w);
      head++;
      const slot = cell * BINS + (head % BINS);
      this.young[cell]! -= this.net[slot]!;
      this.net[slot] = 0;
    }
    if (head < to) head = to; // every bin aged out: nothing young is left
    this.head[cell] = head;
    this.accrue(cell, now);
  }

  private accrue(cell: number, t: number): void {
    const dt = t - this.updated[cell]!;
    if (dt <= 0) return;
    const f = Math.exp(-dt / this.tau);
    this.deaths[cell]! *= f;
    this.exposure[cell] = this.exposure[cell]! * f + Math.max(0, this.young[cell]!) * this.tau * (1 - f);
    this.updated[cell] = t;
  }
}

export interface MlPolicyOptions extends LifetimeOptions, LifetimeModelOptions {}

export class MlLifetimePolicy implements GcPolicy {
  readonly name = "ml";
  readonly logs: number;
  readonly model: LifetimeModel;
  private readonly ledger: SegmentLedger;
  private readonly usage: LogUsage;
  private readonly cellOf: Uint16Array;
  private readonly activity: Float32Array;
  private readonly longActivity: Float32Array;
  private readonly regions: RegionActivity;
  private readonly u: number;

  constructor(logicalBlocks: number, options: Partial<MlPolicyOptions> = {}) {
    const opts = { ...defaultLifetimeOptions, ...options };
    this.logs = opts.logs;
    this.u = logicalBlocks;
    this.model = new LifetimeModel(logicalBlocks, options);
    this.ledger = new SegmentLedger(logicalBlocks, "rate");
    this.usage = new LogUsage(this.logs);
    this.cellOf = new Uint16Array(logicalBlocks);
    this.activity = new Float32Array(logicalBlocks);
    this.longActivity = new Float32Array(logicalBlocks);
    this.regions = new RegionActivity(logicalBlocks);
  }

  attach(view: GcView): void {
    this.ledger.attach(view);
    this.usage.attach(view);
  }

  onHostWrite(lba: number, prevTime: number, view: GcView): void {
    const now = view.now + 1;
    let interval = -1;
    if (prevTime >= 0) {
      interval = now - prevTime;
      this.model.die(this.cellOf[lba]!, now, interval);
    }
    const act = (this.activity[lba] = decayedActivity(this.activity[lba]!, interval, this.u));
    const long = (this.longActivity[lba] = decayedActivity(this.longActivity[lba]!, interval, this.u, LONG_DECAY));
    const cell = this.model.cell(interval, act, long, this.regions.write(lba, now));
    this.cellOf[lba] = cell;
    this.model.enter(cell, now);
    this.ledger.invalidate(lba, view);
    this.ledger.setLife(lba, 1 / this.model.rate(cell, now));
  }

  onPlaced(lba: number, seg: number, view: GcView): void {
    this.ledger.placed(lba, seg, view);
  }

  hostLog(lba: number, view: GcView): number {
    return this.usage.log(lifetimeClass(this.ledger.remaining(lba, view.now), this.u, this.logs));
  }

  gcLog(lba: number, _victim: number, view: GcView): number {
    // The table has learned more since the block was written, and its region may have turned
    // hot or cold: predict again, in its write-time cell with the region's bucket of now. A
    // block that has outlived its cell's expected life STALE times over (under memoryless
    // writes a 1-in-400 event at 6) is most likely one whose hotness changed: expect its age again.
    const cell = withRegion(this.cellOf[lba]!, this.regions.peek(lba, view.now));
    let life = 1 / this.model.rate(cell, view.now);
    const age = view.now - view.blockTime[lba]!;
    if (age > STALE * life) life = age;
    this.ledger.setLife(lba, life);
    return this.usage.log(lifetimeClass(life, this.u, this.logs));
  }

  selectVictim(view: GcView): number {
    return this.ledger.selectVictim(view);
  }
}
