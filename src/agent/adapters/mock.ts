/**
 * @module agent/adapters/mock
 * MOCK adapter: a subsystem simulated in-process, for the conformance suite and for trying the
 * agent without a kernel. Its "kernel side" keeps a real control record (the 64-byte layout of
 * `proxy/control.ts`), applies `effectiveMode` and `decide` exactly as a real proxy does, and
 * keeps efficiency counters and feedback. The workload: x uniform in [0, 1), the truth is
 * x >= 0.5; the default algorithm decides x >= defaultThreshold (0.6: a plausible but biased
 * hand-written rule) and a model is a threshold too (artefact `{"threshold": t}`).
 * Nothing here touches the kernel.
 */
import { ErrorCode, KmlibError } from "../../errors.ts";
import { Rng } from "../../ml/rng.ts";
import { type Control, decodeControl, effectiveMode, encodeControl, monotonicNs } from "../../proxy/control.ts";
import { DatasetTracker } from "../../proxy/dataset.ts";
import { CollaborationBudget, decide } from "../../proxy/decide.ts";
import { type Counter, type EfficiencyCounters, emptyCounters } from "../../proxy/efficiency.ts";
import type { FeedbackRecord } from "../../proxy/feedback.ts";
import { Lifecycle } from "../../proxy/lifecycle.ts";
import { MODES, type Mode, SOURCES, type Source } from "../../proxy/mode.ts";
import { type Recommendation, type RecommendationSchema, encodeRecommendation, validateSchema } from "../../proxy/recommendation.ts";
import type { DatasetPortion, DatasetRequest, SubsystemAdapter, SystemState } from "../adapter.ts";
import { controlSystemState, proxySettings } from "../proxy-state.ts";

export interface MockOptions {
  /** Clock of the simulated kernel side (ns); default CLOCK_MONOTONIC. */
  readonly nowNs?: () => bigint;
  readonly seed?: number;
  readonly defaultThreshold?: number;
  /** When running under the agent: simulate this many decisions at each dataset poll. */
  readonly decisionsPerPoll?: number;
}

/** Deterministic uniform [0, 1) (mulberry32). */
function rng(seed: number): () => number {
  const r = new Rng(seed);
  return () => r.next();
}

export function mockArtefact(threshold: number): Uint8Array {
  return new TextEncoder().encode(JSON.stringify({ kind: "mock-threshold", threshold }));
}

export class MockAdapter implements SubsystemAdapter {
  readonly kind = "mock";
  readonly columns = ["x"] as const;
  readonly recommendationSchema: RecommendationSchema = validateSchema({ fields: [{ name: "threshold_q16", min: 0, max: 65536 }] });
  readonly lifecycle = new Lifecycle();
  readonly #now: () => bigint;
  readonly #rand: () => number;
  readonly #defaultThreshold: number;
  /** The kernel side's control map value. */
  #control: Uint8Array;
  #modelThreshold: number | undefined;
  #cells = new Map<string, { decided: number; evaluated: number; good: number }>();
  #feedback: FeedbackRecord[] = [];
  #seq = 0;
  #budget = new CollaborationBudget(0, 1);
  #dataset = new DatasetTracker("mock-stream", "memory stream", 0);
  #rows: Array<{ seq: number; features: number[]; label: number }> = [];
  #polled = 0;
  readonly #perPoll: number;

  constructor(
    readonly proxy: string,
    opts: MockOptions = {},
  ) {
    this.#now = opts.nowNs ?? monotonicNs;
    this.#rand = rng(opts.seed ?? 1);
    this.#defaultThreshold = opts.defaultThreshold ?? 0.6;
    this.#perPoll = opts.decisionsPerPoll ?? 0;
    this.#control = encodeControl({ mode: "emergency", modelVersion: 0, heartbeatNs: 0n, heartbeatTimeoutNs: 1_000_000_000n, confidenceThreshold: 0.8, budgetLimit: 0, budgetWindow: 1, generation: 0n });
  }

  get control(): Control {
    return decodeControl(this.#control);
  }
  #write(patch: Partial<Control>): void {
    const c = this.control;
    this.#control = encodeControl({ ...c, ...patch, generation: c.generation + 1n });
  }
  #notShutDown(what: string): void {
    if (this.lifecycle.state === "shutting down") throw new KmlibError(ErrorCode.IllegalState, `mock proxy ${this.proxy}: cannot ${what} after shutdown`);
  }

  #configure(options: Readonly<Record<string, unknown>>): void {
    const s = proxySettings(options);
    this.#write(s);
    this.#budget = new CollaborationBudget(s.budgetLimit, s.budgetWindow);
  }

  async init(options: Readonly<Record<string, unknown>>): Promise<void> {
    this.lifecycle.apply("init");
    this.#configure(options);
  }
  async reinit(options: Readonly<Record<string, unknown>>): Promise<void> {
    this.lifecycle.apply("reinit");
    this.#configure(options);
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
    return controlSystemState(this.lifecycle.state, this.control, this.#now());
  }
  async setMode(mode: Mode): Promise<void> {
    this.#notShutDown("set the mode");
    this.#write({ mode });
  }
  async heartbeat(nowNs: bigint): Promise<void> {
    this.#notShutDown("heartbeat");
    this.#write({ heartbeatNs: nowNs });
  }
  async deployModel(version: number, artefact: Uint8Array): Promise<void> {
    this.#notShutDown("deploy a model");
    let t: unknown;
    try {
      t = (JSON.parse(new TextDecoder().decode(artefact)) as { threshold?: unknown }).threshold;
    } catch (e) {
      throw new KmlibError(ErrorCode.InvalidModel, `mock proxy ${this.proxy}: model version ${version} is not a mock artefact`, { cause: e });
    }
    if (typeof t !== "number" || !(t >= 0 && t <= 1)) throw new KmlibError(ErrorCode.InvalidModel, `mock proxy ${this.proxy}: model version ${version} has no threshold in [0, 1]`);
    this.#modelThreshold = t;
    this.#write({ modelVersion: version });
  }

  /** The simulated workload: `n` decisions through the kernel-side proxy. */
  simulate(n: number): void {
    if (!this.lifecycle.active) throw new KmlibError(ErrorCode.IllegalState, `mock proxy ${this.proxy}: not running (state "${this.lifecycle.state}")`);
    for (let i = 0; i < n; i++) {
      const c = this.control;
      const mode = effectiveMode(c, this.#now()).mode;
      const x = this.#rand();
      const truth = x >= 0.5 ? 1 : 0;
      const dflt = x >= this.#defaultThreshold ? 1 : 0;
      const mt = this.#modelThreshold;
      const model = mt === undefined ? undefined : { decision: x >= mt ? 1 : 0, confidence: Math.min(1, Math.abs(x - mt) * 4) };
      const d = decide({ mode, defaultDecision: dflt, model, confidenceThreshold: c.confidenceThreshold, budgetRemaining: this.#budget.remaining });
      this.#budget.record(d.consumesBudget);
      const seq = this.#seq++;
      this.#cell(mode, "default", d.source === "default", dflt === truth);
      this.#cell(mode, "model", d.source === "model", model === undefined ? undefined : model.decision === truth);
      if (mode === "learning" || mode === "collaboration") {
        this.#feedback.push({
          proxy: this.proxy,
          seq,
          mode,
          source: d.source,
          defaultDecision: dflt,
          ...(model ? { modelDecision: model.decision, confidence: model.confidence, modelVersion: c.modelVersion, modelGood: model.decision === truth } : {}),
          defaultGood: dflt === truth,
          features: [Math.round(x * 65536)],
        });
      }
      this.#rows.push({ seq, features: [Math.round(x * 65536)], label: truth });
    }
    this.#dataset.publish(n);
  }

  #cell(mode: Mode, source: Source, decided: boolean, good: boolean | undefined): void {
    const k = `${mode}/${source}`;
    const c = this.#cells.get(k) ?? { decided: 0, evaluated: 0, good: 0 };
    if (decided) c.decided++;
    if (good !== undefined) {
      c.evaluated++;
      if (good) c.good++;
    }
    this.#cells.set(k, c);
  }

  #portion(offset: number, size: number): DatasetPortion {
    this.#dataset.extract({ offset, size });
    return { dataset: { ...this.#dataset.describe(), columns: this.columns }, portion: { offset, size }, rows: this.#rows.slice(offset, offset + size) };
  }
  async getDataset(request: DatasetRequest = {}): Promise<DatasetPortion> {
    const p = request.portion ?? { offset: 0, size: this.#rows.length };
    return this.#portion(p.offset, p.size);
  }
  async pollDatasets(): Promise<DatasetPortion[]> {
    if (this.#perPoll > 0 && this.lifecycle.active) this.simulate(this.#perPoll);
    const from = this.#polled;
    if (from >= this.#rows.length) return [];
    this.#polled = this.#rows.length;
    return [this.#portion(from, this.#rows.length - from)];
  }
  preprocessData(p: DatasetPortion): DatasetPortion {
    return p;
  }
  preprocessRecommendation(rec: Recommendation): Uint8Array {
    return encodeRecommendation(this.recommendationSchema, rec);
  }
  async applyRecommendation(rec: Recommendation): Promise<void> {
    this.#notShutDown("apply a recommendation");
    this.preprocessRecommendation(rec);
    this.#modelThreshold = rec.values.threshold_q16! / 65536;
    this.#write({ modelVersion: rec.modelVersion });
  }
  async estimateEfficiency(): Promise<EfficiencyCounters> {
    const out = emptyCounters() as Record<Mode, Record<Source, Counter>>;
    for (const m of MODES) for (const s of SOURCES) out[m][s] = { ...(this.#cells.get(`${m}/${s}`) ?? { decided: 0, evaluated: 0, good: 0 }) };
    return out;
  }
  async backPropagate(): Promise<FeedbackRecord[]> {
    const out = this.#feedback;
    this.#feedback = [];
    return out;
  }
  async correctSystemState(): Promise<void> {
    this.#notShutDown("correct its state");
  }
}
