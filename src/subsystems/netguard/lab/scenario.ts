/**
 * @module subsystems/netguard/lab/scenario
 * A schedule of traffic phases (benign only; attack X while benign continues; ...) run
 * against a lab, with progress callbacks. Each phase lasts its duration: generators marked
 * `repeat` run again until it ends, and none outlives it (their deadline is the phase's end).
 * The result carries the ground truth: per source address → label, and per run → kind and
 * time window, so flow records can be labelled afterwards.
 */
import { setMaxListeners } from "node:events";
import { ErrorCode, KmlibError } from "../../../errors.ts";
import type { Lab } from "./lab.ts";
import { groundTruth, type GroundTruth } from "./ground-truth.ts";
import { ATTACK_KINDS, monoMs, runTraffic, type AttackKind, type TrafficRun, type TrafficSpec } from "./traffic.ts";
import type { LabPlan } from "./topology.ts";

export type PhaseTraffic = TrafficSpec & {
  /** Run again after it finishes, until the phase ends. */
  repeat?: boolean;
  /** Start this long after the phase starts. */
  delayMs?: number;
};

export interface Phase {
  name: string;
  durationMs: number;
  traffic: PhaseTraffic[];
}

export interface Scenario {
  name: string;
  phases: Phase[];
}

export interface PhaseResult {
  name: string;
  startMs: number;
  endMs: number;
  startMonoMs: number;
  endMonoMs: number;
  runs: number;
  /** Packets the server's lab interface received during the phase. */
  serverRxPackets: number;
}

export type ScenarioEvent =
  | { type: "phase-start"; phase: string; index: number; phases: number; durationMs: number }
  | { type: "run-end"; phase: string; run: TrafficRun }
  | { type: "phase-end"; phase: string; index: number; phases: number; result: PhaseResult };

export interface ScenarioResult {
  scenario: string;
  phases: PhaseResult[];
  runs: TrafficRun[];
  groundTruth: GroundTruth;
  aborted: boolean;
}

export interface RunScenarioOptions {
  onProgress?: (e: ScenarioEvent) => void;
  signal?: AbortSignal;
}

const sleep = (ms: number, signal?: AbortSignal): Promise<void> =>
  new Promise((r) => {
    if (ms <= 0 || signal?.aborted) return r();
    const t = setTimeout(r, ms);
    signal?.addEventListener("abort", () => (clearTimeout(t), r()), { once: true });
  });

export function validateScenario(s: Scenario, plan: LabPlan): void {
  if (s.phases.length === 0) throw new KmlibError(ErrorCode.InvalidConfig, `scenario ${s.name} has no phases`);
  const hosts = new Set([...plan.clients, ...plan.attackers].map((h) => h.id));
  for (const p of s.phases) {
    if (!(p.durationMs > 0 && p.durationMs <= 600_000)) throw new KmlibError(ErrorCode.InvalidConfig, `phase ${p.name}: duration must be in (0, 600000] ms`);
    for (const t of p.traffic) {
      if (!hosts.has(t.from)) throw new KmlibError(ErrorCode.InvalidConfig, `phase ${p.name}: no client or attacker ${t.from} in this lab`);
    }
  }
}

export async function runScenario(lab: Lab, scenario: Scenario, options: RunScenarioOptions = {}): Promise<ScenarioResult> {
  validateScenario(scenario, lab.plan);
  // one inner signal shared by every generator (many listeners), following the caller's
  const inner = new AbortController();
  setMaxListeners(0, inner.signal);
  const abort = (): void => inner.abort();
  if (options.signal?.aborted) inner.abort();
  options.signal?.addEventListener("abort", abort, { once: true });
  try {
    return await run(lab, scenario, { ...options, signal: inner.signal });
  } finally {
    options.signal?.removeEventListener("abort", abort);
  }
}

async function run(lab: Lab, scenario: Scenario, opts: RunScenarioOptions): Promise<ScenarioResult> {
  const runs: TrafficRun[] = [];
  const phases: PhaseResult[] = [];
  for (const [index, phase] of scenario.phases.entries()) {
    if (opts.signal?.aborted) break;
    opts.onProgress?.({ type: "phase-start", phase: phase.name, index, phases: scenario.phases.length, durationMs: phase.durationMs });
    const startMs = Date.now();
    const startMonoMs = monoMs();
    const rx0 = lab.counters().rxPackets;
    const end = startMs + phase.durationMs;
    const phaseRuns: TrafficRun[] = [];
    await Promise.all(
      phase.traffic.map(async ({ repeat, delayMs, ...spec }) => {
        await sleep(delayMs ?? 0, opts.signal);
        do {
          const left = end - Date.now();
          if (left < 50 || opts.signal?.aborted) break;
          const run = await runTraffic(lab, { ...spec, maxMs: Math.min(spec.maxMs ?? left, left) } as TrafficSpec, { signal: opts.signal });
          phaseRuns.push(run);
          opts.onProgress?.({ type: "run-end", phase: phase.name, run });
          if (repeat) await sleep(20, opts.signal);
        } while (repeat);
      }),
    );
    await sleep(end - Date.now(), opts.signal);
    const result: PhaseResult = { name: phase.name, startMs, endMs: Date.now(), startMonoMs, endMonoMs: monoMs(), runs: phaseRuns.length, serverRxPackets: lab.counters().rxPackets - rx0 };
    runs.push(...phaseRuns);
    phases.push(result);
    opts.onProgress?.({ type: "phase-end", phase: phase.name, index, phases: scenario.phases.length, result });
  }
  return { scenario: scenario.name, phases, runs, groundTruth: groundTruth(lab.plan, runs), aborted: opts.signal?.aborted ?? false };
}

/** Benign background for one phase: every client browses, pings and transfers; one runs wrk. */
export function benignTraffic(plan: LabPlan, phaseMs: number): PhaseTraffic[] {
  const out: PhaseTraffic[] = [];
  for (const [i, c] of plan.clients.entries()) {
    const family = i % 2 === 0 ? 4 : 6;
    out.push({ kind: "curl", from: c.id, family, count: 100_000, intervalMs: 40 + 30 * i, repeat: true });
    out.push({ kind: "ping", from: c.id, family, count: 100_000, intervalMs: 500, repeat: true });
    out.push({ kind: "iperf3", from: c.id, family, bytes: 512 * 1024, rateMbit: 10, repeat: true, delayMs: 300 * (i + 1) });
  }
  const first = plan.clients[0];
  if (first && phaseMs >= 2500) out.push({ kind: "wrk", from: first.id, seconds: 1, connections: 2, delayMs: Math.floor(phaseMs / 3) });
  return out;
}

/** One attack, sized to a phase, from one attacker. */
export function attackTraffic(kind: AttackKind, from: string, phaseMs: number): PhaseTraffic {
  switch (kind) {
    case "syn-flood":
    case "udp-flood":
    case "icmp-flood":
      return { kind, from, count: 2000, repeat: true };
    case "syn-scan":
    case "connect-scan":
      return { kind, from, ports: "1-1024", repeat: true };
    case "slowloris":
      return { kind, from, connections: 100, rate: 50, seconds: Math.max(1, Math.floor(phaseMs / 1000) - 1) };
  }
}

/**
 * The standard schedule: benign only, then each attack in turn (attackers take turns) while
 * benign traffic continues, then benign only again.
 */
export function standardScenario(
  plan: LabPlan,
  opts: { phaseMs?: number; attacks?: readonly AttackKind[]; attackers?: readonly string[]; name?: string } = {},
): Scenario {
  const phaseMs = opts.phaseMs ?? 5000;
  const attacks = opts.attacks ?? ATTACK_KINDS;
  // a held-out run can use attackers (and attacks) that training never saw
  const attackers = opts.attackers ?? plan.attackers.map((a) => a.id);
  if (attackers.length === 0) throw new KmlibError(ErrorCode.InvalidConfig, "standard scenario needs at least one attacker");
  const phases: Phase[] = [{ name: "benign", durationMs: phaseMs, traffic: benignTraffic(plan, phaseMs) }];
  for (const [i, kind] of attacks.entries()) {
    const attacker = attackers[i % attackers.length]!;
    phases.push({ name: `${kind}+benign`, durationMs: phaseMs, traffic: [...benignTraffic(plan, phaseMs), attackTraffic(kind, attacker, phaseMs)] });
  }
  phases.push({ name: "benign-after", durationMs: phaseMs, traffic: benignTraffic(plan, phaseMs) });
  return { name: opts.name ?? "standard", phases };
}
