/**
 * @module subsystems/lfs-gc/registry
 * Names for policies and workloads, as the CLI and the benchmark spell them.
 */
import { ErrorCode, KmlibError } from "../../errors.ts";
import * as classical from "./policies/classical.ts";
import { MlLifetimePolicy } from "./policies/ml-lifetime.ts";
import { oracle, rateOracle } from "./policies/oracle.ts";
import { victimOracle } from "./policies/victim-oracle.ts";
import { RecommendedPolicy, policySource } from "./recommended.ts";
import type { GcMode } from "./recommended.ts";
import type { PolicyFactory } from "./simulate.ts";
import { TraceWorkload } from "./trace.ts";
import { HotColdWorkload, PhasedWorkload, UniformWorkload, ZipfWorkload } from "./workload.ts";
import type { Workload } from "./workload.ts";
import { isWorkloadSequence, makeShiftedWorkload } from "./shifted-workload.ts";
export { ShiftedWorkload, isWorkloadSequence, makeShiftedWorkload, parseWorkloadSequence, splitWorkloadList } from "./shifted-workload.ts";

const factories = {
  greedy: () => classical.greedy(),
  fifo: () => classical.fifo(),
  "windowed-greedy": () => classical.windowedGreedy(),
  "d-choices": (ctx) => classical.dChoices(10, ctx.seed ^ 0x2545f491),
  "cost-benefit": () => classical.costBenefit(),
  "f2fs-cb": () => classical.f2fsCostBenefit(),
  cat: () => classical.costAgeTimes(),
  atgc: () => classical.ageThresholdGc(),
  ml: (ctx) => new MlLifetimePolicy(ctx.logicalBlocks),
  "rate-oracle": (ctx) => rateOracle(ctx.workload, ctx.logicalBlocks),
  "victim-oracle": Object.assign((ctx: Parameters<PolicyFactory>[0]) => victimOracle(ctx.future, ctx.logicalBlocks), { needsFuture: true }),
  oracle: Object.assign((ctx: Parameters<PolicyFactory>[0]) => oracle(ctx.future, ctx.logicalBlocks), { needsFuture: true }),
} satisfies Record<string, PolicyFactory>;

export type PolicyName = keyof typeof factories;
export const policyNames = Object.keys(factories) as PolicyName[];
/** The oracles: they know something no causal policy can (see docs/lfs-gc-oracles.md). */
export const oraclePolicyNames: readonly PolicyName[] = ["rate-oracle", "victim-oracle", "oracle"];
/** The hand-written policies (everything but the learned one and the oracles). */
export const classicalPolicyNames = policyNames.filter((n) => n !== "ml" && !oraclePolicyNames.includes(n));

export function policyFactory(name: string): PolicyFactory {
  if (!(name in factories)) throw new KmlibError(ErrorCode.NotFound, `unknown policy "${name}"; known: ${policyNames.join(", ")}`);
  return factories[name as PolicyName];
}

/**
 * The learned policy behind the proxy's decision logic: its victims are recommendations,
 * applied per `mode`, with the classical `fallback` as guard and reference.
 */
export function mlWithMode(mode: GcMode, fallback = "greedy"): PolicyFactory {
  const fb = policyFactory(fallback);
  return (ctx) => {
    const ml = new MlLifetimePolicy(ctx.logicalBlocks);
    return new RecommendedPolicy({ source: policySource(ml), fallback: fb(ctx), mode, placement: ml });
  };
}

/** Synthetic workload names (plus `zipf-S` for any skew S, `trace`, and sequences `A@COUNT,...,Z`). */
export const workloadNames = ["uniform", "hotcold-80-20", "hotcold-90-10", "zipf-0.8", "zipf-1.0", "zipf-1.2", "phases"] as const;

export interface WorkloadOptions {
  logicalBlocks: number;
  seed: number;
  /** MQSim trace file, for workload `trace`. */
  trace?: string;
  /** Writes per phase for `phases`; default 4 × logical blocks. */
  phaseLength?: number;
}

/**
 * Builds a workload from its name: a registry name, or a sequence `A@COUNT,...,Z` of them
 * (`shifted-workload.ts`: COUNT host writes, or Nx logical blocks, counted from the
 * workload's first write; the last part runs on), part i seeded seed + i.
 */
export function makeWorkload(spec: string, opts: WorkloadOptions): Workload {
  // A lone trace is taken whole (its path may hold `@`); anything else goes through the
  // sequence parser, which also refuses a lone name with @COUNT.
  if (!isWorkloadSequence(spec) && (spec === "trace" || spec.startsWith("trace:"))) return makeOneWorkload(spec, opts);
  return makeShiftedWorkload(spec, opts, makeOneWorkload);
}

function makeOneWorkload(spec: string, opts: WorkloadOptions): Workload {
  const u = opts.logicalBlocks;
  if (spec === "trace" || spec.startsWith("trace:")) {
    const path = spec.startsWith("trace:") ? spec.slice(6) : opts.trace;
    if (!path) throw new KmlibError(ErrorCode.InvalidArgument, "workload trace needs a trace file (--trace FILE)");
    return new TraceWorkload(path);
  }
  if (spec === "uniform") return new UniformWorkload(u, opts.seed);
  if (spec === "phases") return new PhasedWorkload(u, opts.phaseLength ?? 4 * u, 0.9, 0.1, opts.seed);
  let m = /^hotcold-(\d+)-(\d+)$/.exec(spec);
  if (m) return new HotColdWorkload(u, Number(m[1]) / 100, Number(m[2]) / 100, opts.seed);
  m = /^zipf-(\d+(?:\.\d+)?)$/.exec(spec);
  if (m) return new ZipfWorkload(u, Number(m[1]), opts.seed);
  throw new KmlibError(ErrorCode.NotFound, `unknown workload "${spec}"; known: ${workloadNames.join(", ")}, zipf-S, trace, or a sequence A@COUNT,...,Z`);
}
