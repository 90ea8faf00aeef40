/**
 * @module agent/adapter
 * The subsystem adapter interface: the RFC's model operations (struct ml_lib_model_operations)
 * in TypeScript, as the agent sees a kernel-side proxy. Each subsystem (netguard, lfs-gc, the
 * mock) implements this once; the agent and the shared conformance suite
 * (`test/proxy/conformance.ts`) work with any implementation.
 *
 * RFC operation               -> here
 *   create / init / re_init   -> constructor / init / reinit
 *   start / stop / destroy    -> start (+ run) / stop / shutdown
 *   get_system_state          -> systemState
 *   get_dataset               -> getDataset (prepared on request) / pollDatasets (published)
 *   preprocess_data           -> preprocessData
 *   publish_data              -> pollDatasets (the kernel publishes, the agent collects)
 *   preprocess_recommendation -> preprocessRecommendation
 *   apply_recommendation      -> applyRecommendation
 *   estimate_efficiency       -> estimateEfficiency (+ estimatePaired, optional: paired metric outcomes)
 *   error_backpropagation     -> backPropagate
 *   correct_system_state      -> correctSystemState
 * plus what the RFC left to sysfs: setMode, heartbeat, deployModel; and, optionally,
 * drainEvents: what the subsystem saw happen (lfs-gc: its simulated host's workload shifting),
 * for the agent's event log beside the transitions it may explain.
 */
import type { Control, Fallback } from "../proxy/control.ts";
import type { DatasetDescriptor, DatasetType, Portion } from "../proxy/dataset.ts";
import type { EfficiencyCounters } from "../proxy/efficiency.ts";
import type { FeedbackRecord } from "../proxy/feedback.ts";
import type { LifecycleState } from "../proxy/lifecycle.ts";
import type { Mode } from "../proxy/mode.ts";
import type { PairedCounters } from "../proxy/paired.ts";
import type { Recommendation, RecommendationSchema } from "../proxy/recommendation.ts";

export interface SystemState {
  readonly lifecycle: LifecycleState;
  /** The mode the agent asked for. */
  readonly requestedMode: Mode;
  /** The mode the kernel side is actually using now (emergency on a stale heartbeat). */
  readonly effectiveMode: Mode;
  readonly fallback: Fallback;
  /** Model version deployed kernel-side (0 = none). */
  readonly modelVersion: number;
  /** Age of the last heartbeat as the kernel side sees it, ns. */
  readonly heartbeatAgeNs: bigint;
  readonly control: Control;
}

/** One portion of a dataset, with its rows already decoded to numbers. */
export interface DatasetPortion {
  readonly dataset: DatasetDescriptor & { readonly columns: readonly string[] };
  readonly portion: Portion;
  readonly rows: ReadonlyArray<{ readonly seq: number; readonly features: readonly number[]; readonly label?: number }>;
}

export interface DatasetRequest {
  readonly type?: DatasetType;
  readonly portion?: Portion;
}

/** Something the subsystem saw happen (not a decision of the agent's), for the event log. */
export interface AdapterEvent {
  /** Event kind in the log (e.g. "workload"); the agent's own kinds (agent, mode, model) are refused. */
  readonly kind: string;
  readonly message: string;
  readonly data?: Readonly<Record<string, unknown>>;
}

export interface SubsystemAdapter {
  /** Adapter kind ("mock", "netguard", "lfs-gc"). */
  readonly kind: string;
  /** Proxy instance name (unique per agent). */
  readonly proxy: string;
  readonly recommendationSchema: RecommendationSchema;
  /** The feature columns of the datasets it publishes. */
  readonly columns: readonly string[];

  init(options: Readonly<Record<string, unknown>>): Promise<void>;
  reinit(options: Readonly<Record<string, unknown>>): Promise<void>;
  /** start then run: decisions flow through the proxy afterwards. */
  start(): Promise<void>;
  stop(): Promise<void>;
  /** Release every kernel object; the adapter is unusable afterwards. */
  shutdown(): Promise<void>;

  systemState(): Promise<SystemState>;
  setMode(mode: Mode): Promise<void>;
  /** Write the agent's CLOCK_MONOTONIC ns as the heartbeat. */
  heartbeat(nowNs: bigint): Promise<void>;
  /** Deploy a compiled model artefact; a failed load leaves the previous model in place. */
  deployModel(version: number, artefact: Uint8Array): Promise<void>;

  getDataset(request?: DatasetRequest): Promise<DatasetPortion>;
  pollDatasets(): Promise<DatasetPortion[]>;
  preprocessData(p: DatasetPortion): DatasetPortion;
  preprocessRecommendation(rec: Recommendation): Uint8Array;
  applyRecommendation(rec: Recommendation): Promise<void>;
  /** Cumulative counters since the kernel side was created. */
  estimateEfficiency(): Promise<EfficiencyCounters>;
  /**
   * Optional: cumulative paired metric outcomes per mode (`proxy/paired.ts`), for a subsystem
   * whose efficiency is a metric over many decisions rather than a per-decision success rate
   * (lfs-gc: write amplification per epoch). When present, the runner's mode controller weighs
   * these instead of the good rates.
   */
  estimatePaired?(): Promise<PairedCounters>;
  /**
   * Optional: events since the last call (drained), oldest first. The runner logs them after
   * each dataset poll (the subsystem's own activity happens there), before it evaluates.
   */
  drainEvents?(): AdapterEvent[];
  /** Feedback records produced since the last call (drained). */
  backPropagate(): Promise<FeedbackRecord[]>;
  /** Re-assert the agent's view (mode, model, heartbeat settings) after a restart or a reload. */
  correctSystemState(): Promise<void>;
}

/** What the agent gives a factory besides the proxy's options. */
export interface AdapterContext {
  /** The agent's CLOCK_MONOTONIC (ns), simulated in tests: a simulated kernel side must share it. */
  readonly nowNs?: () => bigint;
}

/** Builds an adapter for a proxy from its configuration. */
export type AdapterFactory = (proxy: string, options: Readonly<Record<string, unknown>>, ctx?: AdapterContext) => SubsystemAdapter | Promise<SubsystemAdapter>;
