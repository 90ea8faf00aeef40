/**
 * @module subsystems/lfs-gc/proxy/kernel
 * The simulated GC subsystem with its ml-lib proxy: the device (`LogStore`) run by the
 * kernel-side policy, the 64-byte control record every proxy shares (mode, model version,
 * heartbeat), the datasets, feedback, and the efficiency counters.
 *
 * Efficiency for GC is write amplification, not per-decision success: a victim that copies
 * more now can save copies later. So the kernel measures it in epochs of host writes by
 * counterfactual shadow evaluation. A shadow copy of the device is driven by the source that is
 * not deciding (the model in learning mode, the default in collaboration and recommendation)
 * and sees the very same host writes as the real device. Each epoch gives a paired outcome,
 * the model's WA over the epoch against the default's, added to the paired counters
 * (`proxy/paired.ts`) that the mode controller weighs. The model on the shadow is the deployed
 * table choosing alone: the agent's recommended victims reach only the real device.
 *
 * The shadow is persistent: it is forked from the real device once, when the first epoch with a
 * model opens, and runs on until the shadow's role changes (learning <-> collaboration or
 * recommendation; collaboration <-> recommendation keeps it), emergency, or `driveDecisions`.
 * An earlier estimator forked a fresh copy at every epoch's start, and measurement showed it
 * biased: the copy starts on the layout the other source made and its end state is never
 * charged, so the default on the model's layout read almost as good as the model for an epoch.
 * At 16384 blocks, 32 per segment, spare 0.1 (seeds 1-3, 12 epochs each), against the long-run
 * WA ratio of pinned runs: uniform 3.2-3.6% true, per-epoch gains read 4.2-4.4% in learning but
 * -0.4 to 0.6% in collaboration and recommendation; hot/cold 90/10 62% true, read 56%
 * (learning) and 47% (recommendation). A persistent shadow keeps each side on its own layout,
 * so there is no carry-over and no end-of-epoch effect to correct: the same runs read within
 * 0.5 points of the truth on uniform in every mode, within 1 point on hot/cold and Zipf 1.0
 * (`test/lfs-gc/proxy-paired-bias.test.ts` checks it). Replaying each epoch's writes on both
 * end states under the default (to charge the state each side left) was tried and rejected: it
 * credits a layout's whole future value to the one epoch that built it (hot/cold read 80-98%).
 * The fork itself still starts on the other source's layout; that transient counts against the
 * model (the shadow model's first learning epochs, the real device's first epochs after a
 * promotion, the default's carried-over layout after a demotion), so it can delay a promotion
 * or hasten a demotion, never cause a promotion. A copy the default drives first fills the open
 * segments of the model's extra logs, which the default never writes and would otherwise
 * strand, as the real device does after a demotion (`ProxiedGc` drains them whenever the
 * default takes placement back, and its copy carries the draining on). An epoch costs one
 * extra device's worth of writes, as before.
 *
 * On a real file system the shadow would be the agent replaying the published write stream on
 * a model of the device; here the simulator is the device, and fast enough.
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
  readonly gc0: number;
  readonly twinGc0: number;
  written: number;
}

/** The persistent shadow device, driven by the source not deciding. */
interface Shadow {
  readonly role: Source;
  readonly store: LogStore;
  /** The ProxiedGc on the copy (the model's table is updated there). */
  readonly policy: ProxiedGc;
}

/** Who drives the shadow device in `mode`: the source not deciding. */
function shadowRole(mode: Mode): Source | undefined {
  return mode === Mode.emergency ? undefined : mode === Mode.learning ? "model" : "default";
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
  #shadow: Shadow | undefined;
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
    if (this.#shadow && this.#shadow.role !== shadowRole(mode)) this.#shadow = undefined;
    if (this.#epoch) {
      this.#epoch = undefined;
      this.droppedEpochs++;
    }
  }

  /** Deploys a lifetime table (already validated) as model `version`. */
  deployTable(version: number, table: LifeTable): void {
    this.policy.table = table;
    if (this.#shadow) this.#shadow.policy.table = table;
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
    this.#shadow = undefined;
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
    if (this.policy.table && !this.#shadow) {
      // Learning: the model in charge on the copy. Otherwise: the default alone on the copy.
      const role = shadowRole(mode)!;
      const policy = this.policy.cloneFor(role === "model" ? Mode.recommendation : Mode.emergency);
      const store = this.store.clone(policy);
      this.#shadow = { role, policy, store };
    }
    const twin = this.#shadow?.store;
    return { mode, twin, gc0: this.store.gcWrites, twinGc0: twin?.gcWrites ?? 0, written: 0 };
  }

  #closeEpoch(): void {
    const e = this.#epoch!;
    this.#epoch = undefined;
    const shadow = this.#shadow;
    if (!e.twin || !shadow) return;
    const wa = (gc: number) => (e.written + gc) / e.written;
    const real = wa(this.store.gcWrites - e.gc0);
    const twin = wa(e.twin.gcWrites - e.twinGc0);
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

  /** The shadow device, if one runs: who drives it, and the copy (inspection and tests). */
  get shadow(): { readonly role: Source; readonly store: LogStore } | undefined {
    return this.#shadow && { role: this.#shadow.role, store: this.#shadow.store };
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
