/**
 * @module subsystems/lfs-gc/proxy/adapter
 * The lfs-gc subsystem adapter: the agent's view of the simulated GC's proxy, through the same
 * `SubsystemAdapter` interface (the RFC's model operations) as every other subsystem, so the
 * agent's runner and the shared conformance suite work with it unchanged.
 *
 * - Models: `deployModel` takes a lifetime-table artefact (`table.ts`); a defective one is
 *   refused and the previous table stays.
 * - Recommendations: up to RECOMMENDED_VICTIMS victim segments, best first, each field
 *   bounded to [-1, segments - 1] (-1: no victim); validated before anything is written and
 *   decoded and bounds-checked again on the kernel side, then still checked against the
 *   device's state when used.
 * - Datasets: `gc-block-history` (published memory stream; `pollDatasets`, or the typed
 *   `readHistory` the simulation's agent uses) and `gc-segment-state` (a structure prepared
 *   on request: `getDataset({ type: "structure" })`, or the typed `segmentState`).
 * - Efficiency: counters per mode and source (decisions; evaluated and good per epoch
 *   outcome) and `estimatePaired`, the interface's optional paired outcomes: the per-epoch WA
 *   gains the mode controller weighs.
 * Host writes come from the workload named in the options: `writesPerPoll` of them at each
 * dataset poll when an agent runs it, or `runHost` / `driveDecisions` from a caller. When the
 * workload is a sequence, each part starting is a `workload` event (`drainEvents`), so the
 * agent's event log shows the shift beside the transitions it leads to.
 * `retrainWrites` and `recommend` are for the agent's model thread (`agent-parts.ts`); the
 * kernel side takes them and ignores them, so one options object configures the proxy.
 */
import type { AdapterEvent, DatasetPortion, DatasetRequest, SubsystemAdapter, SystemState } from "../../../agent/adapter.ts";
import { ErrorCode, KmlibError } from "../../../errors.ts";
import { type Control, monotonicNs } from "../../../proxy/control.ts";
import { controlSystemState } from "../../../agent/proxy-state.ts";
import type { EfficiencyCounters } from "../../../proxy/efficiency.ts";
import type { FeedbackRecord } from "../../../proxy/feedback.ts";
import { Lifecycle } from "../../../proxy/lifecycle.ts";
import type { Mode } from "../../../proxy/mode.ts";
import type { PairedCounters } from "../../../proxy/paired.ts";
import { type Recommendation, type RecommendationSchema, decodeRecommendation, encodeRecommendation, validateSchema } from "../../../proxy/recommendation.ts";
import { ShiftedWorkload, makeWorkload, policyFactory } from "../registry.ts";
import type { Workload } from "../workload.ts";
import { HISTORY_COLUMNS, SEGMENT_COLUMNS, type SegmentRows } from "./datasets.ts";
import { GcKernel } from "./kernel.ts";
import { type HistoryColumns, decodeTable } from "./table.ts";

export const RECOMMENDED_VICTIMS = 8;

/** Default policies the proxy may fall back on: their state lives in the device, so copies are exact. */
export const FALLBACKS = ["greedy", "cost-benefit", "f2fs-cb", "fifo"] as const;
export type Fallback = (typeof FALLBACKS)[number];

export interface LfsGcOptions {
  logicalBlocks: number;
  blocksPerSegment: number;
  spareFactor: number;
  fallback: Fallback;
  /** Host writes per shadow-evaluation epoch (0: off). */
  epochWrites: number;
  /**
   * Host workload (registry spec, or a sequence `A@COUNT,...,Z` that shifts after COUNT host
   * writes, COUNT in writes or Nx logical blocks: `shifted-workload.ts`) and its seed.
   */
  workload: string;
  seed: number;
  /** Host writes simulated at each `pollDatasets` (for an agent driving it on its own). */
  writesPerPoll: number;
  heartbeatTimeoutMs: number;
  confidenceThreshold: number;
  budgetLimit: number;
  budgetWindow: number;
  recommendationTtl: number;
  historyCapacity: number;
  /** Model thread: host writes between new lifetime-table versions (0: every round). */
  retrainWrites: number;
  /** Model thread: recommend victims every round. */
  recommend: boolean;
}

export const DEFAULT_LFS_GC_OPTIONS: Readonly<LfsGcOptions> = Object.freeze({
  logicalBlocks: 16384,
  blocksPerSegment: 32,
  spareFactor: 0.1,
  fallback: "greedy",
  epochWrites: 16384,
  workload: "hotcold-90-10",
  seed: 1,
  writesPerPoll: 0,
  heartbeatTimeoutMs: 1000,
  confidenceThreshold: 0.25,
  budgetLimit: 500,
  budgetWindow: 1000,
  recommendationTtl: 64,
  historyCapacity: 1 << 20,
  retrainWrites: 4096,
  recommend: true,
});

/** Validates init options: unknown keys and wrong types are KMLIB_INVALID_CONFIG naming the key. */
export function parseLfsGcOptions(raw: Readonly<Record<string, unknown>>): LfsGcOptions {
  const o: Record<string, unknown> = { ...DEFAULT_LFS_GC_OPTIONS };
  const bad = (k: string, why: string) => new KmlibError(ErrorCode.InvalidConfig, `lfs-gc options.${k}: ${why}`);
  for (const [k, v] of Object.entries(raw)) {
    if (!(k in DEFAULT_LFS_GC_OPTIONS)) throw bad(k, `unknown option (known: ${Object.keys(DEFAULT_LFS_GC_OPTIONS).join(", ")})`);
    if (v === undefined) continue;
    const want = typeof DEFAULT_LFS_GC_OPTIONS[k as keyof LfsGcOptions];
    if (typeof v !== want) throw bad(k, `must be a ${want}, got ${JSON.stringify(v)}`);
    o[k] = v;
  }
  const p = o as unknown as LfsGcOptions;
  for (const k of ["logicalBlocks", "blocksPerSegment", "budgetWindow", "recommendationTtl", "historyCapacity", "seed"] as const) {
    if (!Number.isSafeInteger(p[k]) || p[k] < 1) throw bad(k, `must be a positive integer, got ${p[k]}`);
  }
  for (const k of ["epochWrites", "writesPerPoll", "budgetLimit", "retrainWrites"] as const) {
    if (!Number.isSafeInteger(p[k]) || p[k] < 0) throw bad(k, `must be a non-negative integer, got ${p[k]}`);
  }
  if (!(FALLBACKS as readonly string[]).includes(p.fallback)) throw bad("fallback", `must be one of ${FALLBACKS.join(", ")}, got ${p.fallback}`);
  if (!(p.heartbeatTimeoutMs > 0)) throw bad("heartbeatTimeoutMs", `must be positive, got ${p.heartbeatTimeoutMs}`);
  if (!(p.confidenceThreshold >= 0 && p.confidenceThreshold <= 1)) throw bad("confidenceThreshold", `must lie in [0, 1], got ${p.confidenceThreshold}`);
  return p;
}

/** Segments of the device these options build (what bounds a victim id). */
function segmentsFor(o: LfsGcOptions): number {
  return Math.round(o.logicalBlocks / (o.blocksPerSegment * (1 - o.spareFactor))) + 7;
}

function victimSchema(segments: number): RecommendationSchema {
  return validateSchema({ fields: Array.from({ length: RECOMMENDED_VICTIMS }, (_, i) => ({ name: `victim_${i}`, min: -1, max: segments - 1 })) });
}

export class LfsGcAdapter implements SubsystemAdapter {
  readonly kind = "lfs-gc";
  readonly columns = HISTORY_COLUMNS;
  readonly lifecycle = new Lifecycle();
  #schema: RecommendationSchema = victimSchema(segmentsFor(DEFAULT_LFS_GC_OPTIONS));
  #kernel: GcKernel | undefined;
  #options: LfsGcOptions = { ...DEFAULT_LFS_GC_OPTIONS };
  #host: Workload | undefined;
  #polled = 0;
  /** Parts of a shifting host workload reported so far, and the events not yet drained. */
  #partsSeen = 0;
  #events: AdapterEvent[] = [];
  readonly #nowNs: () => bigint;
  readonly #defaults: Readonly<Partial<LfsGcOptions>>;

  /** `defaults` stand in for options that init/reinit leave out (the agent's own defaults). */
  constructor(
    readonly proxy: string,
    opts: { nowNs?: () => bigint; defaults?: Partial<LfsGcOptions> } = {},
  ) {
    this.#nowNs = opts.nowNs ?? monotonicNs;
    this.#defaults = { ...opts.defaults };
  }

  get recommendationSchema(): RecommendationSchema {
    return this.#schema;
  }
  get options(): Readonly<LfsGcOptions> {
    return this.#options;
  }
  /** The host workload the options name (a `ShiftedWorkload` for a sequence), once initialised. */
  get workload(): Workload | undefined {
    return this.#host;
  }
  /** The simulated kernel side (for the simulation's agent, tests and reports). */
  get kernel(): GcKernel {
    if (!this.#kernel) throw new KmlibError(ErrorCode.IllegalState, `lfs-gc proxy ${this.proxy}: not initialised`);
    return this.#kernel;
  }

  #notShutDown(what: string): GcKernel {
    if (this.lifecycle.state === "shutting down") throw new KmlibError(ErrorCode.IllegalState, `lfs-gc proxy ${this.proxy}: cannot ${what} after shutdown`);
    return this.kernel;
  }

  #build(raw: Readonly<Record<string, unknown>>): void {
    const given = Object.fromEntries(Object.entries(raw).filter(([, v]) => v !== undefined));
    const o = parseLfsGcOptions({ ...this.#defaults, ...given });
    const fallback = policyFactory(o.fallback);
    const ctx = { logicalBlocks: o.logicalBlocks, blocksPerSegment: o.blocksPerSegment, seed: o.seed };
    const kernel = new GcKernel({
      proxy: this.proxy,
      logicalBlocks: o.logicalBlocks,
      blocksPerSegment: o.blocksPerSegment,
      spareFactor: o.spareFactor,
      makeFallback: () => fallback(ctx),
      epochWrites: o.epochWrites,
      nowNs: this.#nowNs,
      heartbeatTimeoutNs: BigInt(Math.round(o.heartbeatTimeoutMs * 1e6)),
      confidenceThreshold: o.confidenceThreshold,
      budgetLimit: o.budgetLimit,
      budgetWindow: o.budgetWindow,
      recommendationTtl: o.recommendationTtl,
      historyCapacity: o.historyCapacity,
    });
    this.#options = o;
    this.#kernel = kernel;
    this.#schema = victimSchema(kernel.segments);
    this.#host = makeWorkload(o.workload, { logicalBlocks: o.logicalBlocks, seed: o.seed });
    this.#polled = kernel.history.end;
    this.#partsSeen = 0;
    this.#noteHost();
  }

  /** Queues a `workload` event for each part of a shifting host workload that started since the last look. */
  #noteHost(): void {
    const w = this.#host;
    if (!(w instanceof ShiftedWorkload)) return;
    const k = this.kernel;
    for (; this.#partsSeen <= w.currentIndex; this.#partsSeen++) {
      const i = this.#partsSeen;
      const part = w.parts[i]!;
      const startsAt = w.starts[i]!;
      // The device's own clock at the shift: host writes, its initial fill included.
      const deviceWrites = k.store.hostWrites - (w.written - startsAt);
      const span = part.writes === undefined ? "running on" : `for ${part.writes} host writes`;
      this.#events.push({
        kind: "workload",
        message: `host workload ${w.name}: part ${i + 1}/${w.parts.length} (${part.workload.name}) ${i === 0 ? "starts" : `starts after ${startsAt} host writes`}, ${span}`,
        data: { sequence: w.name, part: i + 1, parts: w.parts.length, workload: part.workload.name, startsAt, writes: part.writes ?? null, deviceWrites },
      });
    }
  }

  /** Parts of a shifting host workload that started since the last call (`workload` events). */
  drainEvents(): AdapterEvent[] {
    const out = this.#events;
    this.#events = [];
    return out;
  }

  async init(options: Readonly<Record<string, unknown>>): Promise<void> {
    this.lifecycle.apply("init");
    this.#build(options);
  }
  async reinit(options: Readonly<Record<string, unknown>>): Promise<void> {
    this.lifecycle.apply("reinit");
    this.#build(options);
  }
  async start(): Promise<void> {
    this.lifecycle.apply("start");
    this.lifecycle.apply("run");
  }
  async stop(): Promise<void> {
    this.lifecycle.apply("stop");
  }
  async shutdown(): Promise<void> {
    this.lifecycle.apply("shutdown");
  }

  async systemState(): Promise<SystemState> {
    const c: Control = this.#kernel?.control ?? { mode: "emergency", modelVersion: 0, heartbeatNs: 0n, heartbeatTimeoutNs: 0n, confidenceThreshold: 0, budgetLimit: 0, budgetWindow: 1, generation: 0n };
    return controlSystemState(this.lifecycle.state, c, this.#nowNs());
  }

  async setMode(mode: Mode): Promise<void> {
    this.#notShutDown("set the mode").writeControl({ mode });
  }
  async heartbeat(nowNs: bigint): Promise<void> {
    this.#notShutDown("heartbeat").writeControl({ heartbeatNs: nowNs });
  }
  async deployModel(version: number, artefact: Uint8Array): Promise<void> {
    const k = this.#notShutDown("deploy a model");
    if (!Number.isSafeInteger(version) || version < 1) throw new KmlibError(ErrorCode.InvalidArgument, `model version must be a positive integer, got ${version}`);
    k.deployTable(version, decodeTable(artefact, this.#options.logicalBlocks));
  }

  /** Host writes from the configured workload (the subsystem's own activity). */
  runHost(n: number): void {
    this.#requireRunning();
    this.kernel.writeFrom(this.#host!, n);
    this.#noteHost();
  }
  /** Exactly `n` GC decisions (background GC rounds between host writes). */
  driveDecisions(n: number): void {
    this.#requireRunning();
    this.kernel.driveDecisions(n, this.#host!);
    this.#noteHost();
  }
  #requireRunning(): void {
    if (!this.lifecycle.active) throw new KmlibError(ErrorCode.IllegalState, `lfs-gc proxy ${this.proxy}: not running (state "${this.lifecycle.state}")`);
  }

  /** Per-block history from `offset` (default: where the last read ended) to the end. */
  readHistory(offset = this.#polled): HistoryColumns {
    const h = this.kernel.history;
    h.publish();
    const size = h.end - offset;
    if (size <= 0) return { time: new Float64Array(0), prevCell: new Int16Array(0), cell: new Int16Array(0), length: 0 };
    const cols = h.read({ offset, size });
    this.#polled = Math.max(this.#polled, offset + size);
    return cols;
  }

  /** A fresh segment-state snapshot, extracted whole. */
  segmentState(): SegmentRows {
    const rows = this.kernel.segmentState();
    if (rows.length > 0) rows.tracker.extract({ offset: 0, size: rows.length });
    return rows;
  }

  async getDataset(request: DatasetRequest = {}): Promise<DatasetPortion> {
    const k = this.#notShutDown("extract a dataset");
    if (request.type === "structure") {
      const s = k.segmentState();
      const p = request.portion ?? { offset: 0, size: s.length };
      s.tracker.extract(p);
      const rows = [];
      for (let i = p.offset; i < p.offset + p.size; i++) rows.push({ seq: i, features: [s.segment[i]!, s.valid[i]!, s.rateSumQ[i]!, s.quiet[i]!] });
      return { dataset: { ...s.tracker.describe(), columns: SEGMENT_COLUMNS }, portion: p, rows };
    }
    if (request.type !== undefined && request.type !== "memory stream") throw new KmlibError(ErrorCode.NotFound, `lfs-gc publishes no ${request.type} dataset`);
    const h = k.history;
    h.publish();
    const p = request.portion ?? { offset: h.start, size: h.end - h.start };
    const c = h.read(p);
    const rows = Array.from({ length: c.length }, (_, i) => ({ seq: p.offset + i, features: [c.time[i]!, c.prevCell[i]!, c.cell[i]!] }));
    return { dataset: { ...h.tracker.describe(), columns: this.columns }, portion: p, rows };
  }

  async pollDatasets(): Promise<DatasetPortion[]> {
    const k = this.#notShutDown("poll datasets");
    if (this.#options.writesPerPoll > 0 && this.lifecycle.active) {
      k.writeFrom(this.#host!, this.#options.writesPerPoll);
      this.#noteHost();
    }
    k.history.publish();
    const from = Math.max(this.#polled, k.history.start);
    if (from >= k.history.end) return [];
    this.#polled = k.history.end;
    return [await this.getDataset({ type: "memory stream", portion: { offset: from, size: k.history.end - from } })];
  }

  preprocessData(p: DatasetPortion): DatasetPortion {
    return p;
  }
  preprocessRecommendation(rec: Recommendation): Uint8Array {
    return encodeRecommendation(this.#schema, rec);
  }
  async applyRecommendation(rec: Recommendation): Promise<void> {
    const k = this.#notShutDown("apply a recommendation");
    // User space validates and encodes; the kernel side decodes and bounds-checks again.
    const seen = decodeRecommendation(this.#schema, this.preprocessRecommendation(rec));
    const victims = this.#schema.fields.map((f) => seen.values[f.name]!).filter((v) => v >= 0);
    k.recommend(seen.modelVersion, victims);
  }

  async estimateEfficiency(): Promise<EfficiencyCounters> {
    return this.kernel.counters();
  }
  /** Paired per-epoch outcomes (model WA gain over the default's), per mode. */
  async estimatePaired(): Promise<PairedCounters> {
    return this.kernel.paired;
  }
  async backPropagate(): Promise<FeedbackRecord[]> {
    return this.kernel.drainFeedback();
  }
  async correctSystemState(): Promise<void> {
    this.#notShutDown("correct its state");
  }
}

