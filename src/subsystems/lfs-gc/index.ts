/**
 * @module subsystems/lfs-gc
 * Log-structured garbage collection, simulated: the store, the policies (classical, oracle,
 * learned), victims as proxy recommendations under the four modes, workloads and MQSim trace
 * replay, and Desnoyers' analytic models the simulator is validated against.
 */
export { LogStore } from "./store.ts";
export type { StoreConfig, StoreCounters } from "./store.ts";
export { SegState } from "./policy.ts";
export type { GcPolicy, GcView, VictimPolicy } from "./policy.ts";
export { simulate } from "./simulate.ts";
export type { PolicyContext, PolicyFactory, SimOptions, SimResult } from "./simulate.ts";
export { ageThresholdGc, costAgeTimes, costBenefit, dChoices, f2fsCostBenefit, fifo, greedy, windowedGreedy } from "./policies/classical.ts";
export { LifetimeModel, MlLifetimePolicy } from "./policies/ml-lifetime.ts";
export { oracle, rateOracle } from "./policies/oracle.ts";
export { SegmentLedger, lifetimeClass } from "./policies/lifetime.ts";
export { DecisionSource, GcMode, RecommendedPolicy, gcModes, isVictim, policySource } from "./recommended.ts";
export type { ModeTransition, Recommendation, RecommendationSource, RecommendedOptions, ShadowStats, SourceStats } from "./recommended.ts";
export { HotColdWorkload, PhasedWorkload, UniformWorkload, ZipfWorkload } from "./workload.ts";
export type { Workload } from "./workload.ts";
export { TraceWorkload } from "./trace.ts";
export type { TraceStats } from "./trace.ts";
export { FutureIndex, RecordedWorkload } from "./future.ts";
export { greedyUniformWa, lrwHotColdWa, lrwMixedWa, lrwUniformWa, lrwValidFraction } from "./desnoyers.ts";
export type { DataClass } from "./desnoyers.ts";
export { classicalPolicyNames, makeWorkload, mlWithMode, policyFactory, policyNames, workloadNames } from "./registry.ts";
export { matrixChart, runMatrix, sharedTraces, summarize } from "./bench-matrix.ts";
export type { MatrixOptions, WorkloadSummary } from "./bench-matrix.ts";
export { Rng } from "./rng.ts";
export * from "./proxy/index.ts";
