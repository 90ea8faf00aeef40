/**
 * @module subsystems/netguard/e2e/session
 * One end-to-end run's moving parts, owned together so they are released together: the lab,
 * the netguard adapter (data path attached at the server's eth0), the agent's store, its
 * proxy runner (mode controller, model registry, feedback) and the agent loop (heartbeats and
 * evaluation ticks on timers, as `kmlib agent` runs them). Ground truth for efficiency comes
 * from the lab's labels (the sender's namespace).
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseConfig } from "../../../agent/config.ts";
import { Logger } from "../../../agent/log.ts";
import { ProxyRunner } from "../../../agent/runner.ts";
import { Store } from "../../../agent/store/index.ts";
import type { ControllerThresholds, Transition } from "../../../proxy/controller.ts";
import type { Mode } from "../../../proxy/mode.ts";
import { Lab, runScenario, type Scenario, type ScenarioEvent, type ScenarioResult } from "../lab/index.ts";
import { Flag } from "../layout.ts";
import type { NetguardRecord } from "../record.ts";
import { NetguardAdapter } from "./adapter.ts";
import { RecordLabels } from "./flows.ts";
import { Timeline, monoMsNow } from "./timeline.ts";

export const PROXY = "netguard0";

export interface SessionOptions {
  /** Lab tag (namespaces `kmlib-lab-TAG-*`). */
  readonly tag?: string;
  readonly heartbeatMs?: number;
  readonly heartbeatTimeoutMs?: number;
  readonly evaluateMs?: number;
  readonly controller?: Partial<ControllerThresholds>;
  /** JSON-lines agent log; default: discarded. */
  readonly logFile?: string;
  /** The agent's store (registry, feedback, events); replaced if it exists. Default: a temporary file. */
  readonly storePath?: string;
}

/** Demo thresholds: the defaults, with windows sized for a run of a few minutes. */
export const DEMO_THRESHOLDS: Partial<ControllerThresholds> = { confidence: 0.95, promoteMargin: 0.01, minDecisions: 1000, promoteStreak: 2, collapseMargin: 0.1 };

export class E2eSession {
  readonly labels: RecordLabels;
  readonly timeline: Timeline;
  readonly #dir: string;
  #hb: NodeJS.Timeout | undefined;
  #tick: NodeJS.Timeout | undefined;
  #ticking = false;
  #paused = false;
  #closed = false;
  readonly tickErrors: string[] = [];
  #seenTransitions = 0;

  private constructor(
    readonly lab: Lab,
    readonly adapter: NetguardAdapter,
    readonly store: Store,
    readonly runner: ProxyRunner,
    readonly options: SessionOptions,
    dir: string,
  ) {
    this.labels = new RecordLabels(lab.plan);
    this.timeline = new Timeline(this.labels);
    this.#dir = dir;
    adapter.subscribe((recs) => this.timeline.add(recs));
  }

  /** Lab up, agent started with the data path attached in emergency. Undoes itself on failure. */
  static async open(o: SessionOptions = {}): Promise<E2eSession> {
    const lab = Lab.up({ tag: o.tag ?? "e2e" });
    const dir = mkdtempSync(join(tmpdir(), "kmlib-netguard-e2e-"));
    let store: Store | undefined;
    let adapter: NetguardAdapter | undefined;
    try {
      const path = o.storePath ?? join(dir, "store.db");
      // a previous run's store would restore its last mode and model: start afresh
      for (const suffix of ["", "-wal", "-shm"]) rmSync(path + suffix, { force: true });
      store = Store.open(path);
      const labels = new RecordLabels(lab.plan);
      // non-IP rules are the kernel's business; everything from the lab is labelled
      adapter = new NetguardAdapter(PROXY, { labelOf: (r) => labels.label(r), feedbackEvery: 16, datasetEvery: 16, datasetCap: 50_000, control: { vetoMask: Flag.RULE_SYN } });
      const heartbeatTimeoutMs = o.heartbeatTimeoutMs ?? 1000;
      const cfg = parseConfig({
        agent: { heartbeatMs: o.heartbeatMs ?? 100, heartbeatTimeoutMs, evaluateMs: o.evaluateMs ?? 500 },
        controller: { ...DEMO_THRESHOLDS, ...o.controller },
        proxies: [{ name: PROXY, adapter: "netguard", initialMode: "emergency", confidenceThreshold: 0.8, budget: { limit: 20_000, window: 1000 } }],
      });
      const logger = o.logFile ? Logger.toFile(o.logFile) : new Logger("error", () => {});
      const runner = new ProxyRunner({ adapter, store, config: cfg.proxies[0]!, heartbeatTimeoutMs, logger });
      await runner.start();
      adapter.attach({ ifname: lab.attach.dev, netns: lab.attach.ns });
      return new E2eSession(lab, adapter, store, runner, o, dir);
    } catch (e) {
      adapter?.close();
      store?.close();
      lab.down();
      rmSync(dir, { recursive: true, force: true });
      throw e;
    }
  }

  get mode(): Mode {
    return this.runner.controller.mode;
  }

  get transitions(): readonly Transition[] {
    return this.runner.controller.history;
  }

  /** The agent loop: heartbeats and controller ticks on timers. */
  startAgentLoop(): void {
    const hbMs = this.options.heartbeatMs ?? 100;
    const evMs = this.options.evaluateMs ?? 500;
    this.#hb = setInterval(() => void this.runner.heartbeat().catch((e: unknown) => this.tickErrors.push(String(e))), hbMs);
    this.#tick = setInterval(() => void this.tick(), evMs);
  }

  stopAgentLoop(): void {
    if (this.#hb) clearInterval(this.#hb);
    if (this.#tick) clearInterval(this.#tick);
    this.#hb = this.#tick = undefined;
  }

  /** One agent round (serialised: a slow round is not overlapped by the next). */
  async tick(): Promise<void> {
    if (this.#ticking || this.#closed || this.#paused) return;
    this.#ticking = true;
    try {
      await this.runner.tick();
      const h = this.runner.controller.history;
      for (; this.#seenTransitions < h.length; this.#seenTransitions++) {
        const t = h[this.#seenTransitions]!;
        this.timeline.mark(t.at, `${t.from}→${t.to} (${t.reason})`);
      }
    } catch (e) {
      this.tickErrors.push(e instanceof Error ? e.message : String(e));
    } finally {
      this.#ticking = false;
    }
  }

  /**
   * Pause the controller's evaluations (heartbeats go on), e.g. to shadow-evaluate a model
   * over a whole run; the next tick after `resume` judges the window in one go.
   */
  pauseEvaluation(): void {
    this.#paused = true;
  }

  async resumeEvaluation(): Promise<void> {
    this.#paused = false;
    await this.tick();
  }

  /** A mode request as `kmlib mode set` makes it, applied at the next tick. */
  async requestMode(mode: Mode, pin = false): Promise<void> {
    this.store.request(PROXY, "mode", { mode, pin, who: "netguard demo" });
    await this.tick();
  }

  /** Subscribe to records for the duration of `fn`. */
  async tapped<T>(tap: (r: readonly NetguardRecord[]) => void, fn: () => Promise<T>): Promise<T> {
    const off = this.adapter.subscribe(tap);
    try {
      return await fn();
    } finally {
      this.adapter.drain();
      off();
    }
  }

  /** Run a lab scenario, with its phases on the timeline. */
  async scenario(s: Scenario, o: { signal?: AbortSignal; onProgress?: (e: ScenarioEvent) => void } = {}): Promise<ScenarioResult> {
    const r = await runScenario(this.lab, s, o);
    for (const p of r.phases) this.timeline.phase(`${s.name}: ${p.name}`, p.startMonoMs, p.endMonoMs);
    this.adapter.drain();
    return r;
  }

  /** Time on the timeline's axis. */
  now(): number {
    return this.timeline.at(monoMsNow());
  }

  /** Stop the agent and release the data path (the XDP link detaches); the lab stays. */
  async stopAgent(): Promise<void> {
    this.stopAgentLoop();
    if (this.adapter.lifecycle.state !== "shutting down") await this.runner.stop();
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    try {
      await this.stopAgent();
    } finally {
      this.adapter.close();
      this.store.close();
      this.lab.down();
      rmSync(this.#dir, { recursive: true, force: true });
    }
  }
}
