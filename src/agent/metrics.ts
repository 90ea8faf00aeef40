/**
 * @module agent/metrics
 * Prometheus metrics in the text exposition format (0.0.4), rendered from the proxies'
 * statuses, and a small node:http server for them bound to 127.0.0.1 by default (metrics
 * describe the machine's kernel decisions: not for the network unless asked).
 */
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { MODES, ModeCode, SOURCES } from "../proxy/mode.ts";
import type { ProxyStatus } from "./runner.ts";

const esc = (v: string) => v.replace(/\\/g, "\\\\").replace(/\n/g, "\\n").replace(/"/g, '\\"');
const labels = (l: Record<string, string>) => `{${Object.entries(l).map(([k, v]) => `${k}="${esc(v)}"`).join(",")}}`;

export function renderMetrics(statuses: readonly ProxyStatus[]): string {
  const out: string[] = [];
  const family = (name: string, type: "gauge" | "counter", help: string, rows: Array<[Record<string, string>, number]>) => {
    out.push(`# HELP ${name} ${help}`, `# TYPE ${name} ${type}`);
    for (const [l, v] of rows) out.push(`${name}${labels(l)} ${Number.isFinite(v) ? v : "NaN"}`);
  };
  family("kmlib_proxy_mode", "gauge", "1 for the mode the agent asked for", statuses.flatMap((s) => MODES.map((m) => [{ proxy: s.proxy, mode: m }, s.mode === m ? 1 : 0] as [Record<string, string>, number])));
  family("kmlib_proxy_effective_mode", "gauge", "Mode code the kernel side uses (1 emergency .. 4 recommendation)", statuses.map((s) => [{ proxy: s.proxy }, ModeCode[s.effectiveMode as keyof typeof ModeCode] ?? 0]));
  family("kmlib_proxy_model_version", "gauge", "Model version deployed kernel-side (0 none)", statuses.map((s) => [{ proxy: s.proxy }, s.modelVersion]));
  family("kmlib_proxy_heartbeat_age_seconds", "gauge", "Age of the agent heartbeat as the kernel side sees it", statuses.map((s) => [{ proxy: s.proxy }, s.heartbeatAgeMs / 1000]));
  const cells = (f: (s: ProxyStatus, m: (typeof MODES)[number], src: (typeof SOURCES)[number]) => number) =>
    statuses.flatMap((s) => MODES.flatMap((m) => SOURCES.map((src) => [{ proxy: s.proxy, mode: m, source: src }, f(s, m, src)] as [Record<string, string>, number])));
  family("kmlib_decisions_total", "counter", "Decisions made, per mode and decision source", cells((s, m, src) => s.counters[m][src].decided));
  family("kmlib_evaluated_total", "counter", "Answers evaluated against the outcome, per mode and source", cells((s, m, src) => s.counters[m][src].evaluated));
  family("kmlib_good_total", "counter", "Answers that proved good, per mode and source", cells((s, m, src) => s.counters[m][src].good));
  const rate = (bound: "rate" | "lo" | "hi") => cells((s, m, src) => s.efficiency[m]?.[src][bound] ?? 0);
  family("kmlib_good_rate", "gauge", "Good-answer rate (point estimate)", rate("rate"));
  family("kmlib_good_rate_lower", "gauge", "Wilson 95% lower bound of the good-answer rate", rate("lo"));
  family("kmlib_good_rate_upper", "gauge", "Wilson 95% upper bound of the good-answer rate", rate("hi"));
  family("kmlib_feedback_stored_total", "counter", "Feedback records stored by this agent", statuses.map((s) => [{ proxy: s.proxy }, s.feedbackStored]));
  // Proxies weighed on paired outcomes (lfs-gc: write amplification per epoch) only.
  const paired = statuses.filter((s) => s.paired);
  if (paired.length > 0) {
    const per = (f: (p: NonNullable<ProxyStatus["paired"]>[string]) => number) =>
      paired.flatMap((s) => MODES.map((m) => [{ proxy: s.proxy, mode: m }, s.paired![m] ? f(s.paired![m]) : 0] as [Record<string, string>, number]));
    family("kmlib_paired_outcomes_total", "counter", "Paired outcomes (epochs) measured, per mode", per((p) => p.n));
    family("kmlib_paired_gain", "gauge", "Mean paired gain of the model over the default (1 - model metric / default metric)", per((p) => p.mean));
    family("kmlib_paired_gain_lower", "gauge", "Student t 95% lower bound of the paired gain", per((p) => p.lo));
    family("kmlib_paired_gain_upper", "gauge", "Student t 95% upper bound of the paired gain", per((p) => p.hi));
  }
  return `${out.join("\n")}\n`;
}

export class MetricsServer {
  readonly #server: Server;
  private constructor(server: Server) {
    this.#server = server;
  }
  static async listen(host: string, port: number, statuses: () => Promise<readonly ProxyStatus[]>): Promise<MetricsServer> {
    const server = createServer((req, res) => {
      if (req.method !== "GET" || (req.url ?? "/").split("?")[0] !== "/metrics") {
        res.writeHead(404, { "content-type": "text/plain" }).end("not found: try /metrics\n");
        return;
      }
      statuses().then(
        (s) => res.writeHead(200, { "content-type": "text/plain; version=0.0.4; charset=utf-8" }).end(renderMetrics(s)),
        (e: unknown) => res.writeHead(500, { "content-type": "text/plain" }).end(`${(e as Error).message}\n`),
      );
    });
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen(port, host, () => resolve());
    });
    return new MetricsServer(server);
  }
  get address(): AddressInfo {
    return this.#server.address() as AddressInfo;
  }
  async close(): Promise<void> {
    await new Promise<void>((r) => this.#server.close(() => r()));
  }
}
