/**
 * @module agent/agent
 * The user-space agent (the RFC's "ML model thread"): opens the store, starts one runner per
 * configured proxy through its subsystem adapter, heartbeats every `heartbeatMs`, runs the loop
 * every `evaluateMs`, serves Prometheus metrics and logs JSON lines. Adapters are looked up by
 * name in a registry that subsystems extend with `registerAdapter` (an adapter alone) or
 * `registerSubsystem` (an adapter with its model thread and controller defaults).
 */
import { ErrorCode, KmlibError } from "../errors.ts";
import { monotonicNs } from "../proxy/control.ts";
import { type ControllerThresholds, resolveThresholds } from "../proxy/controller.ts";
import type { AdapterContext, AdapterFactory, SubsystemAdapter } from "./adapter.ts";
import { MockAdapter } from "./adapters/mock.ts";
import type { AgentConfig, ProxyConfig } from "./config.ts";
import { Logger } from "./log.ts";
import { MetricsServer } from "./metrics.ts";
import type { ModelThread } from "./model-thread.ts";
import { type ProxyStatus, ProxyRunner } from "./runner.ts";
import { Store } from "./store/index.ts";

/** What the agent runs for one proxy of a subsystem kind. */
export interface ProxyParts {
  readonly adapter: SubsystemAdapter;
  readonly modelThread?: ModelThread;
  /** Controller settings for this kind where the configuration names none. */
  readonly thresholds?: Partial<ControllerThresholds>;
}
export type SubsystemFactory = (proxy: string, options: Readonly<Record<string, unknown>>, ctx: AdapterContext) => Promise<ProxyParts>;

const kinds = new Map<string, SubsystemFactory>();

export function registerSubsystem(kind: string, factory: SubsystemFactory): void {
  kinds.set(kind, factory);
}
export function registerAdapter(kind: string, factory: AdapterFactory): void {
  registerSubsystem(kind, async (proxy, options, ctx) => ({ adapter: await factory(proxy, options, ctx) }));
}
export function adapterKinds(): string[] {
  return [...kinds.keys()].sort();
}

registerAdapter("mock", (proxy, o, ctx) => new MockAdapter(proxy, { seed: typeof o.seed === "number" ? o.seed : 1, decisionsPerPoll: typeof o.decisionsPerPoll === "number" ? o.decisionsPerPoll : 0, ...(ctx?.nowNs ? { nowNs: ctx.nowNs } : {}) }));
// Loaded on demand: it needs the kernel (bpf()), the mock does not.
registerAdapter("ebpf-demo", async (proxy) => new (await import("./adapters/ebpf-demo.ts")).EbpfDemoAdapter(proxy));
// Loaded on demand: the GC simulator and its trainer are only needed when a proxy names them.
registerSubsystem("lfs-gc", async (proxy, options, ctx) => (await import("../subsystems/lfs-gc/proxy/agent-parts.ts")).lfsGcParts(proxy, options, ctx));

export interface AgentOptions {
  readonly logger?: Logger;
  /** Wall clock (ms) of the store and the controllers; default Date.now. */
  readonly now?: () => number;
  /** CLOCK_MONOTONIC (ns) of heartbeats, shared with simulated kernel sides; default the real one. */
  readonly nowNs?: () => bigint;
  /**
   * Run heartbeats and rounds on timers (default true). False: the caller drives `heartbeat`
   * and `tick` itself (tests with a simulated clock).
   */
  readonly timers?: boolean;
}

/** A kind's controller defaults under the settings the configuration names. */
function withKindThresholds(p: ProxyConfig, i: number, defaults: Partial<ControllerThresholds> | undefined): ProxyConfig {
  if (!defaults) return p;
  try {
    return { ...p, controller: resolveThresholds({ ...defaults, ...p.controllerSet }) };
  } catch (e) {
    if (e instanceof KmlibError) throw new KmlibError(ErrorCode.InvalidConfig, e.message.replace(/^controller\./, `proxies[${i}].controller.`), { cause: e });
    throw e;
  }
}

export class Agent {
  readonly runners: ProxyRunner[] = [];
  #timers: NodeJS.Timeout[] = [];
  #metrics: MetricsServer | undefined;
  #busy = false;
  #stopped = false;

  private constructor(
    readonly config: AgentConfig,
    readonly store: Store,
    readonly log: Logger,
  ) {}

  static async start(config: AgentConfig, opts: AgentOptions = {}): Promise<Agent> {
    const log = opts.logger ?? (config.agent.logFile ? Logger.toFile(config.agent.logFile, config.agent.logLevel) : new Logger(config.agent.logLevel));
    for (const [i, p] of config.proxies.entries()) {
      if (!kinds.has(p.adapter)) throw new KmlibError(ErrorCode.InvalidConfig, `proxies[${i}].adapter: unknown adapter "${p.adapter}" (known: ${adapterKinds().join(", ")})`);
    }
    const store = Store.open(config.agent.store, opts.now ? { now: opts.now } : {});
    const agent = new Agent(config, store, log);
    const nowNs = opts.nowNs ?? monotonicNs;
    try {
      for (const [i, p0] of config.proxies.entries()) {
        let parts: ProxyParts;
        try {
          parts = await kinds.get(p0.adapter)!(p0.name, p0.options, { nowNs });
        } catch (e) {
          if (e instanceof KmlibError && e.code === ErrorCode.InvalidConfig) throw new KmlibError(e.code, `proxies[${i}] (${p0.name}): ${e.message}`, { cause: e });
          throw e;
        }
        const p = withKindThresholds(p0, i, parts.thresholds);
        const runner = new ProxyRunner({
          adapter: parts.adapter,
          store,
          config: p,
          heartbeatTimeoutMs: config.agent.heartbeatTimeoutMs,
          logger: log,
          nowNs,
          ...(parts.modelThread ? { modelThread: parts.modelThread } : {}),
          ...(opts.now ? { now: opts.now } : {}),
        });
        await runner.start();
        agent.runners.push(runner);
      }
      if (config.metrics.enabled) {
        agent.#metrics = await MetricsServer.listen(config.metrics.host, config.metrics.port, () => agent.statuses());
        const a = agent.#metrics.address;
        log.info("metrics endpoint listening", { host: a.address, port: a.port, path: "/metrics" });
      }
    } catch (e) {
      await agent.stop();
      throw e;
    }
    if (opts.timers !== false) {
      agent.#timers.push(setInterval(() => void agent.heartbeat(), config.agent.heartbeatMs));
      agent.#timers.push(setInterval(() => void agent.tick(), config.agent.evaluateMs));
    }
    log.info("agent started", { proxies: config.proxies.map((p) => p.name), store: config.agent.store, pid: process.pid });
    return agent;
  }

  get metricsAddress(): { address: string; port: number } | undefined {
    return this.#metrics?.address;
  }

  async heartbeat(): Promise<void> {
    for (const r of this.runners) {
      try {
        await r.heartbeat();
      } catch (e) {
        r.log.error("heartbeat failed", { error: (e as Error).message });
      }
    }
  }

  /** One loop round over every proxy; rounds never overlap. */
  async tick(): Promise<void> {
    if (this.#busy || this.#stopped) return;
    this.#busy = true;
    try {
      for (const r of this.runners) {
        try {
          await r.tick();
        } catch (e) {
          r.log.error("tick failed", { error: (e as Error).message, code: (e as { code?: string }).code ?? null });
        }
      }
    } finally {
      this.#busy = false;
    }
  }

  async statuses(): Promise<ProxyStatus[]> {
    return Promise.all(this.runners.map((r) => r.status()));
  }

  async stop(): Promise<void> {
    if (this.#stopped) return;
    this.#stopped = true;
    for (const t of this.#timers) clearInterval(t);
    await this.#metrics?.close();
    for (const r of this.runners) {
      try {
        await r.stop();
      } catch (e) {
        r.log.error("stop failed", { error: (e as Error).message });
      }
    }
    this.log.info("agent stopped");
    this.store.close();
  }
}
