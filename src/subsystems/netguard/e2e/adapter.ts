/**
 * @module subsystems/netguard/e2e/adapter
 * The netguard subsystem adapter: the agent's view (agent/adapter.ts) of the XDP data path.
 * - Mode, heartbeat, model slot and rule parameters live in the data path's control map;
 *   the kernel applies them per packet and falls back to emergency on a stale heartbeat on its
 *   own (the same rule `systemState` reports).
 * - Models are `model-program.ts` artefacts, compiled and swapped atomically into the slot; a
 *   failed load leaves the previous model in place.
 * - Efficiency, feedback and datasets come from the kernel's per-packet flow records (ring
 *   buffer, every packet sampled by default): each record says the mode, who decided, both
 *   answers and the features. "Good" needs ground truth, which the kernel does not have: an
 *   optional `labelOf` oracle supplies it (in the lab: the namespace that sent the packet).
 *   The kernel's aggregate counters (`kernelStats`) cross-check the records.
 * Needs CAP_BPF + CAP_NET_ADMIN (root).
 */
import { attachXdp, attachTcx, pinPath, unpin, type Link, type LinkTarget } from "../../../bpf/index.ts";
import { mkdirSync } from "node:fs";
import { ErrorCode, KmlibError } from "../../../errors.ts";
import type { DatasetPortion, DatasetRequest, SubsystemAdapter, SystemState } from "../../../agent/adapter.ts";
import { heartbeatAgeNs } from "../../../agent/proxy-state.ts";
import type { Control as ProxyControl, Fallback } from "../../../proxy/control.ts";
import { DatasetTracker } from "../../../proxy/dataset.ts";
import type { Counter, EfficiencyCounters } from "../../../proxy/efficiency.ts";
import type { FeedbackRecord } from "../../../proxy/feedback.ts";
import { Lifecycle } from "../../../proxy/lifecycle.ts";
import { MODES, type Mode, type Source } from "../../../proxy/mode.ts";
import { type Recommendation, type RecommendationSchema, encodeRecommendation, validateSchema } from "../../../proxy/recommendation.ts";
import { type Control, MODE_NAMES, type ModeName, defaultControl, gcra, modeByName } from "../control.ts";
import { NetguardDataPath, type NetguardRecordReader } from "../datapath.ts";
import { FEATURE_NAMES } from "../features.ts";
import { DecisionSource, Flag } from "../layout.ts";
import type { NetguardRecord, NetguardStats } from "../record.ts";
import { MapName, type Attach } from "../program.ts";
import { buildNetguardModelProgram, decodeArtefact, type NetguardModel } from "./model-program.ts";

/** Ground truth for a record: 1 = attack (should be dropped), 0 = benign, undefined = unknown. */
export type LabelOracle = (r: NetguardRecord) => 0 | 1 | undefined;

export interface NetguardAdapterOptions {
  readonly attach?: Attach;
  /** Ring buffer bytes (default 32 MiB: ~120k records of slack between drains). */
  readonly ringBytes?: number;
  /** Records per 65536 packets (default 65536: every packet). */
  readonly sampleRate?: number;
  readonly labelOf?: LabelOracle;
  /** Keep one feedback record out of this many (default 1: all). */
  readonly feedbackEvery?: number;
  /** Keep one dataset row out of this many (default 1: all). */
  readonly datasetEvery?: number;
  /** Dataset rows kept for extraction at most (default 100000; the oldest go first). */
  readonly datasetCap?: number;
  /** Drain the ring buffer this often while running (ms, default 20). */
  readonly drainMs?: number;
  /** Initial netguard control fields (rules, cache...). */
  readonly control?: Partial<Control>;
}

const RECOMMENDATION_FIELDS = [
  { name: "conf_threshold_permille", min: 0, max: 1000 },
  { name: "drop_budget_per_s", min: 0, max: 10_000_000 },
  { name: "syn_limit", min: 1, max: 1_000_000 },
  { name: "rate_pps", min: 1, max: 10_000_000 },
] as const;

const num = (o: Readonly<Record<string, unknown>>, k: string): number | undefined => (typeof o[k] === "number" ? (o[k] as number) : undefined);

type Cells = Record<Mode, Record<Source, { decided: number; evaluated: number; good: number }>>;

export class NetguardAdapter implements SubsystemAdapter {
  readonly kind = "netguard";
  readonly columns = FEATURE_NAMES;
  readonly recommendationSchema: RecommendationSchema = validateSchema({ fields: RECOMMENDATION_FIELDS });
  readonly lifecycle = new Lifecycle();
  readonly opts: NetguardAdapterOptions;
  #dp: NetguardDataPath | undefined;
  #reader: NetguardRecordReader | undefined;
  #link: Link | undefined;
  #timer: NodeJS.Timeout | undefined;
  #modelVersion = 0;
  #model: NetguardModel | undefined;
  /** Model generation (control.generation after a swap) -> registry version. */
  readonly #versionOfGen = new Map<number, number>();
  #cells: Cells = fresh();
  #feedback: FeedbackRecord[] = [];
  #seq = 0;
  #rows: Array<{ seq: number; features: number[]; label?: number }> = [];
  #rowBase = 0;
  #polled = 0;
  #dataset = new DatasetTracker("netguard-flow-records", "memory stream", 0);
  readonly #listeners = new Set<(r: readonly NetguardRecord[]) => void>();
  #records = 0;

  constructor(
    readonly proxy: string,
    opts: NetguardAdapterOptions = {},
  ) {
    this.opts = opts;
  }

  /** The loaded data path (after init). */
  get dataPath(): NetguardDataPath {
    if (!this.#dp) throw new KmlibError(ErrorCode.IllegalState, `netguard proxy ${this.proxy}: not initialised`);
    return this.#dp;
  }
  get model(): NetguardModel | undefined {
    return this.#model;
  }
  /** Records decoded so far. */
  get recordCount(): number {
    return this.#records;
  }

  #live(what: string): NetguardDataPath {
    if (this.lifecycle.state === "shutting down") throw new KmlibError(ErrorCode.IllegalState, `netguard proxy ${this.proxy}: cannot ${what} after shutdown`);
    return this.dataPath;
  }

  #configure(options: Readonly<Record<string, unknown>>): void {
    const dp = this.dataPath;
    const timeoutMs = num(options, "heartbeatTimeoutMs") ?? 1000;
    const conf = num(options, "confidenceThreshold");
    const budget = num(options, "budgetLimit");
    dp.updateControl((c) => ({
      ...c,
      heartbeatTimeoutNs: BigInt(Math.round(timeoutMs * 1e6)),
      sampleRate: this.opts.sampleRate ?? 65536,
      ...(conf === undefined ? {} : { confThreshold: Math.round(Math.min(1, Math.max(0, conf)) * 1000) }),
      // the proxy's budget is "model decisions per window"; netguard's kernel enforces drops per second
      ...(budget === undefined || budget === 0 ? {} : { dropBudget: budget }),
    }));
  }

  async init(options: Readonly<Record<string, unknown>>): Promise<void> {
    this.lifecycle.apply("init");
    const attach = this.opts.attach ?? "xdp";
    this.#dp = NetguardDataPath.load({ attach, ringBytes: this.opts.ringBytes ?? 32 << 20, control: { ...defaultControl(), ...this.opts.control } });
    this.#reader = this.#dp.records();
    this.#configure(options);
  }

  async reinit(options: Readonly<Record<string, unknown>>): Promise<void> {
    this.lifecycle.apply("reinit");
    this.#configure(options);
  }

  async start(): Promise<void> {
    this.lifecycle.apply("start");
    this.lifecycle.apply("run");
    this.#timer = setInterval(() => this.drain(), this.opts.drainMs ?? 20);
    this.#timer.unref();
  }

  async stop(): Promise<void> {
    this.lifecycle.apply("stop");
    this.#stopTimer();
    this.drain();
  }

  async shutdown(): Promise<void> {
    this.lifecycle.apply("shutdown");
    this.#stopTimer();
    this.close();
  }

  #stopTimer(): void {
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = undefined;
  }

  /** Release every kernel object (also what shutdown does). */
  close(): void {
    this.#stopTimer();
    this.#link?.close();
    this.#link = undefined;
    this.#reader?.close();
    this.#reader = undefined;
    this.#dp?.close();
  }

  [Symbol.dispose](): void {
    this.close();
  }

  /** Attach the data path: XDP (or tcx ingress) on an interface, e.g. `{ifname: "eth0", netns}`. */
  attach(target: LinkTarget, mode?: "auto" | "driver" | "generic"): Link {
    const dp = this.#live("attach");
    if (this.#link) throw new KmlibError(ErrorCode.IllegalState, `netguard proxy ${this.proxy}: already attached (${this.#link.describe()})`);
    this.#link = dp.spec.attach === "xdp" ? attachXdp(dp.main, target, mode ? { mode } : {}) : attachTcx(dp.main, target, "ingress");
    return this.#link;
  }

  get link(): Link | undefined {
    return this.#link;
  }

  /**
   * Pin the link and the maps the kernel side needs to keep deciding without this process
   * (control, stats, the program array; pinning the program array also keeps its slots,
   * which the kernel empties when the last user reference goes). Returns the directory.
   */
  pin(dir: string): string {
    const dp = this.dataPath;
    if (!this.#link) throw new KmlibError(ErrorCode.IllegalState, `netguard proxy ${this.proxy}: attach before pinning`);
    const abs = pinPath(dir);
    mkdirSync(abs, { recursive: true });
    this.#link.pin(`${abs}/link`);
    for (const m of [MapName.CONTROL, MapName.STATS, MapName.PROGS]) dp.maps[m].pin(`${abs}/${m}`);
    return abs;
  }

  /** Remove a pin directory made by `pin` (the link detaches once nothing holds it). */
  static unpin(dir: string): void {
    unpin(dir);
  }

  /** Called with every batch of decoded records (for collectors); returns the unsubscribe. */
  subscribe(fn: (r: readonly NetguardRecord[]) => void): () => void {
    this.#listeners.add(fn);
    return () => this.#listeners.delete(fn);
  }

  /** Read and account every record available now; returns how many. */
  drain(): number {
    const reader = this.#reader;
    if (!reader) return 0;
    let total = 0;
    for (;;) {
      const recs = reader.read(8192);
      if (recs.length === 0) break;
      total += recs.length;
      for (const r of recs) this.#account(r);
      for (const fn of this.#listeners) fn(recs);
    }
    this.#records += total;
    return total;
  }

  #account(r: NetguardRecord): void {
    const mode = MODES[r.mode] ?? "emergency";
    const modelRan = (r.flags & Flag.MODEL_RAN) !== 0;
    const source: Source = r.source === DecisionSource.MODEL ? "model" : "default";
    const label = this.opts.labelOf?.(r);
    const cell = this.#cells[mode];
    cell[source].decided++;
    if (label !== undefined) {
      cell.default.evaluated++;
      if (r.defaultVerdict === label) cell.default.good++;
      if (modelRan) {
        cell.model.evaluated++;
        if (r.modelVerdict === label) cell.model.good++;
      }
    }
    const seq = this.#seq++;
    const features = r.features.map(Number);
    if ((mode === "learning" || mode === "collaboration") && seq % (this.opts.feedbackEvery ?? 1) === 0) {
      const version = this.#versionOfGen.get(r.generation);
      this.#feedback.push({
        proxy: this.proxy,
        seq,
        mode,
        source,
        defaultDecision: r.defaultVerdict,
        ...(modelRan ? { modelDecision: r.modelVerdict, confidence: r.modelConf / 1000, ...(version ? { modelVersion: version } : {}) } : {}),
        ...(label === undefined ? {} : { defaultGood: r.defaultVerdict === label, ...(modelRan ? { modelGood: r.modelVerdict === label } : {}) }),
        features,
        time: Number(r.tsNs),
      });
    }
    if (seq % (this.opts.datasetEvery ?? 1) === 0) {
      this.#rows.push({ seq, features, ...(label === undefined ? {} : { label }) });
      const cap = this.opts.datasetCap ?? 100_000;
      if (this.#rows.length > cap) {
        const cut = this.#rows.length - cap;
        this.#rows.splice(0, cut);
        this.#rowBase += cut;
      }
      this.#dataset.publish(1);
    }
  }

  /** The kernel's own counters (summed over CPUs). */
  kernelStats(): NetguardStats {
    return this.dataPath.stats();
  }

  async systemState(): Promise<SystemState> {
    const c = this.dataPath.control();
    const now = process.hrtime.bigint();
    // the data path's rule (gen/rules.ts modeFragment): signed age > timeout, when watched
    const stale = c.heartbeatTimeoutNs !== 0n && BigInt.asIntN(64, now - c.heartbeatNs) > BigInt.asIntN(64, c.heartbeatTimeoutNs);
    const fallback: Fallback = !stale ? "none" : c.heartbeatNs === 0n ? "no-heartbeat" : "stale-heartbeat";
    const requested = MODE_NAMES[c.mode] ?? "emergency";
    return {
      lifecycle: this.lifecycle.state,
      requestedMode: requested,
      effectiveMode: stale ? "emergency" : requested,
      fallback,
      modelVersion: this.#modelVersion,
      heartbeatAgeNs: heartbeatAgeNs(c.heartbeatNs, now),
      control: this.#proxyControl(c),
    };
  }

  #proxyControl(c: Control): ProxyControl {
    return {
      mode: MODE_NAMES[c.mode] ?? "emergency",
      modelVersion: this.#modelVersion,
      heartbeatNs: c.heartbeatNs,
      heartbeatTimeoutNs: c.heartbeatTimeoutNs,
      confidenceThreshold: c.confThreshold / 1000,
      budgetLimit: c.dropBudget,
      budgetWindow: 1,
      generation: BigInt(c.generation),
    };
  }

  async setMode(mode: Mode): Promise<void> {
    this.#live("set the mode").setMode(modeByName(mode as ModeName));
  }

  async heartbeat(nowNs: bigint): Promise<void> {
    this.#live("heartbeat").updateControl((c) => ({ ...c, heartbeatNs: nowNs }));
  }

  async deployModel(version: number, artefact: Uint8Array): Promise<void> {
    const dp = this.#live("deploy a model");
    let model: NetguardModel;
    try {
      model = decodeArtefact(artefact);
    } catch (e) {
      throw new KmlibError(ErrorCode.InvalidModel, `netguard proxy ${this.proxy}: model version ${version}: ${(e as Error).message}`, { cause: e });
    }
    const prog = dp.loadModel(buildNetguardModelProgram(model, dp.spec.attach));
    this.drain();
    dp.swapModel(prog)?.close();
    this.#versionOfGen.set(dp.control().generation, version);
    this.#modelVersion = version;
    this.#model = model;
  }

  async getDataset(request: DatasetRequest = {}): Promise<DatasetPortion> {
    this.drain();
    const end = this.#rowBase + this.#rows.length;
    const p = request.portion ?? { offset: this.#rowBase, size: this.#rows.length };
    if (p.offset < this.#rowBase) throw new KmlibError(ErrorCode.OutOfBounds, `netguard dataset: rows before ${this.#rowBase} were discarded (cap ${this.opts.datasetCap ?? 100_000})`);
    this.#dataset.extract(p);
    const rows = this.#rows.slice(p.offset - this.#rowBase, Math.min(end, p.offset + p.size) - this.#rowBase);
    return { dataset: { ...this.#dataset.describe(), columns: this.columns }, portion: p, rows };
  }

  async pollDatasets(): Promise<DatasetPortion[]> {
    this.drain();
    const from = Math.max(this.#polled, this.#rowBase);
    const end = this.#rowBase + this.#rows.length;
    if (from >= end) return [];
    this.#polled = end;
    return [await this.getDataset({ portion: { offset: from, size: end - from } })];
  }

  preprocessData(p: DatasetPortion): DatasetPortion {
    return p;
  }

  preprocessRecommendation(rec: Recommendation): Uint8Array {
    return encodeRecommendation(this.recommendationSchema, rec);
  }

  async applyRecommendation(rec: Recommendation): Promise<void> {
    const dp = this.#live("apply a recommendation");
    this.preprocessRecommendation(rec);
    const v = rec.values;
    dp.updateControl((c) => ({ ...c, confThreshold: v.conf_threshold_permille!, dropBudget: v.drop_budget_per_s!, synLimit: v.syn_limit!, ...gcra({ pps: v.rate_pps!, burst: Math.max(1, Math.round(v.rate_pps! / 5)) }) }));
    this.#modelVersion = rec.modelVersion;
  }

  async estimateEfficiency(): Promise<EfficiencyCounters> {
    this.drain();
    return Object.fromEntries(MODES.map((m) => [m, { default: { ...this.#cells[m].default }, model: { ...this.#cells[m].model } }])) as unknown as EfficiencyCounters;
  }

  async backPropagate(): Promise<FeedbackRecord[]> {
    this.drain();
    const out = this.#feedback;
    this.#feedback = [];
    return out;
  }

  async correctSystemState(): Promise<void> {
    this.#live("correct its state");
    this.drain();
  }
}

function fresh(): Cells {
  const z = (): { -readonly [K in keyof Counter]: number } => ({ decided: 0, evaluated: 0, good: 0 });
  return Object.fromEntries(MODES.map((m) => [m, { default: z(), model: z() }])) as unknown as Cells;
}
