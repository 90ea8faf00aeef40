/**
 * @module subsystems/lfs-gc/policies/ml-lifetime
 * The learned policy, as pure logic: it predicts how soon each block will be overwritten from
 * the block's own history and then acts like the oracle on its predictions (lifetime logs,
 * victims by cost-benefit on the predicted remaining life of their data).
 *
 * The model is a lookup table, chosen because it compiles to integer-only eBPF as a plain
 * array map: a block's state at write time — the interval since its previous write and its
 * write count, both in log scale — selects a cell, and each cell learns the overwrite rate of
 * blocks written in that state. It trains online with the survival-analysis estimate
 * rate = deaths / exposure: every overwrite is a death in the cell its previous version was
 * written in, and every block still alive adds its time so far to its cell's exposure, so
 * long-lived blocks count before they die (a plain mean of observed lifetimes would see only
 * the short ones). Completed history fades slowly so the table follows phase changes.
 */
import type { GcPolicy, GcView } from "../policy.ts";
import { SegmentLedger, defaultLifetimeOptions, lifetimeClass } from "./lifetime.ts";
import type { LifetimeOptions } from "./lifetime.ts";

/** Interval buckets: 0 = no previous write, then half-octaves from U/64 up. */
const INTERVAL_BUCKETS = 26;
/** Write-count buckets: log2 of the count. */
const COUNT_BUCKETS = 8;

export interface LifetimeModelOptions {
  /** Weight of the prior (deaths at rate 1/U) that keeps empty cells sane. */
  priorDeaths: number;
  /** Share of a cell's completed history forgotten at each of its deaths. */
  forget: number;
}

/** Online table model: block state → overwrite rate (deaths per host write). */
export class LifetimeModel {
  readonly cells = INTERVAL_BUCKETS * COUNT_BUCKETS;
  readonly deaths: Float64Array;
  /** Exposure (host writes lived) of versions that have died. */
  readonly doneExposure: Float64Array;
  /** Versions alive now, and the sum of their write times. */
  readonly alive: Float64Array;
  readonly aliveSince: Float64Array;
  private readonly u: number;
  private readonly opts: LifetimeModelOptions;

  constructor(logicalBlocks: number, opts: Partial<LifetimeModelOptions> = {}) {
    this.u = logicalBlocks;
    this.opts = { priorDeaths: 1, forget: 1 / 8192, ...opts };
    this.deaths = new Float64Array(this.cells);
    this.doneExposure = new Float64Array(this.cells);
    this.alive = new Float64Array(this.cells);
    this.aliveSince = new Float64Array(this.cells);
  }

  /** Cell for a block written now, `interval` after its previous write (-1: first write). */
  cell(interval: number, writes: number): number {
    let ib = 0;
    if (interval > 0) {
      const x = Math.floor(2 * Math.log2((interval * 64) / this.u)) + 1;
      ib = x < 1 ? 1 : x >= INTERVAL_BUCKETS ? INTERVAL_BUCKETS - 1 : x;
    }
    const cb = Math.min(COUNT_BUCKETS - 1, Math.floor(Math.log2(writes)));
    return ib * COUNT_BUCKETS + cb;
  }

  /** A version written at `now` in `cell` starts its life. */
  enter(cell: number, now: number): void {
    this.alive[cell]!++;
    this.aliveSince[cell]! += now;
  }

  /** The version written at `since` in `cell` dies (is overwritten) at `now`. */
  die(cell: number, since: number, now: number): void {
    this.alive[cell]!--;
    this.aliveSince[cell]! -= since;
    const keep = 1 - this.opts.forget;
    this.deaths[cell] = this.deaths[cell]! * keep + 1;
    this.doneExposure[cell] = this.doneExposure[cell]! * keep + (now - since);
  }

  /** Estimated overwrite rate per host write of blocks in `cell`. */
  rate(cell: number, now: number): number {
    const exposure = this.doneExposure[cell]! + this.alive[cell]! * now - this.aliveSince[cell]!;
    const prior = this.opts.priorDeaths;
    return (this.deaths[cell]! + prior) / (exposure + prior * this.u);
  }
}

export interface MlPolicyOptions extends LifetimeOptions, LifetimeModelOptions {}

export class MlLifetimePolicy implements GcPolicy {
  readonly name = "ml";
  readonly logs: number;
  readonly model: LifetimeModel;
  private readonly ledger: SegmentLedger;
  private readonly cellOf: Uint16Array;
  private readonly u: number;

  constructor(logicalBlocks: number, options: Partial<MlPolicyOptions> = {}) {
    const opts = { ...defaultLifetimeOptions, ...options };
    this.logs = opts.logs;
    this.u = logicalBlocks;
    this.model = new LifetimeModel(logicalBlocks, options);
    this.ledger = new SegmentLedger(logicalBlocks, "rate");
    this.cellOf = new Uint16Array(logicalBlocks);
  }

  attach(view: GcView): void {
    this.ledger.attach(view);
  }

  onHostWrite(lba: number, prevTime: number, view: GcView): void {
    const now = view.now + 1;
    let interval = -1;
    if (prevTime >= 0) {
      interval = now - prevTime;
      this.model.die(this.cellOf[lba]!, prevTime, now);
    }
    const cell = this.model.cell(interval, view.blockWrites[lba]! + 1);
    this.cellOf[lba] = cell;
    this.model.enter(cell, now);
    this.ledger.invalidate(lba, view);
    this.ledger.setLife(lba, 1 / this.model.rate(cell, now));
  }

  onPlaced(lba: number, seg: number, view: GcView): void {
    this.ledger.placed(lba, seg, view);
  }

  hostLog(lba: number, view: GcView): number {
    return lifetimeClass(this.ledger.remaining(lba, view.now), this.u, this.logs);
  }

  gcLog(lba: number, _victim: number, view: GcView): number {
    // The table has learned more since the block was written: predict again.
    const life = 1 / this.model.rate(this.cellOf[lba]!, view.now);
    this.ledger.setLife(lba, life);
    return lifetimeClass(life, this.u, this.logs);
  }

  selectVictim(view: GcView): number {
    return this.ledger.selectVictim(view);
  }
}
