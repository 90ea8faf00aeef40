/**
 * @module agent/agent
 * The user-space agent (the RFC's "ML model thread"): opens the store, starts one runner per
 * configured proxy through its subsystem adapter, heartbeats every `heartbeatMs`, runs the loop
 * every `evaluateMs`, serves Prometheus metrics and logs JSON lines. Adapters are looked up by
 * name in a registry that subsystems extend with `registerAdapter`.
 */
import { ErrorCode, KmlibError } from "../errors.ts";
import type { AdapterFactory } from "./adapter.ts";
import { MockAdapter } from "./adapters/mock.ts";
import type { AgentConfig } from "./config.ts";
import { Logger } from "./log.ts";
import { MetricsServer } from "./metrics.ts";
import { type ProxyStatus, ProxyRunner } from "./runner.ts";
import { Store } from "./store/index.ts";

const adapters = new Map<string, AdapterFactory>([
  ["mock", (proxy, o) => new MockAdapter(proxy, { seed: typeof o.seed === "number" ? o.seed : 1, decisionsPerPoll: typeof o.decisionsPerPoll === "number" ? o.decisionsPerPoll : 0 })],
  // Loaded on demand: it needs the kernel (bpf()), the mock does not.
  ["ebpf-demo", async (proxy) => new (await import("./adapters/ebpf-demo.ts")).EbpfDemoAdapter(proxy)],
]);

export function registerAdapter(kind: string, factory: AdapterFactory): void {
  adapters.set(kind, factory);
}
export function adapterKinds(): string[] {
  return [...adapters.keys()].sort();
}

export interface AgentOptions {
  readonly logger?: Logger;
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
      if (!adapters.has(p.adapter)) throw new KmlibError(ErrorCode.InvalidConfig, `proxies[${i}].adapter: unknown adapter "${p.adapter}" (known: ${adapterKinds().join(", ")})`);
    }
    const store = Store.open(config.agent.store);
    const agent = new Agent(config, store, log);
    try {
      for (const p of config.proxies) {
        const adapter = await adapters.get(p.adapter)!(p.name, p.options);
        const runner = new ProxyRunner({ adapter, store, config: p, heartbeatTimeoutMs: config.agent.heartbeatTimeoutMs, logger: log });
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
    agent.#timers.push(setInterval(() => void agent.heartbeat(), config.agent.heartbeatMs));
    agent.#timers.push(setInterval(() => void agent.tick(), config.agent.evaluateMs));
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
