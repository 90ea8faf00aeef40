/**
 * @module agent/runner
 * Runs one proxy: the agent's loop for one subsystem adapter. Each `tick` handles CLI requests,
 * deploys the registry's active model when it changed, stores feedback and published datasets
 * (keeping the newest `retain` of each where the configuration bounds them, and the artefacts
 * of the newest `retain.models` model versions),
 * reads efficiency, runs the mode controller and writes the resulting mode kernel-side, and
 * publishes a status row. Heartbeats are separate (`heartbeat`) so the agent can send them more
 * often than it evaluates. Every mode transition goes to the event log with its evidence.
 *
 * Evidence: an adapter with `estimatePaired` (a metric measured per epoch, not a per-decision
 * success) gets a controller weighing paired outcomes, evaluated only when new outcomes
 * arrived, so one epoch never counts twice towards a promotion streak; any other adapter gets
 * the good-rate controller, evaluated every round. The status carries the paired gain twice:
 * over the whole run (`paired`) and over what the controller weighs now (`pairedWeighed`:
 * the outcomes since the last transition). A subsystem's model thread, when given,
 * runs after the datasets are stored; what it activates is deployed in the same round.
 * Events the adapter reports (`drainEvents`, e.g. lfs-gc's host workload shifting) go to the
 * event log after each poll, with the mode at the time, so they precede what they lead to.
 */
import { isKmlibError } from "../errors.ts";
import { monotonicNs } from "../proxy/control.ts";
import { ModeController, type Transition } from "../proxy/controller.ts";
import { type EfficiencyCounters, estimate } from "../proxy/efficiency.ts";
import { MODES, parseMode } from "../proxy/mode.ts";
import { type PairedCounters, pairedEstimate, sincePaired } from "../proxy/paired.ts";
import type { DatasetPortion, SubsystemAdapter, SystemState } from "./adapter.ts";
import type { ProxyConfig } from "./config.ts";
import type { Logger } from "./log.ts";
import type { ModelThread, ModelThreadContext } from "./model-thread.ts";
import type { Store } from "./store/index.ts";

export interface RunnerOptions {
  readonly adapter: SubsystemAdapter;
  readonly store: Store;
  readonly config: ProxyConfig;
  readonly heartbeatTimeoutMs: number;
  readonly logger: Logger;
  /** The subsystem's model thread (training, registering, recommending), if it has one. */
  readonly modelThread?: ModelThread;
  readonly now?: () => number;
  readonly nowNs?: () => bigint;
}

export interface ProxyStatus {
  readonly proxy: string;
  readonly adapter: string;
  readonly lifecycle: string;
  readonly mode: string;
  readonly effectiveMode: string;
  readonly fallback: string;
  readonly pinned: boolean;
  readonly modelVersion: number;
  readonly activeVersion: number | null;
  readonly heartbeatAgeMs: number;
  readonly emergencyCauses: readonly string[];
  readonly counters: EfficiencyCounters;
  readonly efficiency: Record<string, { default: { rate: number; lo: number; hi: number; n: number }; model: { rate: number; lo: number; hi: number; n: number }; gain: { diff: number; lo: number; hi: number } }>;
  /** What the controller weighs: good rates, or paired outcomes (then `paired` is set). */
  readonly evidence: "rate" | "paired";
  /** Paired outcomes per mode over the whole run (since the kernel side started): mean gain with its 95% t interval. */
  readonly paired?: Record<string, { n: number; mean: number; lo: number; hi: number }>;
  /**
   * Paired outcomes per mode that the controller weighs now: those evaluated since the last
   * transition (or since the proxy started), so a demotion's old epochs no longer count.
   */
  readonly pairedWeighed?: Record<string, { n: number; mean: number; lo: number; hi: number }>;
  /** When the window of `pairedWeighed` began (ms, the agent's clock): the last transition, or the start. */
  readonly pairedWeighedSince?: number;
  readonly lastTransitions: readonly Transition[];
  readonly feedbackStored: number;
  readonly updatedAt: number;
}

/** Event kinds the runner writes itself: an adapter may not report under them. */
const RUNNER_KINDS: readonly string[] = ["agent", "mode", "model"];

const pairedTotal = (p: PairedCounters) => MODES.reduce((a, m) => a + p[m].n, 0);

function pairedSummary(p: PairedCounters): NonNullable<ProxyStatus["paired"]> {
  return Object.fromEntries(
    MODES.map((m) => {
      const e = pairedEstimate(p[m], 0.95);
      return [m, { n: e.n, mean: e.mean, lo: e.lo, hi: e.hi }];
    }),
  );
}

export class ProxyRunner {
  readonly adapter: SubsystemAdapter;
  readonly store: Store;
  readonly config: ProxyConfig;
  readonly log: Logger;
  readonly #now: () => number;
  readonly #nowNs: () => bigint;
  readonly #timeoutMs: number;
  #controller: ModeController | undefined;
  #deployed: number | undefined;
  #failedVersion: number | undefined;
  #counters: EfficiencyCounters | undefined;
  #paired: PairedCounters | undefined;
  /** Paired outcomes behind the last evaluation (paired evidence is weighed once per outcome). */
  #pairedSeen = 0;
  /**
   * The controller's paired window, mirrored: the counters it last evaluated, and those it
   * last evaluated before the latest transition (where its window starts, as a move makes the
   * last evaluated snapshot its baseline), with that transition's time.
   */
  #pairedEvaluated: PairedCounters | undefined;
  #pairedWindow: { from: PairedCounters; at: number } | undefined;
  readonly #modelThread: ModelThread | undefined;
  #feedbackStored = 0;

  constructor(o: RunnerOptions) {
    this.adapter = o.adapter;
    this.store = o.store;
    this.config = o.config;
    this.log = o.logger.child({ proxy: o.config.name });
    this.#now = o.now ?? Date.now;
    this.#nowNs = o.nowNs ?? monotonicNs;
    this.#timeoutMs = o.heartbeatTimeoutMs;
    this.#modelThread = o.modelThread;
  }

  get name(): string {
    return this.config.name;
  }
  get controller(): ModeController {
    if (!this.#controller) throw new Error(`proxy ${this.name}: runner not started`);
    return this.#controller;
  }
  get deployedVersion(): number | undefined {
    return this.#deployed;
  }

  async start(): Promise<void> {
    const c = this.config;
    await this.adapter.init({ ...c.options, heartbeatTimeoutMs: this.#timeoutMs, confidenceThreshold: c.confidenceThreshold, budgetLimit: c.budget.limit, budgetWindow: c.budget.window });
    await this.adapter.start();
    const before = await this.adapter.systemState();
    const previous = this.store.statuses().find((s) => s.name === c.name)?.status as Partial<ProxyStatus> | undefined;
    const initial = previous?.mode ? parseMode(previous.mode) : c.initialMode;
    this.#counters = await this.adapter.estimateEfficiency();
    this.#paired = await this.adapter.estimatePaired?.();
    this.#pairedSeen = this.#paired ? pairedTotal(this.#paired) : 0;
    this.#pairedEvaluated = this.#paired;
    this.#pairedWindow = this.#paired ? { from: this.#paired, at: this.#now() } : undefined;
    this.#controller = new ModeController({
      initial,
      thresholds: c.controller,
      now: this.#now,
      baseline: this.#counters,
      initialCauses: previous?.emergencyCauses ?? [],
      ...(this.#paired ? { evidence: "paired" as const, baselinePaired: this.#paired } : {}),
    });
    this.event("agent", `proxy started in ${initial} (adapter ${this.adapter.kind}, ${this.controller.evidenceKind} evidence)`, { mode: initial, kernelMode: before.effectiveMode, fallback: before.fallback, evidence: this.controller.evidenceKind });
    this.#drainEvents();
    if (before.fallback === "stale-heartbeat") {
      // The kernel side outlived a dead agent and fell back on its own: say so, then recover.
      const ageMs = Number(before.heartbeatAgeNs / 1_000_000n);
      await this.#apply(this.controller.heartbeatLost(`kernel side found in emergency: last heartbeat ${ageMs} ms ago`));
    }
    await this.adapter.correctSystemState();
    await this.heartbeat();
    // Heartbeats flow again: clears a heartbeat cause, fresh or recorded by the previous agent.
    await this.#apply(this.controller.heartbeatRestored());
    await this.#syncModel();
    await this.adapter.setMode(this.controller.mode);
    await this.#publishStatus();
  }

  async heartbeat(): Promise<void> {
    await this.adapter.heartbeat(this.#nowNs());
  }

  event(kind: string, message: string, data: Record<string, unknown> = {}): void {
    this.store.logEvent(kind, message, { proxy: this.name, data });
    this.log.info(message, { event: kind, ...data });
  }

  /** The adapter's own events, logged as it reported them (a reserved kind is refused, not logged as the agent's). */
  #drainEvents(): void {
    for (const e of this.adapter.drainEvents?.() ?? []) {
      if (RUNNER_KINDS.includes(e.kind)) {
        this.log.warn(`adapter event of reserved kind "${e.kind}" dropped: ${e.message}`, { event: e.kind });
        continue;
      }
      this.event(e.kind, e.message, { ...e.data, mode: this.controller.mode });
    }
  }

  async #apply(t: Transition | undefined): Promise<void> {
    if (!t) return;
    if (this.#pairedEvaluated) this.#pairedWindow = { from: this.#pairedEvaluated, at: t.at };
    await this.adapter.setMode(t.to);
    this.event("mode", `${t.from} -> ${t.to}: ${t.reason}: ${t.detail}`, { from: t.from, to: t.to, reason: t.reason, evidence: t.evidence ?? null });
  }

  async #handleRequests(): Promise<void> {
    for (const r of this.store.pendingRequests(this.name)) {
      try {
        switch (r.kind) {
          case "mode": {
            const mode = parseMode(String(r.args.mode));
            const t = this.controller.request(mode, { pin: r.args.pin === true, who: typeof r.args.who === "string" ? r.args.who : "kmlib mode set" });
            await this.#apply(t);
            this.store.completeRequest(r.id, `ok: mode ${this.controller.mode}${this.controller.pinned ? " (pinned)" : ""}`);
            break;
          }
          default:
            this.store.completeRequest(r.id, `error: unknown request kind ${String(r.kind)}`);
        }
      } catch (e) {
        this.store.completeRequest(r.id, `error: ${isKmlibError(e) ? `${e.code}: ` : ""}${(e as Error).message}`);
      }
    }
  }

  async #syncModel(): Promise<void> {
    const active = this.store.registry.active(this.name);
    if (active !== undefined && active === this.#deployed && this.#failedVersion !== undefined) {
      // Rolled back from a version that failed to load to the one still running kernel-side.
      this.#failedVersion = undefined;
      this.event("model", `model version ${active} active again (still deployed)`, { version: active });
      await this.#apply(this.controller.modelLoaded(active));
      return;
    }
    if (active === undefined || active === this.#deployed || active === this.#failedVersion) return;
    try {
      await this.adapter.deployModel(active, this.store.registry.artefact(this.name, active));
      const prev = this.#deployed;
      this.#deployed = active;
      this.#failedVersion = undefined;
      this.event("model", `model version ${active} deployed${prev === undefined ? "" : ` (was ${prev})`}`, { version: active, previous: prev ?? null });
      await this.#apply(this.controller.modelLoaded(active));
    } catch (e) {
      this.#failedVersion = active;
      const why = `${isKmlibError(e) ? `${e.code}: ` : ""}${(e as Error).message}`;
      this.log.error(`model version ${active} failed to load`, { version: active, error: why });
      this.store.logEvent("model", `model version ${active} failed to load: ${why}`, { proxy: this.name, data: { version: active, error: why } });
      await this.#apply(this.controller.modelLoadFailed(active, why));
    }
  }

  /** One round of the agent loop for this proxy. */
  async tick(): Promise<Transition | undefined> {
    await this.#handleRequests();
    await this.#syncModel();
    const fb = await this.adapter.backPropagate();
    const keep = this.config.retain;
    if (fb.length) {
      this.#feedbackStored += this.store.data.addFeedback(fb);
      if (keep.feedback > 0) this.store.data.pruneFeedback(this.name, keep.feedback);
    }
    const portions: DatasetPortion[] = [];
    for (const p0 of await this.adapter.pollDatasets()) {
      const p = this.adapter.preprocessData(p0);
      this.store.db.transaction(() => {
        this.store.data.putDataset(this.name, p.dataset);
        this.store.data.appendRows(this.name, p.dataset.id, p.rows);
        if (keep.datasetRows > 0) this.store.data.pruneRows(this.name, p.dataset.id, keep.datasetRows);
      })();
      portions.push(p);
    }
    this.#drainEvents();
    if (this.#modelThread) {
      const ctx = (): ModelThreadContext => ({
        proxy: this.name,
        store: this.store,
        portions,
        mode: this.controller.mode,
        deployedVersion: this.#deployed,
        event: (kind, message, data) => this.event(kind, message, data),
      });
      await this.#modelThread.learn(ctx());
      await this.#syncModel();
      await this.#modelThread.recommend?.(ctx());
    }
    // After deployment: the version just activated is the active one and is kept.
    if (keep.models > 0) this.store.registry.pruneArtefacts(this.name, keep.models);
    this.#counters = await this.adapter.estimateEfficiency();
    let t: Transition | undefined;
    if (this.controller.evidenceKind === "paired") {
      const paired = await this.adapter.estimatePaired!();
      this.#paired = paired;
      const n = pairedTotal(paired);
      if (n !== this.#pairedSeen) {
        this.#pairedSeen = n;
        this.#pairedEvaluated = paired;
        t = this.controller.evaluate(this.#counters, paired);
      }
    } else {
      t = this.controller.evaluate(this.#counters);
    }
    await this.#apply(t);
    await this.#publishStatus();
    return t;
  }

  async status(state?: SystemState): Promise<ProxyStatus> {
    const s = state ?? (await this.adapter.systemState());
    const counters = this.#counters ?? (await this.adapter.estimateEfficiency());
    const est = estimate(counters, 0.95);
    const r = (x: { rate: number; lo: number; hi: number; n: number }) => ({ rate: x.rate, lo: x.lo, hi: x.hi, n: x.n });
    return {
      proxy: this.name,
      adapter: this.adapter.kind,
      lifecycle: s.lifecycle,
      mode: this.controller.mode,
      effectiveMode: s.effectiveMode,
      fallback: s.fallback,
      pinned: this.controller.pinned,
      modelVersion: s.modelVersion,
      activeVersion: this.store.registry.active(this.name) ?? null,
      heartbeatAgeMs: Number(s.heartbeatAgeNs) / 1e6,
      emergencyCauses: this.controller.emergencyCauses,
      counters,
      efficiency: Object.fromEntries(Object.values(est).map((e) => [e.mode, { default: r(e.default), model: r(e.model), gain: { diff: e.gain.diff, lo: e.gain.lo, hi: e.gain.hi } }])),
      evidence: this.controller.evidenceKind,
      ...(this.#paired ? { paired: pairedSummary(this.#paired) } : {}),
      ...(this.#pairedEvaluated && this.#pairedWindow
        ? { pairedWeighed: pairedSummary(sincePaired(this.#pairedEvaluated, this.#pairedWindow.from)), pairedWeighedSince: this.#pairedWindow.at }
        : {}),
      lastTransitions: this.controller.history.slice(-5),
      feedbackStored: this.#feedbackStored,
      updatedAt: this.#now(),
    };
  }

  async #publishStatus(): Promise<void> {
    this.store.putStatus(this.name, this.adapter.kind, (await this.status()) as unknown as Record<string, unknown>);
  }

  async stop(): Promise<void> {
    try {
      this.#drainEvents();
      await this.#publishStatus();
      if ((await this.adapter.systemState()).lifecycle === "running") await this.adapter.stop();
    } finally {
      await this.adapter.shutdown();
      this.event("agent", "proxy shut down");
    }
  }
}
