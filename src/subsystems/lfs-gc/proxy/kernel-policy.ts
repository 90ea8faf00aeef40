/**
 * @module subsystems/lfs-gc/proxy/kernel-policy
 * What the GC's kernel side runs, as one policy of the simulated store: the default algorithm,
 * the deployed model and the proxy's decision rule, with nothing that waits on user space.
 *
 * - Features, per host write: the block's interval since its previous write, its decayed
 *   write counts (recent and long-term) and its region's decayed write count select a cell of
 *   the lifetime table (`policies/lifetime-features.ts`); the record (time, previous cell,
 *   cell) goes to the per-block history the agent learns from. A block GC relocates is
 *   predicted again in its cell with its region's bucket of now.
 * - The deployed model is the integer lifetime table: it predicts each written block's life,
 *   which places writes into lifetime logs (collaboration and recommendation modes) and keeps
 *   per-segment sums of predicted overwrite rates, the state victims are scored on
 *   (cost-benefit on the expected remaining life, √R).
 * - Victims: the default answers every GC decision; the model's answer is the next victim the
 *   agent recommended, if it is still a valid victim and not expired, else the deployed
 *   table's own choice. `decide()` (the one rule all proxies share) says who decides in the
 *   current mode; the guard rejects anything not a sealed segment with space to reclaim and,
 *   in collaboration, a victim that copies much more than the default's.
 *
 * The mode is the effective one the kernel computed from the control record (a stale
 * heartbeat is emergency); the kernel sets it before each batch of writes.
 *
 * When the default takes placement back (the model placed, and the mode is now learning or
 * emergency), the default writes only its own logs, so the open segments of the model's extra
 * lifetime logs would never fill, never seal and never become victims: their free space
 * stranded for good. The next host writes fill them first, one log after the other, then go
 * where the default puts them. A kernel does this for one index per policy and a compare per
 * write, with no data moved; sealing them instead would be as cheap but turns their unwritten
 * space into garbage that GC must later copy valid blocks out to reclaim (and seals a segment
 * early, which no real log does). The model's `LogUsage` (lifetime.ts) counts every log's
 * open-segment fill, the default's writes included, so a log with nothing open is skipped and
 * one whose segment seals is done (a log out of use may hold none). Measured (16384 blocks,
32 per segment, spare 0.1): after zipf-1.0 -> uniform demotes the model, the learning epochs
read a 4.2% gain instead of 5.0% with the stranded logs; with a fixed table, the default's WA
on the real device after a demotion from recommendation is within 0.3% of a run never placed
by the model (8192 blocks, uniform, seeds 1-3), where it was 6-10% lower before: GC runs only
when a log needs a segment, so the free pool the model's logs had drawn down (2 of 7 reserved
segments) stayed down and served as data space; opening a drained log refills it.
 *
 * Everything here is integer, as an eBPF program computes it (`kernel-int/`, and its
 * generated programs checked against the real kernel): Q16 activities, threshold-bucketed
 * cells, Q40 rate sums, integer victim scores and a Q16 confidence; the veto compares in
 * 1/256ths. `arithmetic: "float"` keeps the original float kernel side as the reference that
 * tests and benches compare against.
 */
import { CollaborationBudget, decide } from "../../../proxy/decide.ts";
import { MODES, Mode, SOURCES, type Source } from "../../../proxy/mode.ts";
import { LogUsage, SegmentLedger, lifetimeClass } from "../policies/lifetime.ts";
import { LONG_DECAY, RegionActivity, STALE, composeCell, decayedActivity, longBucket, recentCell, withRegion } from "../policies/ml-lifetime.ts";
import { FeatureConfig, IntRegionActivity, cellQ, decayActivityQ16 } from "../kernel-int/features.ts";
import { IntSegmentLedger, type RateLedger } from "../kernel-int/ledger.ts";
import { CONF_FRAC, confidenceQ16, lifeClassQ } from "../kernel-int/score.ts";
import type { GcPolicy, GcView } from "../policy.ts";
import { isVictim } from "../recommended.ts";
import type { LifeTable } from "./table.ts";

/** STALE in 1/256ths: the kernel compares age·256 > STALE_Q8·life. */
const STALE_Q8 = Math.round(STALE * 256);

/** Receives one history record per host write. */
export interface HistorySink {
  push(time: number, prevCell: number, cell: number): void;
}

/** One GC decision as feedback sees it. */
export interface GcDecision {
  readonly mode: Mode;
  readonly source: Source;
  readonly defaultVictim: number;
  readonly modelVictim: number | undefined;
  readonly confidence: number | undefined;
  /** Valid blocks in the default's and the model's victim. */
  readonly defaultValid: number;
  readonly modelValid: number | undefined;
  /** The model's answer came from the agent's recommendation (not the table's own choice). */
  readonly recommended: boolean;
  readonly reason: string;
}

export interface ProxiedGcOptions {
  readonly logicalBlocks: number;
  /** Builds the default algorithm (called again for counterfactual copies). */
  readonly makeFallback: () => GcPolicy;
  /** Lifetime logs of the model's placement. */
  readonly logs?: number;
  /** Collaboration veto: the model's victim may copy at most vetoRatio x the default's + vetoSlack. */
  readonly vetoRatio?: number;
  readonly vetoSlack?: number;
  /** Recommended victims expire after this many GC decisions. */
  readonly recommendationTtl?: number;
  /** "integer" (default): the kernel side as eBPF computes it; "float": the float reference. */
  readonly arithmetic?: "integer" | "float";
}

export interface ProxiedGcStats {
  /** Recommended victims dropped because they were no longer valid victims, or expired. */
  staleRecommendations: number;
  /** Decisions answered from the agent's recommendation. */
  recommended: number;
  vetoed: number;
  lowConfidence: number;
  budgetExhausted: number;
}

type Decided = Record<Mode, Record<Source, number>>;
const zeroDecided = (): Decided => Object.fromEntries(MODES.map((m) => [m, Object.fromEntries(SOURCES.map((s) => [s, 0]))])) as unknown as Decided;

export class ProxiedGc implements GcPolicy {
  readonly name = "ml-proxy";
  readonly logs: number;
  /** The effective mode, set by the kernel side. */
  mode: Mode = Mode.emergency;
  confidenceThreshold = 0.5;
  budget = new CollaborationBudget(500, 1000);
  /** The deployed lifetime table (undefined: no model). */
  table: LifeTable | undefined;
  history: HistorySink | undefined;
  onDecision: ((d: GcDecision) => void) | undefined;
  readonly decided: Decided = zeroDecided();
  readonly stats: ProxiedGcStats = { staleRecommendations: 0, recommended: 0, vetoed: 0, lowConfidence: 0, budgetExhausted: 0 };
  readonly fallback: GcPolicy;
  ledger: RateLedger;
  cellOf: Int16Array;
  /** Per block: Q16 decayed write count (integer), or the float one (float reference). */
  activity: Uint32Array | Float32Array;
  /** Per block: the long-term decayed write count, the same way. */
  longActivity: Uint32Array | Float32Array;
  /** Per region: decayed write counts (Q8 when integer). */
  regions: IntRegionActivity | RegionActivity;
  readonly integer: boolean;
  readonly #features: FeatureConfig | undefined;
  #queue = new Int32Array(0);
  #queueHead = 0;
  #queueExpires = 0;
  #decisions = 0;
  readonly #u: number;
  readonly #vetoRatio: number;
  readonly #vetoSlack: number;
  readonly #ttl: number;
  readonly #vetoRatioQ8: number;
  readonly #vetoSlackQ8: number;
  /** The model placed the last host write (its lifetime logs may hold open segments). */
  #placed = false;
  /** The next of the model's extra logs to fill after the default took placement back; logs: none. */
  #drainLog: number;
  /** Which of the model's lifetime logs are in use, and every log's open-segment fill (lifetime.ts). */
  #usage: LogUsage;

  constructor(readonly options: ProxiedGcOptions) {
    this.#u = options.logicalBlocks;
    this.fallback = options.makeFallback();
    this.logs = Math.max(options.logs ?? 6, this.fallback.logs);
    this.#vetoRatio = options.vetoRatio ?? 1.5;
    this.#vetoSlack = options.vetoSlack ?? 2;
    this.#ttl = options.recommendationTtl ?? 64;
    this.#vetoRatioQ8 = Math.round(this.#vetoRatio * 256);
    this.#vetoSlackQ8 = Math.round(this.#vetoSlack * 256);
    this.#drainLog = this.logs;
    this.#usage = new LogUsage(this.logs);
    this.integer = (options.arithmetic ?? "integer") === "integer";
    this.cellOf = new Int16Array(this.#u);
    if (this.integer) {
      this.#features = new FeatureConfig(this.#u);
      this.ledger = new IntSegmentLedger(this.#u);
      this.activity = new Uint32Array(this.#u);
      this.longActivity = new Uint32Array(this.#u);
      this.regions = new IntRegionActivity(this.#features);
    } else {
      this.#features = undefined;
      this.ledger = new SegmentLedger(this.#u, "rate");
      this.activity = new Float32Array(this.#u);
      this.longActivity = new Float32Array(this.#u);
      this.regions = new RegionActivity(this.#u);
    }
  }

  /** A copy that drives a copy of the device in `mode`: no history, feedback or pending recommendations. */
  cloneFor(mode: Mode): ProxiedGc {
    const c = new ProxiedGc(this.options);
    c.mode = mode;
    c.table = this.table;
    c.confidenceThreshold = this.confidenceThreshold;
    c.budget = new CollaborationBudget(this.budget.limit, this.budget.window);
    c.ledger = this.ledger.clone();
    c.cellOf = this.cellOf.slice();
    c.activity = this.activity.slice();
    c.longActivity = this.longActivity.slice();
    c.regions = this.regions.clone();
    // The copy's device holds the same open segments: it takes over the draining, and starts
    // it if the model placed here and does not place there.
    c.#placed = this.#placed;
    c.#drainLog = this.#drainLog;
    c.#usage = this.#usage.clone();
    return c;
  }

  get decisions(): number {
    return this.#decisions;
  }

  /** Recommended victims, best first; they replace any still pending. */
  recommend(victims: readonly number[]): void {
    this.#queue = Int32Array.from(victims.filter((v) => v >= 0));
    this.#queueHead = 0;
    this.#queueExpires = this.#decisions + this.#ttl;
  }

  get pendingRecommendations(): number {
    return this.#queue.length - this.#queueHead;
  }

  #life(cell: number): number {
    return this.table ? this.table[cell]! : this.#u;
  }

  #modelPlaces(): boolean {
    return this.table !== undefined && (this.mode === Mode.collaboration || this.mode === Mode.recommendation);
  }

  attach(view: GcView): void {
    this.ledger.attach(view);
    this.#usage.attach(view);
    this.fallback.attach?.(view);
  }

  onHostWrite(lba: number, prevTime: number, view: GcView): void {
    const now = view.now + 1;
    let interval = -1;
    let prevCell = -1;
    if (prevTime >= 0) {
      interval = now - prevTime;
      prevCell = this.cellOf[lba]!;
    }
    let cell: number;
    const f = this.#features;
    const region = this.regions.write(lba, now);
    if (f) {
      const act = (this.activity[lba] = decayActivityQ16(this.activity[lba]!, interval, f.tau));
      const long = (this.longActivity[lba] = decayActivityQ16(this.longActivity[lba]!, interval, f.longTau));
      cell = cellQ(interval, act, long, region, f);
    } else {
      const act = (this.activity[lba] = decayedActivity(this.activity[lba]!, interval, this.#u));
      const long = (this.longActivity[lba] = decayedActivity(this.longActivity[lba]!, interval, this.#u, LONG_DECAY));
      cell = composeCell(region, longBucket(long), recentCell(interval, act, this.#u));
    }
    this.cellOf[lba] = cell;
    this.history?.push(now, prevCell, cell);
    this.ledger.invalidate(lba, view);
    this.ledger.setLife(lba, this.#life(cell));
    this.fallback.onHostWrite?.(lba, prevTime, view);
  }

  onPlaced(lba: number, seg: number, view: GcView): void {
    this.ledger.placed(lba, seg, view);
    this.fallback.onPlaced?.(lba, seg, view);
  }

  hostLog(lba: number, view: GcView): number {
    if (this.#modelPlaces()) {
      // The model writes all its logs again: nothing left to drain.
      this.#placed = true;
      this.#drainLog = this.logs;
      return this.#class(this.ledger.remaining(lba, view.now));
    }
    if (this.#placed) {
      this.#placed = false;
      this.#drainLog = this.fallback.logs;
    }
    // The usage counts every log's open-segment fill (the default's writes included): a log
    // with nothing open needs no draining, one whose segment just sealed is done.
    while (this.#drainLog < this.logs && this.#usage.fill[this.#drainLog] === 0) this.#drainLog++;
    if (this.#drainLog < this.logs) return this.#usage.wrote(this.#drainLog);
    return this.#usage.wrote(this.fallback.hostLog?.(lba, view) ?? 0);
  }

  /** The model's extra logs whose open segments the default's writes still have to fill. */
  get drainingLogs(): number {
    return this.logs - this.#drainLog;
  }

  gcLog(lba: number, victim: number, view: GcView): number {
    // Predict again with today's table and its region's bucket of now; a block that outlived
    // its prediction STALE times over most likely changed hotness: expect its age again.
    let life = this.#life(withRegion(this.cellOf[lba]!, this.regions.peek(lba, view.now)));
    const age = view.now - view.blockTime[lba]!;
    if (this.integer ? age * 256 > STALE_Q8 * life : age > STALE * life) life = age;
    this.ledger.setLife(lba, life);
    if (this.#modelPlaces()) return this.#class(life);
    return this.#usage.wrote(this.fallback.gcLog?.(lba, victim, view) ?? 0);
  }

  #class(life: number): number {
    return this.#usage.log(this.integer ? lifeClassQ(life, this.#u, this.logs) : lifetimeClass(life, this.#u, this.logs));
  }

  /** The model's victim: a pending recommendation still valid, else the table's own choice. */
  #modelAnswer(view: GcView): { victim: number; recommended: boolean } | undefined {
    while (this.#queueHead < this.#queue.length) {
      if (this.#decisions > this.#queueExpires) {
        this.stats.staleRecommendations += this.#queue.length - this.#queueHead;
        this.#queueHead = this.#queue.length;
        break;
      }
      const seg = this.#queue[this.#queueHead++]!;
      if (isVictim(view, seg)) return { victim: seg, recommended: true };
      this.stats.staleRecommendations++;
    }
    if (!this.table) return undefined;
    const seg = this.ledger.selectVictim(view);
    return seg < 0 ? undefined : { victim: seg, recommended: false };
  }

  /** How much better the model scores its victim than the default's, in [0, 1]. */
  #confidence(model: number, dflt: number, view: GcView): number {
    if (model === dflt) return 1;
    const vm = view.segValid[model]!, vd = view.segValid[dflt]!;
    if (vm === 0) return 1;
    if (vd === 0) return 0;
    const sm = this.ledger.score(model, view);
    const sd = this.ledger.score(dflt, view);
    // Integer scores give a Q16 confidence; the threshold compares against it exactly when it
    // is a multiple of 2^-16 (0.5 is).
    if (this.integer) return confidenceQ16(sm, sd) / 2 ** CONF_FRAC;
    return sm <= 0 ? 0 : Math.max(0, Math.min(1, 1 - sd / sm));
  }

  /** The model's victim copies at most vetoRatio x the default's + vetoSlack (in 1/256ths when integer). */
  #withinVeto(vm: number, vd: number): boolean {
    if (this.integer) return vm * 256 <= this.#vetoRatioQ8 * vd + this.#vetoSlackQ8;
    return vm <= this.#vetoRatio * vd + this.#vetoSlack;
  }

  selectVictim(view: GcView): number {
    this.#decisions++;
    const mode = this.mode;
    const dflt = this.fallback.selectVictim(view);
    if (mode === Mode.emergency) {
      this.decided.emergency.default++;
      return dflt;
    }
    const ans = this.#modelAnswer(view);
    const confidence = ans ? this.#confidence(ans.victim, dflt, view) : undefined;
    const d = decide({
      mode,
      defaultDecision: dflt,
      model: ans ? { decision: ans.victim, confidence: confidence! } : undefined,
      confidenceThreshold: this.confidenceThreshold,
      budgetRemaining: this.budget.remaining,
      guard: (m, df) => isVictim(view, m) && (mode !== Mode.collaboration || this.#withinVeto(view.segValid[m]!, view.segValid[df]!)),
    });
    if (mode === Mode.collaboration) this.budget.record(d.consumesBudget);
    this.decided[mode][d.source]++;
    if (d.reason === "veto") this.stats.vetoed++;
    else if (d.reason === "low-confidence") this.stats.lowConfidence++;
    else if (d.reason === "budget-exhausted") this.stats.budgetExhausted++;
    if (d.source === "model" && ans?.recommended) this.stats.recommended++;
    this.onDecision?.({
      mode,
      source: d.source,
      defaultVictim: dflt,
      modelVictim: ans?.victim,
      confidence,
      defaultValid: view.segValid[dflt]!,
      modelValid: ans ? view.segValid[ans.victim]! : undefined,
      recommended: ans?.recommended ?? false,
      reason: d.reason,
    });
    return d.decision;
  }
}
