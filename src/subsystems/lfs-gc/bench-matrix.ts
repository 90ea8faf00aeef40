/**
 * @module subsystems/lfs-gc/bench-matrix
 * Every policy on every workload at one spare factor and segment size: the table and plot
 * behind `kmlib gc bench`, and the summary the targets are read from (the learned
 * policy against the best hand-written one, against greedy on uniform writes, and against the
 * three oracles: see docs/lfs-gc-oracles.md for what each knows).
 */
import { existsSync, readdirSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { barChart } from "../../report/svg-plot.ts";
import { classicalPolicyNames, makeWorkload, policyFactory } from "./registry.ts";
import { simulate } from "./simulate.ts";
import type { SimResult } from "./simulate.ts";

export interface MatrixOptions {
  policies: readonly string[];
  /** Workload specs (see registry), e.g. `uniform`, `zipf-1.0`, `trace:/path/x.trace`. */
  workloads: readonly string[];
  spareFactor: number;
  blocksPerSegment: number;
  logicalBlocks: number;
  /** Warm-up and measured writes as multiples of the workload's logical blocks. */
  warmupFactor: number;
  measureFactor: number;
  seed: number;
  onProgress?: (msg: string) => void;
}

export interface WorkloadSummary {
  workload: string;
  bestClassical: string;
  bestClassicalWa: number;
  greedyWa?: number;
  mlWa?: number;
  /** Knows every future overwrite; places and chooses victims by it. */
  oracleWa?: number;
  /** The learned placement, victims chosen knowing every future overwrite. */
  victimOracleWa?: number;
  /** Knows true per-block rates (synthetic workloads only): the bound for a rate predictor. */
  rateOracleWa?: number;
  /** ml / best classical (target <= 0.9 on skewed workloads). */
  mlVsBestClassical?: number;
  /** ml / oracle (target <= 1.05). */
  mlVsOracle?: number;
  /** ml / greedy (target <= 1.02 on uniform). */
  mlVsGreedy?: number;
  /** ml / rate oracle: what is left to learn about popularity. */
  mlVsRateOracle?: number;
  /** ml / victim oracle: what the learned victim ranking loses on its own layout. */
  mlVsVictimOracle?: number;
}

/** The MQSim traces shipped beside the project (`../shared/traces`), if any. */
export function sharedTraces(): string[] {
  const dir = resolve(dirname(fileURLToPath(import.meta.url)), "../../../../shared/traces");
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .filter((f) => f.endsWith(".trace"))
    .sort()
    .map((f) => join(dir, f));
}

export function runMatrix(opts: MatrixOptions): SimResult[] {
  const out: SimResult[] = [];
  const total = opts.policies.length * opts.workloads.length;
  let done = 0;
  for (const w of opts.workloads) {
    for (const p of opts.policies) {
      const workload = makeWorkload(w, { logicalBlocks: opts.logicalBlocks, seed: opts.seed });
      const u = workload.logicalBlocks;
      done++;
      if (p === "rate-oracle" && !workload.trueRate) {
        opts.onProgress?.(`[${done}/${total}] ${p} skipped on ${workload.name} (no known rates)`);
        continue;
      }
      opts.onProgress?.(`[${done}/${total}] ${p} on ${workload.name}`);
      out.push(
        simulate({
          policy: policyFactory(p),
          workload,
          spareFactor: opts.spareFactor,
          blocksPerSegment: opts.blocksPerSegment,
          warmupWrites: Math.round(opts.warmupFactor * u),
          measureWrites: Math.round(opts.measureFactor * u),
          seed: opts.seed,
        }),
      );
    }
  }
  return out;
}

export function summarize(results: readonly SimResult[]): WorkloadSummary[] {
  const byWorkload = new Map<string, SimResult[]>();
  for (const r of results) byWorkload.set(r.workload, [...(byWorkload.get(r.workload) ?? []), r]);
  const out: WorkloadSummary[] = [];
  for (const [workload, rs] of byWorkload) {
    const wa = (name: string): number | undefined => rs.find((r) => r.policy === name)?.writeAmplification;
    const classical = rs.filter((r) => (classicalPolicyNames as readonly string[]).includes(r.policy));
    if (classical.length === 0) continue;
    const best = classical.reduce((a, b) => (b.writeAmplification < a.writeAmplification ? b : a));
    const s: WorkloadSummary = { workload, bestClassical: best.policy, bestClassicalWa: best.writeAmplification };
    const greedy = wa("greedy");
    const ml = wa("ml");
    const oracle = wa("oracle");
    const rateOracle = wa("rate-oracle");
    const victimOracle = wa("victim-oracle");
    if (greedy !== undefined) s.greedyWa = greedy;
    if (oracle !== undefined) s.oracleWa = oracle;
    if (victimOracle !== undefined) s.victimOracleWa = victimOracle;
    if (rateOracle !== undefined) s.rateOracleWa = rateOracle;
    if (ml !== undefined) {
      s.mlWa = ml;
      s.mlVsBestClassical = ml / best.writeAmplification;
      if (oracle !== undefined) s.mlVsOracle = ml / oracle;
      if (greedy !== undefined) s.mlVsGreedy = ml / greedy;
      if (rateOracle !== undefined) s.mlVsRateOracle = ml / rateOracle;
      if (victimOracle !== undefined) s.mlVsVictimOracle = ml / victimOracle;
    }
    out.push(s);
  }
  return out;
}

/** Grouped bars: one group per workload, one bar per policy. */
export function matrixChart(results: readonly SimResult[], title: string): string {
  const workloads = [...new Set(results.map((r) => r.workload))];
  const policies = [...new Set(results.map((r) => r.policy))];
  return barChart({
    title,
    xLabel: "workload",
    yLabel: "write amplification",
    width: Math.max(900, 120 + workloads.length * (policies.length * 12 + 30) + 200),
    height: 520,
    groups: workloads,
    series: policies.map((p) => ({
      name: p,
      values: workloads.map((w) => results.find((r) => r.workload === w && r.policy === p)?.writeAmplification ?? null),
    })),
  });
}
