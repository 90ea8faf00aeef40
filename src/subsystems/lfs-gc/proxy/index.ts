/**
 * @module subsystems/lfs-gc/proxy
 * Garbage collection through the ml-lib proxy: the simulated kernel side (device, default
 * policy, deployed lifetime table, control record, datasets, feedback, per-epoch paired WA
 * evaluation), the lfs-gc subsystem adapter, the table and its trainer, the model-thread logic
 * (learner) shared by the simulation's agent loop with the mode controller and by `kmlib agent`
 * (agent-parts, which the agent loads on demand).
 */
export { DEFAULT_LFS_GC_OPTIONS, FALLBACKS, LfsGcAdapter, RECOMMENDED_VICTIMS, parseLfsGcOptions } from "./adapter.ts";
export type { Fallback, LfsGcOptions } from "./adapter.ts";
export { HISTORY_COLUMNS, HistoryRing, RATE_SCALE, SEGMENT_COLUMNS, segmentSnapshot } from "./datasets.ts";
export type { SegmentRows } from "./datasets.ts";
export { GcKernel } from "./kernel.ts";
export type { EpochOutcome, GcKernelOptions } from "./kernel.ts";
export { ProxiedGc } from "./kernel-policy.ts";
export type { GcDecision, HistorySink, ProxiedGcOptions, ProxiedGcStats } from "./kernel-policy.ts";
export { PROXY_POLICY, proxyRow, quantizationRow, runProxyRows } from "./bench.ts";
export type { ProxyBenchOptions, ProxyRow, QuantizationRow } from "./bench.ts";
export { GcLearner, historyColumns, recommendVictims } from "./learner.ts";
export { GcModelThread, TABLE_FORMAT, TABLE_KIND, lfsGcParts } from "./agent-parts.ts";
export { GC_THRESHOLDS, runGcSession } from "./session.ts";
export type { GcSessionOptions, GcSessionResult, Phase, PhaseResult } from "./session.ts";
export { LifetimeTrainer, decodeTable, encodeTable, quantizeLifetimes } from "./table.ts";
export type { HistoryColumns, LifeTable } from "./table.ts";
