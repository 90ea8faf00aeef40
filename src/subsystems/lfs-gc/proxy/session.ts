/**
 * @module subsystems/lfs-gc/proxy/session
 * The simulation's agent loop for the GC proxy: a host workload writes to the simulated
 * device while the agent, through the lfs-gc adapter, does what the RFC's model thread does:
 * heartbeats, extracts the per-block history and learns the lifetime table from it, deploys
 * the quantized table as a new model version, recommends victims from the segment-state
 * dataset, drains feedback, and runs the mode controller on the paired WA outcomes the kernel
 * side measures per epoch, writing each move to the control record. The learning and the
 * victim choice are `learner.ts`, the same code `kmlib agent` runs for an lfs-gc proxy.
 *
 * Time is simulated: every tick of `tickWrites` host writes is `tickMs` of clock, so the
 * heartbeat, its timeout and the controller's clock are all deterministic.
 */
import { type ControllerThresholds, ModeController, type Transition } from "../../../proxy/controller.ts";
import { Mode } from "../../../proxy/mode.ts";
import type { Workload } from "../workload.ts";
import { LfsGcAdapter, type LfsGcOptions } from "./adapter.ts";
import type { EpochOutcome } from "./kernel.ts";
import type { ProxiedGcStats } from "./kernel-policy.ts";
import { GcLearner } from "./learner.ts";

export { recommendVictims } from "./learner.ts";

/**
 * Thresholds for GC on paired WA evidence: promote when the model cuts WA by more than 10%
 * at 95% one-sided confidence over at least 5 epochs, twice in a row; demote when the cut is
 * confidently under 5%; emergency when the model confidently adds more than half the WA.
 */
export const GC_THRESHOLDS: Partial<ControllerThresholds> = Object.freeze({
  confidence: 0.95,
  promoteMargin: 0.1,
  demoteMargin: 0.05,
  minDecisions: 5,
  promoteStreak: 2,
  collapseMargin: 0.5,
  collapseCooldownMs: 60_000,
});

/** One stretch of the host's writes. */
export interface Phase {
  readonly workload: Workload;
  readonly writes: number;
}

export interface GcSessionOptions {
  readonly phases: readonly Phase[];
  readonly adapter?: Partial<LfsGcOptions>;
  /** Host writes per agent tick; default logical blocks / 16. */
  readonly tickWrites?: number;
  /** Simulated milliseconds per tick (heartbeat clock); default 10. */
  readonly tickMs?: number;
  /** Deploy a freshly trained table every this many ticks; default 1. */
  readonly deployEvery?: number;
  /** Recommend victims every tick (else the deployed table chooses alone); default true. */
  readonly recommendVictims?: boolean;
  readonly thresholds?: Partial<ControllerThresholds>;
  readonly initialMode?: Mode;
  /** Keep this mode whatever the evidence (controller off). */
  readonly pinMode?: Mode;
  /** Deploy the unquantised table (a comparison of the quantisation only). */
  readonly floatTable?: boolean;
  /** Stop heartbeats from this tick on (the kernel side must fall back on its own). */
  readonly heartbeatStopsAtTick?: number;
  readonly onTick?: (tick: number, adapter: LfsGcAdapter) => void;
}

export interface PhaseResult {
  readonly workload: string;
  readonly hostWrites: number;
  readonly gcWrites: number;
  readonly writeAmplification: number;
  /** Mode at the phase's end. */
  readonly mode: Mode;
}

export interface GcSessionResult {
  readonly finalMode: Mode;
  readonly transitions: readonly Transition[];
  readonly epochs: readonly EpochOutcome[];
  readonly phases: readonly PhaseResult[];
  /** Mode after every tick, with the store clock. */
  readonly timeline: ReadonlyArray<{ readonly at: number; readonly mode: Mode }>;
  readonly modelVersions: number;
  readonly recommendations: number;
  readonly feedback: number;
  readonly droppedEpochs: number;
  readonly stats: ProxiedGcStats;
  readonly decided: Readonly<Record<Mode, { default: number; model: number }>>;
  readonly logicalBlocks: number;
  readonly segments: number;
}

export async function runGcSession(o: GcSessionOptions): Promise<GcSessionResult> {
  const tickMs = o.tickMs ?? 10;
  let clockMs = 1000;
  const nowNs = () => BigInt(clockMs) * 1_000_000n;
  const adapter = new LfsGcAdapter("lfs-gc-sim", { nowNs });
  await adapter.init({ ...o.adapter });
  await adapter.start();
  const kernel = adapter.kernel;
  const u = adapter.options.logicalBlocks;
  const tickWrites = o.tickWrites ?? Math.max(1, u >> 4);
  const deployEvery = o.deployEvery ?? 1;
  const learner = new GcLearner(u);
  const controller = new ModeController({
    evidence: "paired",
    initial: o.pinMode ?? o.initialMode ?? Mode.learning,
    thresholds: { ...GC_THRESHOLDS, ...o.thresholds },
    now: () => clockMs,
    baseline: await adapter.estimateEfficiency(),
    baselinePaired: await adapter.estimatePaired(),
  });
  await adapter.setMode(controller.mode);
  await adapter.heartbeat(nowNs());
  let version = 0;
  let recommendations = 0;
  let feedback = 0;
  let pairedSeen = 0;
  let tick = 0;
  const timeline: Array<{ at: number; mode: Mode }> = [];
  const phases: PhaseResult[] = [];
  const buf = new Int32Array(tickWrites);
  for (const phase of o.phases) {
    const host0 = kernel.store.hostWrites, gc0 = kernel.store.gcWrites;
    for (let left = phase.writes; left > 0; tick++) {
      const n = Math.min(left, tickWrites);
      phase.workload.next(buf, n);
      kernel.write(buf, n);
      left -= n;
      clockMs += tickMs;
      if (o.heartbeatStopsAtTick === undefined || tick < o.heartbeatStopsAtTick) await adapter.heartbeat(nowNs());
      learner.ingest(adapter.readHistory());
      if (tick % deployEvery === 0) {
        const now = kernel.store.now;
        version++;
        if (o.floatTable) kernel.deployTable(version, learner.trainer.lifetimes(now));
        else await adapter.deployModel(version, learner.artefact(now));
      }
      if (o.recommendVictims !== false && controller.mode !== Mode.emergency) {
        await learner.recommend(adapter, version);
        recommendations++;
      }
      feedback += (await adapter.backPropagate()).length;
      const state = await adapter.systemState();
      if (state.effectiveMode === Mode.emergency && state.fallback !== "none" && controller.mode !== Mode.emergency) {
        // The kernel side fell back on its own: the agent learns it when it looks (a real one
        // would have been dead; here the simulation stopped its heartbeats).
        controller.heartbeatLost(`kernel side in emergency: ${state.fallback}`);
      }
      const paired = await adapter.estimatePaired();
      const n2 = Object.values(paired).reduce((a, c) => a + c.n, 0);
      if (n2 !== pairedSeen && o.pinMode === undefined) {
        pairedSeen = n2;
        const t = controller.evaluate(await adapter.estimateEfficiency(), paired);
        if (t) await adapter.setMode(t.to);
      }
      timeline.push({ at: kernel.store.now, mode: controller.mode });
      o.onTick?.(tick, adapter);
    }
    const host = kernel.store.hostWrites - host0, gc = kernel.store.gcWrites - gc0;
    phases.push({ workload: phase.workload.name, hostWrites: host, gcWrites: gc, writeAmplification: (host + gc) / host, mode: controller.mode });
  }
  const counters = await adapter.estimateEfficiency();
  const decided = Object.fromEntries(Object.entries(counters).map(([m, c]) => [m, { default: c.default.decided, model: c.model.decided }])) as unknown as GcSessionResult["decided"];
  const result: GcSessionResult = {
    finalMode: controller.mode,
    transitions: controller.history,
    epochs: kernel.epochs,
    phases,
    timeline,
    modelVersions: version,
    recommendations,
    feedback,
    droppedEpochs: kernel.droppedEpochs,
    stats: { ...kernel.policy.stats },
    decided,
    logicalBlocks: u,
    segments: kernel.segments,
  };
  await adapter.stop();
  await adapter.shutdown();
  return result;
}
