/**
 * @module subsystems/lfs-gc/proxy/kernel
 * The simulated GC subsystem with its ml-lib proxy: the device (`LogStore`) run by the
 * kernel-side policy, the 64-byte control record every proxy shares (mode, model version,
 * heartbeat), the datasets, feedback, and the efficiency counters.
 *
 * Efficiency for GC is write amplification, not per-decision success: a victim that copies
 * more now can save copies later. So the kernel measures it in epochs of host writes by
 * counterfactual shadow evaluation: at an epoch's start the device and its policy are copied,
 * the copy is driven by the source that is not deciding (the model in learning mode, the
 * default in collaboration and recommendation), and both see the very same writes. At the end
 * each epoch gives a paired outcome, the model's WA against the default's from the same
 * starting state, added to the paired counters (`proxy/paired.ts`) that the mode controller
 * weighs. The model on a copy is the deployed table choosing alone: the agent's recommended
 * victims reach only the real device. On a real file system the copy would be the agent replaying the published write
 * stream on a model of the device; here the simulator is the device, and fast enough.
 * An epoch whose mode changes before it ends (heartbeat loss, an operator) is dropped.
 */
import { type Control, decodeControl, effectiveMode, encodeControl } from "../../../proxy/control.ts";
import { CollaborationBudget } from "../../../proxy/decide.ts";
import type { Counter, EfficiencyCounters } from "../../../proxy/efficiency.ts";
import type { FeedbackRecord } from "../../../proxy/feedback.ts";
import { MODES, Mode, SOURCES, type Source } from "../../../proxy/mode.ts";
import { type PairedCounters, addPaired, emptyPaired, relativeGain } from "../../../proxy/paired.ts";
import { LogStore } from "../store.ts";
import type { Workload } from "../workload.ts";
import { HistoryRing, type SegmentRows, segmentSnapshot } from "./datasets.ts";
import { type GcDecision, ProxiedGc } from "./kernel-policy.ts";
import type { GcPolicy } from "../policy.ts";
import type { LifeTable } from "./table.ts";

export interface GcKernelOptions {
  readonly proxy: string;
  readonly logicalBlocks: number;
  readonly blocksPerSegment: number;
  readonly spareFactor: number;
  readonly makeFallback: () => GcPolicy;
  /** Host writes per evaluation epoch; 0 turns shadow evaluation off. */
  readonly epochWrites: number;
  /** CLOCK_MONOTONIC of the kernel side. */
  readonly nowNs: () => bigint;
  readonly heartbeatTimeoutNs: bigint;
  readonly confidenceThreshold: number;
  readonly budgetLimit: number;
  readonly budgetWindow: number;
  readonly historyCapacity?: number;
  /** Feedback records kept until the agent drains them; older ones are dropped. */
  readonly feedbackCapacity?: number;
  readonly recommendationTtl?: number;
}

/** One evaluated epoch. */
export interface EpochOutcome {
  readonly index: number;
  readonly mode: Mode;
  /** Store clock (host writes) at the epoch's end. */
  readonly at: number;
  readonly modelWa: number;
  readonly defaultWa: number;
  /** 1 - modelWa / defaultWa. */
  readonly gain: number;
}

type Evaluated = Record<Mode, Record<Source, { evaluated: number; good: number }>>;

interface OpenEpoch {
  readonly mode: Mode;
  readonly twin: LogStore | undefined;
  readonly host0: number;
  readonly gc0: number;
  written: number;
}

export class GcKernel {
  readonly store: LogStore;
  readonly policy: ProxiedGc;
  readonly history: HistoryRing;
  readonly epochs: EpochOutcome[] = [];
  /** Epochs dropped because the mode changed under them. */
  droppedEpochs = 0;
  feedbackDropped = 0;
  #control: Uint8Array;
  #paired: PairedCounters = emptyPaired();
  #evaluated: Evaluated;
  #epoch: OpenEpoch | undefined;
  #feedback: FeedbackRecord[] = [];
  #seq = 0;
  #twinPolicy: ProxiedGc | undefined;
  #snapshot: SegmentRows | undefined;
  readonly #o: GcKernelOptions;
  readonly #feedbackCap: number;

  constructor(o: GcKernelOptions) {
    this.#o = o;
    this.#feedbackCap = o.feedbackCapacity ?? 100_000;
    this.policy = new ProxiedGc({ logicalBlocks: o.logicalBlocks, makeFallback: o.makeFallback, recommendationTtl: o.recommendationTtl });
    this.policy.confidenceThreshold = o.confidenceThreshold;
    this.policy.budget = new CollaborationBudget(o.budgetLimit, o.budgetWindow);
    this.history = new HistoryRing(o.historyCapacity ?? 4 * o.logicalBlocks);
    this.policy.history = this.history;
    this.policy.onDecision = (d) => this.#onDecision(d);
    this.store = new LogStore({ logicalBlocks: o.logicalBlocks, blocksPerSegment: o.blocksPerSegment, spareFactor: o.spareFactor }, this.policy);
    this.#control = encodeControl({ mode: Mode.emergency, modelVersion: 0, heartbeatNs: 0n, heartbeatTimeoutNs: o.heartbeatTimeoutNs, confidenceThreshold: o.confidenceThreshold, budgetLimit: o.budgetLimit, budgetWindow: o.budgetWindow, generation: 0n });
    this.#evaluated = Object.fromEntries(MODES.map((m) => [m, Object.fromEntries(SOURCES.map((s) => [s, { evaluated: 0, good: 0 }]))])) as Evaluated;
    // The device starts full: every block written once, in order.
    const fill = new Int32Array(o.logicalBlocks);
    for (let i = 0; i < fill.length; i++) fill[i] = i;
    this.store.writeBatch(fill, fill.length);
    this.history.publish();
  }

  get control(): Control {
    return decodeControl(this.#control);
  }
  /** Writes the control record (the agent's side of the map). */
  writeControl(patch: Partial<Control>): void {
    const c = this.control;
    this.#control = encodeControl({ ...c, ...patch, generation: c.generation + 1n });
  }

  /** The mode the kernel uses now: the requested one while the heartbeat is fresh. */
  effective(): ReturnType<typeof effectiveMode> {
    return effectiveMode(this.control, this.#o.nowNs());
  }

  #refreshMode(): void {
    const mode = this.effective().mode;
    if (mode === this.policy.mode) return;
    this.policy.mode = mode;
    if (this.#epoch) {
      this.#epoch = undefined;
      this.#twinPolicy = undefined;
      this.droppedEpochs++;
    }
  }

  /** Deploys a lifetime table (already validated) as model `version`. */
  deployTable(version: number, table: LifeTable): void {
    this.policy.table = table;
    if (this.#twinPolicy) this.#twinPolicy.table = table;
    this.writeControl({ modelVersion: version });
  }

  /** Queues the agent's victims (already bounds-checked) from model `version`. */
  recommend(version: number, victims: readonly number[]): void {
    this.policy.recommend(victims);
    this.writeControl({ modelVersion: version });
  }

  /** Host writes `lbas[0..n)`, through GC as needed, split at epoch boundaries. */
  write(lbas: Int32Array, n = lbas.length): void {
    this.#refreshMode();
    let off = 0;
    while (off < n) {
      this.#epoch ??= this.#openEpoch();
      const k = this.#epoch ? Math.min(n - off, this.#o.epochWrites - this.#epoch.written) : n - off;
      const part = off === 0 && k === n ? lbas : lbas.subarray(off, off + k);
      this.store.writeBatch(part, k);
      if (this.#epoch) {
        this.#epoch.twin?.writeBatch(part, k);
        this.#epoch.written += k;
        if (this.#epoch.written >= this.#o.epochWrites) this.#closeEpoch();
      }
      off += k;
    }
    this.history.publish();
  }

  /** Host writes from `workload`. */
  writeFrom(workload: Workload, n: number): void {
    const buf = new Int32Array(Math.min(n, 1 << 14));
    for (let left = n; left > 0; ) {
      const k = Math.min(left, buf.length);
      workload.next(buf, k);
      this.write(buf, k);
      left -= k;
    }
  }

  /**
   * Exactly `n` GC decisions, each a background GC round, with as many host writes from
   * `workload` between them as fit without a foreground GC. Drops any open epoch.
   */
  driveDecisions(n: number, workload: Workload): void {
    this.#refreshMode();
    this.#epoch = undefined;
    this.#twinPolicy = undefined;
    const b = this.store.blocksPerSegment;
    const buf = new Int32Array(b);
    for (let i = 0; i < n; i++) {
      this.#refreshMode();
      this.store.collect();
      const room = (this.store.freeSegments - this.store.reservedSegments - this.policy.logs) * b;
      const k = Math.max(0, Math.min(b, room));
      workload.next(buf, k);
      this.store.writeBatch(buf, k);
    }
    this.history.publish();
  }

  #openEpoch(): OpenEpoch | undefined {
    const mode = this.policy.mode;
    if (this.#o.epochWrites <= 0 || mode === Mode.emergency) return undefined;
    let twin: LogStore | undefined;
    if (this.policy.table) {
      // Learning: the model in charge on the copy. Otherwise: the default alone on the copy.
      this.#twinPolicy = this.policy.cloneFor(mode === Mode.learning ? Mode.recommendation : Mode.emergency);
      twin = this.store.clone(this.#twinPolicy);
    }
    return { mode, twin, host0: this.store.hostWrites, gc0: this.store.gcWrites, written: 0 };
  }

  #closeEpoch(): void {
    const e = this.#epoch!;
    this.#epoch = undefined;
    this.#twinPolicy = undefined;
    if (!e.twin) return;
    const wa = (host: number, gc: number) => (host - e.host0 + gc - e.gc0) / (host - e.host0);
    const real = wa(this.store.hostWrites, this.store.gcWrites);
    const twin = wa(e.twin.hostWrites, e.twin.gcWrites);
    const [modelWa, defaultWa] = e.mode === Mode.learning ? [twin, real] : [real, twin];
    const gain = relativeGain(modelWa, defaultWa);
    this.#paired = addPaired(this.#paired, e.mode, gain);
    const cell = this.#evaluated[e.mode];
    cell.model.evaluated++;
    cell.default.evaluated++;
    if (modelWa <= defaultWa) cell.model.good++;
    if (defaultWa <= modelWa) cell.default.good++;
    this.epochs.push({ index: this.epochs.length, mode: e.mode, at: this.store.now, modelWa, defaultWa, gain });
  }

  #onDecision(d: GcDecision): void {
    if (d.mode !== Mode.learning && d.mode !== Mode.collaboration) return;
    if (this.#feedback.length >= this.#feedbackCap) {
      this.#feedback.shift();
      this.feedbackDropped++;
    }
    const version = this.control.modelVersion;
    this.#feedback.push({
      proxy: this.#o.proxy,
      seq: this.#seq++,
      mode: d.mode,
      source: d.source,
      defaultDecision: d.defaultVictim,
      ...(d.modelVictim !== undefined ? { modelDecision: d.modelVictim, confidence: d.confidence ?? 0 } : {}),
      ...(version > 0 && d.modelVictim !== undefined ? { modelVersion: version } : {}),
      // Per-decision outcomes are not judged: GC's efficiency is per epoch (see above).
      features: [d.defaultValid, d.modelValid ?? -1, this.store.blocksPerSegment, d.recommended ? 1 : 0],
      time: this.store.now,
    });
  }

  drainFeedback(): FeedbackRecord[] {
    const out = this.#feedback;
    this.#feedback = [];
    return out;
  }

  /** Cumulative counters: decisions per mode and source; evaluated and good per epoch outcome. */
  counters(): EfficiencyCounters {
    const out = {} as Record<Mode, Record<Source, Counter>>;
    for (const m of MODES) {
      out[m] = {} as Record<Source, Counter>;
      for (const s of SOURCES) out[m][s] = { decided: this.policy.decided[m][s], ...this.#evaluated[m][s] };
    }
    return out;
  }

  get paired(): PairedCounters {
    return this.#paired;
  }

  /** A new segment-state snapshot; the previous one becomes obsolete. */
  segmentState(): SegmentRows {
    if (this.#snapshot && this.#snapshot.tracker.state !== "obsolete") this.#snapshot.tracker.obsolete("superseded by a newer snapshot");
    return (this.#snapshot = segmentSnapshot(this.store, this.policy.ledger));
  }

  /** Segment ids are in [0, segments). */
  get segments(): number {
    return this.store.segments;
  }
}
