/**
 * @module subsystems/netguard/lab/traffic
 * Traffic generators: real Debian tools run inside a client or attacker namespace against the
 * lab server. Each returns when done and is bounded twice — by a count the tool itself obeys
 * (requests, packets, bytes, ports, connections) and by a hard deadline (`maxMs`). Each run
 * is labelled by the namespace that sent it, never by what the traffic looks like.
 *
 * Benign: curl request loops, wrk, short iperf3 runs, ping.
 * Attack: hping3 SYN / UDP / ICMP floods (`-c` count with `--faster`, never `--flood`),
 * nmap SYN and connect scans, slowhttptest in slowloris mode with a short `-l`.
 */
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ErrorCode, KmlibError, assertNever } from "../../../errors.ts";
import type { Lab } from "./lab.ts";
import type { HostPlan, Label } from "./topology.ts";
import { HTTP_PORT, WEB_PATHS, iperfPort, type WebPath } from "./services.ts";
import { runBounded, type BoundedResult } from "./run-bounded.ts";

export const BENIGN_KINDS = ["curl", "wrk", "iperf3", "ping"] as const;
export const ATTACK_KINDS = ["syn-flood", "udp-flood", "icmp-flood", "syn-scan", "connect-scan", "slowloris"] as const;
export type BenignKind = (typeof BENIGN_KINDS)[number];
export type AttackKind = (typeof ATTACK_KINDS)[number];
export type TrafficKind = BenignKind | AttackKind;

interface Common {
  /** Sending host: `c1`, `a2`, a namespace name or an address. */
  from: string;
  /** IP version of the flows (default 4; hping3 only speaks IPv4). */
  family?: 4 | 6;
  /** Hard deadline; the tool is killed when it passes. */
  maxMs?: number;
}

export type TrafficSpec =
  | (Common & { kind: "curl"; count?: number; intervalMs?: number; parallel?: number; paths?: WebPath[] })
  | (Common & { kind: "wrk"; seconds?: number; connections?: number; path?: WebPath })
  | (Common & { kind: "iperf3"; bytes?: number; rateMbit?: number; udp?: boolean; reverse?: boolean })
  | (Common & { kind: "ping"; count?: number; intervalMs?: number })
  | (Common & { kind: "syn-flood" | "udp-flood" | "icmp-flood"; count?: number; port?: number; intervalUs?: number; dataBytes?: number })
  | (Common & { kind: "syn-scan" | "connect-scan"; ports?: string })
  | (Common & { kind: "slowloris"; connections?: number; rate?: number; seconds?: number; intervalS?: number });

export interface TrafficRun {
  kind: TrafficKind;
  label: Label;
  from: string;
  ns: string;
  /** Source addresses of the run: ground truth for flow records. */
  src: { ipv4: string; ipv6: string; mac: string };
  family: 4 | 6;
  /** Wall clock, ms since the epoch. */
  startMs: number;
  endMs: number;
  /** CLOCK_MONOTONIC in ms, the clock of bpf_ktime_get_ns() / 1e6. */
  startMonoMs: number;
  endMonoMs: number;
  timedOut: boolean;
  /** Tool exit codes that were neither 0 nor a kill at the deadline. */
  failures: number;
  /** What the tool reported: requests, ok, sent, received, bytes, open ports... */
  stats: Record<string, number>;
}

export function isAttackKind(k: TrafficKind): k is AttackKind {
  return (ATTACK_KINDS as readonly string[]).includes(k);
}

export function monoMs(): number {
  return Number(process.hrtime.bigint()) / 1e6;
}

const sleep = (ms: number, signal?: AbortSignal): Promise<void> =>
  new Promise((r) => {
    if (signal?.aborted) return r();
    const t = setTimeout(r, ms);
    signal?.addEventListener("abort", () => (clearTimeout(t), r()), { once: true });
  });

function int(m: RegExpMatchArray | null, i = 1): number {
  return m ? Number(m[i]) : 0;
}

/** Default hard deadline per kind: generous for the default counts, still short. */
const DEFAULT_MAX_MS: Record<TrafficKind, number> = {
  curl: 20_000, wrk: 10_000, iperf3: 10_000, ping: 10_000,
  "syn-flood": 15_000, "udp-flood": 15_000, "icmp-flood": 15_000,
  "syn-scan": 15_000, "connect-scan": 15_000, slowloris: 15_000,
};

/** Run one generator to completion (or its deadline). */
export async function runTraffic(lab: Lab, spec: TrafficSpec, opts: { signal?: AbortSignal } = {}): Promise<TrafficRun> {
  const h = lab.host(spec.from);
  if (h.role === "server") throw new KmlibError(ErrorCode.InvalidArgument, "traffic is sent to the server, not from it");
  if (isAttackKind(spec.kind) && h.role !== "attacker") {
    throw new KmlibError(ErrorCode.InvalidArgument, `${spec.kind} must come from an attacker namespace (labels come from the namespace), not ${h.id}`);
  }
  const family = spec.family ?? 4;
  if (family === 6 && (spec.kind === "syn-flood" || spec.kind === "udp-flood" || spec.kind === "icmp-flood")) {
    throw new KmlibError(ErrorCode.Unsupported, "hping3 floods are IPv4 only");
  }
  const srv = lab.plan.server;
  const dst = family === 4 ? srv.ipv4 : srv.ipv6;
  const url = (p: string): string => `http://${family === 4 ? dst : `[${dst}]`}:${HTTP_PORT}${p}`;
  const maxMs = spec.maxMs ?? DEFAULT_MAX_MS[spec.kind];
  const deadline = Date.now() + maxMs;
  const ns = lab.ns(h.id);
  let timedOut = false;
  let failures = 0;
  const stats: Record<string, number> = {};
  const add = (k: string, v: number): void => {
    stats[k] = (stats[k] ?? 0) + v;
  };
  const run = async (cmd: string, args: string[], okCodes: number[] = [0]): Promise<BoundedResult> => {
    const r = await runBounded(ns, cmd, args, { maxMs: Math.max(1, deadline - Date.now()), signal: opts.signal, onSpawn: (c) => lab.track(c) });
    if (r.timedOut) timedOut = true;
    else if (!opts.signal?.aborted && (r.code === null || !okCodes.includes(r.code))) failures++;
    return r;
  };
  const startMs = Date.now();
  const startMonoMs = monoMs();

  switch (spec.kind) {
    case "curl": {
      const count = spec.count ?? 20;
      const paths = spec.paths ?? (["/index.html", "/small.txt", "/page.html", "/index.html"] as WebPath[]);
      const parallel = Math.max(1, Math.min(spec.parallel ?? 1, count));
      let next = 0;
      const worker = async (): Promise<void> => {
        while (next < count && Date.now() < deadline && !opts.signal?.aborted) {
          const i = next++;
          const path = paths[i % paths.length]!;
          const r = await run("curl", ["-sS", "-o", "/dev/null", "-w", "%{http_code} %{size_download}", "--max-time", "3", "--connect-timeout", "2", url(path)]);
          add("requests", 1);
          const [code, size] = r.stdout.trim().split(" ").map(Number);
          if (code === 200 && size === WEB_PATHS[path]) add("ok", 1);
          add("bytes", size ?? 0);
          if (spec.intervalMs ?? 50) await sleep(Math.min(spec.intervalMs ?? 50, Math.max(0, deadline - Date.now())), opts.signal);
        }
      };
      await Promise.all(Array.from({ length: parallel }, worker));
      break;
    }
    case "wrk": {
      const secs = Math.max(1, Math.round(spec.seconds ?? 1));
      const conns = spec.connections ?? 4;
      const r = await run("wrk", ["-t1", `-c${conns}`, `-d${secs}s`, "--timeout", "2s", url(spec.path ?? "/index.html")]);
      add("requests", int(r.stdout.match(/(\d+) requests in/)));
      add("connections", conns);
      add("errors", int(r.stdout.match(/Non-2xx or 3xx responses: (\d+)/)));
      break;
    }
    case "iperf3": {
      const bytes = spec.bytes ?? 2 * 1024 * 1024;
      const args = ["-c", dst, "-p", String(iperfPort(lab.plan, h)), "-n", String(bytes), "-b", `${spec.rateMbit ?? 20}M`, "-J", "--connect-timeout", "2000"];
      if (spec.udp) args.push("-u", "-l", "1200");
      if (spec.reverse) args.push("-R");
      const r = await run("iperf3", args);
      try {
        const j = JSON.parse(r.stdout) as { end?: { sum_sent?: { bytes?: number }; sum?: { bytes?: number; packets?: number } } };
        add("bytes", j.end?.sum_sent?.bytes ?? j.end?.sum?.bytes ?? 0);
        if (j.end?.sum?.packets) add("packets", j.end.sum.packets);
      } catch {
        // killed before its summary
      }
      break;
    }
    case "ping": {
      const count = spec.count ?? 5;
      const interval = Math.max(200, spec.intervalMs ?? 200) / 1000;
      const r = await run("ping", [family === 4 ? "-4" : "-6", "-n", "-q", "-c", String(count), "-i", String(interval), "-W", "1", "-w", String(Math.ceil(maxMs / 1000)), dst]);
      const m = r.stdout.match(/(\d+) packets transmitted, (\d+) (?:packets )?received/);
      add("sent", int(m, 1));
      add("received", int(m, 2));
      break;
    }
    case "syn-flood":
    case "udp-flood":
    case "icmp-flood": {
      const count = spec.count ?? 2000;
      const mode = spec.kind === "syn-flood" ? ["-S", "-p", String(spec.port ?? HTTP_PORT)] : spec.kind === "udp-flood" ? ["--udp", "-p", String(spec.port ?? 53)] : ["--icmp"];
      // --faster (or a given interval): bounded by -c, never --flood
      const pace = spec.intervalUs === undefined ? ["--faster"] : ["-i", `u${Math.max(10, Math.round(spec.intervalUs))}`];
      const args = [...mode, "-c", String(count), ...pace, "-q", ...(spec.dataBytes ? ["-d", String(spec.dataBytes)] : []), dst];
      // hping3 exits 1 when it counted no reply, which a flood does not wait for
      const r = await run("hping3", args, [0, 1]);
      const m = (r.stdout + r.stderr).match(/(\d+) packets transmitted, (\d+) packets received/);
      add("sent", int(m, 1));
      add("received", int(m, 2));
      break;
    }
    case "syn-scan":
    case "connect-scan": {
      const args = [spec.kind === "syn-scan" ? "-sS" : "-sT", "-n", "-Pn", "-T4", "--max-retries", "1", "--host-timeout", `${Math.max(1, Math.floor(maxMs / 1000) - 1)}s`, "-p", spec.ports ?? "1-1024"];
      if (family === 6) args.push("-6");
      const r = await run("nmap", [...args, dst]);
      add("openPorts", (r.stdout.match(/^\d+\/tcp\s+open/gm) ?? []).length);
      const scanned = spec.ports ?? "1-1024";
      add("ports", scanned.split(",").reduce((n, part) => {
        const [a, b] = part.split("-").map(Number);
        return n + (b === undefined ? 1 : b! - a! + 1);
      }, 0));
      break;
    }
    case "slowloris": {
      const secs = Math.max(1, Math.round(spec.seconds ?? 3));
      const conns = spec.connections ?? 50;
      // -g -o: per-second socket states in a CSV (the console report is for terminals)
      const dir = mkdtempSync(join(tmpdir(), "kmlib-slowloris-"));
      try {
        const args = ["-H", "-c", String(conns), "-r", String(spec.rate ?? 50), "-i", String(spec.intervalS ?? 1), "-l", String(secs), "-p", "2", "-x", "24", "-g", "-o", join(dir, "s"), "-u", url("/index.html")];
        await run("slowhttptest", args);
        add("connections", conns);
        const rows = readCsv(join(dir, "s.csv"));
        add("maxConnected", Math.max(0, ...rows.map((r) => r.Connected ?? 0)));
        add("closed", rows.at(-1)?.Closed ?? 0);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
      break;
    }
    default:
      assertNever(spec, "traffic kind");
  }
  return {
    kind: spec.kind,
    label: h.label,
    from: h.id,
    ns: h.ns,
    src: srcOf(h),
    family,
    startMs,
    endMs: Date.now(),
    startMonoMs,
    endMonoMs: monoMs(),
    timedOut,
    failures,
    stats,
  };
}

function readCsv(path: string): Array<Record<string, number>> {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch {
    return [];
  }
  const [head, ...lines] = text.trim().split("\n");
  const cols = (head ?? "").split(",");
  return lines.map((l) => Object.fromEntries(l.split(",").map((v, i) => [cols[i] ?? String(i), Number(v)])));
}

function srcOf(h: HostPlan): TrafficRun["src"] {
  return { ipv4: h.ipv4, ipv6: h.ipv6, mac: h.mac };
}
