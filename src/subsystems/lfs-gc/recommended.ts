/**
 * @module subsystems/lfs-gc/recommended
 * Victim selection as the ml-lib proxy will drive it: a recommendation source (a model,
 * later one fed through the proxy) proposes victim segments, a default policy stays beside
 * it as guard and reference, and a mode decides who chooses:
 *
 * - emergency: the default only; the source is not even asked.
 * - learning: the default decides; the source's answer is computed in shadow and both are
 *   counted.
 * - collaboration: the source decides when confident and within a budget of decisions; the
 *   default keeps a veto when the recommended victim costs much more to clean than its own.
 * - recommendation: the source decides; the default only rejects recommendations that are
 *   not valid victims and is run on a sample of decisions as the reference.
 *
 * Efficiency is counted per decision source: decisions, blocks copied and blocks freed, and
 * for shadow or reference answers the blocks that choice would have copied. Per-decision copy
 * counts are myopic (a good long-run policy sometimes cleans a fuller, stable segment), so a
 * mode controller should compare sources on write amplification over epochs, which
 * `decisionsBySource` plus the store's counters give.
 */
import { ErrorCode, KmlibError, assertNever } from "../../errors.ts";
import { SegState } from "./policy.ts";
import type { GcPolicy, GcView, VictimPolicy } from "./policy.ts";

export const GcMode = {
  Emergency: "emergency",
  Learning: "learning",
  Collaboration: "collaboration",
  Recommendation: "recommendation",
} as const;
export type GcMode = (typeof GcMode)[keyof typeof GcMode];
export const gcModes: readonly GcMode[] = Object.values(GcMode);

export interface Recommendation {
  segment: number;
  /** In [0, 1]; collaboration mode follows only confident recommendations. */
  confidence: number;
  /** Version of the model that produced it, for feedback. */
  modelVersion?: number;
}

/** Whatever proposes victims: a local model today, the proxy's recommendation queue later. */
export interface RecommendationSource {
  readonly name: string;
  recommend(view: GcView): Recommendation | null;
}

/** Who decided a victim. `guard` = the default, because the recommendation was rejected. */
export const DecisionSource = { Default: "default", Model: "model", Guard: "guard" } as const;
export type DecisionSource = (typeof DecisionSource)[keyof typeof DecisionSource];

export interface SourceStats {
  decisions: number;
  /** Valid blocks in the victims chosen (what GC copied). */
  copied: number;
  /** Invalid blocks in the victims chosen (what GC reclaimed). */
  freed: number;
}

export interface ShadowStats {
  /** Decisions where the other side's answer was also computed. */
  compared: number;
  /** Blocks the model's answer would have copied / the default's answer would have copied. */
  modelCopied: number;
  defaultCopied: number;
}

export interface RecommendedOptions {
  source: RecommendationSource;
  fallback: VictimPolicy;
  mode: GcMode;
  /**
   * The model's data placement (its logs), used in collaboration and recommendation modes;
   * in emergency and learning modes writes go where the fallback puts them.
   */
  placement?: GcPolicy;
  /** Extra policies whose hooks must see every write (e.g. a model learning online). */
  observers?: GcPolicy[];
  /** Collaboration: minimum confidence. */
  confidence?: number;
  /** Collaboration: share of decisions the model may take. */
  budget?: number;
  /** Collaboration veto: the model's victim may copy at most this many times the default's, plus `vetoSlack` blocks. */
  vetoRatio?: number;
  vetoSlack?: number;
  /** Recommendation mode: run the default as reference on one decision in this many. */
  referenceEvery?: number;
}

export interface ModeTransition {
  at: number;
  from: GcMode;
  to: GcMode;
  reason: string;
}

const emptyStats = (): SourceStats => ({ decisions: 0, copied: 0, freed: 0 });

export class RecommendedPolicy implements GcPolicy {
  readonly name: string;
  readonly logs: number;
  readonly hostLog?: GcPolicy["hostLog"];
  readonly gcLog?: GcPolicy["gcLog"];
  readonly onHostWrite?: GcPolicy["onHostWrite"];
  readonly onPlaced?: GcPolicy["onPlaced"];
  readonly transitions: ModeTransition[] = [];
  readonly decisionsBySource: Record<DecisionSource, SourceStats> = { default: emptyStats(), model: emptyStats(), guard: emptyStats() };
  readonly shadow: ShadowStats = { compared: 0, modelCopied: 0, defaultCopied: 0 };
  private modeNow: GcMode;
  private readonly o: Required<Omit<RecommendedOptions, "placement" | "observers">>;
  private readonly hooked: GcPolicy[];
  private decisions = 0;
  private view: GcView | undefined;

  constructor(opts: RecommendedOptions) {
    this.o = { confidence: 0.5, budget: 1, vetoRatio: 1.5, vetoSlack: 2, referenceEvery: 16, ...opts };
    if (!gcModes.includes(opts.mode)) throw new KmlibError(ErrorCode.InvalidArgument, `unknown mode "${String(opts.mode)}"`);
    this.modeNow = opts.mode;
    this.name = `${opts.source.name}/${opts.fallback.name}`;
    const fb = isGcPolicy(opts.fallback) ? opts.fallback : undefined;
    const model = opts.placement;
    this.logs = Math.max(fb?.logs ?? 1, model?.logs ?? 1);
    const modelPlaces = (): boolean => this.modeNow === GcMode.Collaboration || this.modeNow === GcMode.Recommendation;
    if (fb?.hostLog || model?.hostLog) {
      this.hostLog = (lba, view) => {
        const p = modelPlaces() ? model : fb;
        return p?.hostLog ? p.hostLog(lba, view) : 0;
      };
    }
    if (fb?.gcLog || model?.gcLog) {
      this.gcLog = (lba, victim, view) => {
        const p = modelPlaces() ? model : fb;
        return p?.gcLog ? p.gcLog(lba, victim, view) : 0;
      };
    }
    // Every hook sees every write whatever the mode, so a model keeps learning in shadow.
    const hooked = [fb, model, ...(opts.observers ?? [])].filter((p, i, all): p is GcPolicy => p !== undefined && all.indexOf(p) === i);
    this.hooked = hooked;
    const onWrite = hooked.filter((p) => p.onHostWrite);
    if (onWrite.length > 0) {
      this.onHostWrite = (lba, prev, view) => {
        for (const p of onWrite) p.onHostWrite!(lba, prev, view);
      };
    }
    const onPlaced = hooked.filter((p) => p.onPlaced);
    if (onPlaced.length > 0) {
      this.onPlaced = (lba, seg, view) => {
        for (const p of onPlaced) p.onPlaced!(lba, seg, view);
      };
    }
  }

  get mode(): GcMode {
    return this.modeNow;
  }

  /** Moves to another mode; every transition is kept with its reason. */
  setMode(mode: GcMode, reason: string): void {
    if (!gcModes.includes(mode)) throw new KmlibError(ErrorCode.InvalidArgument, `unknown mode "${String(mode)}"`);
    if (mode === this.modeNow) return;
    this.transitions.push({ at: this.view?.now ?? 0, from: this.modeNow, to: mode, reason });
    this.modeNow = mode;
  }

  attach(view: GcView): void {
    this.view = view;
    for (const p of this.hooked) p.attach?.(view);
  }

  selectVictim(view: GcView): number {
    this.decisions++;
    const mode = this.modeNow;
    switch (mode) {
      case GcMode.Emergency:
        return this.take(DecisionSource.Default, this.o.fallback.selectVictim(view), view);
      case GcMode.Learning: {
        const mine = this.o.fallback.selectVictim(view);
        const rec = this.o.source.recommend(view);
        if (rec && isVictim(view, rec.segment)) this.compare(view, rec.segment, mine);
        return this.take(DecisionSource.Default, mine, view);
      }
      case GcMode.Collaboration: {
        const rec = this.o.source.recommend(view);
        const mine = this.o.fallback.selectVictim(view);
        if (!rec || !isVictim(view, rec.segment)) return this.take(rec ? DecisionSource.Guard : DecisionSource.Default, mine, view);
        this.compare(view, rec.segment, mine);
        const modelShare = this.decisionsBySource.model.decisions / this.decisions;
        const vetoed = view.segValid[rec.segment]! > this.o.vetoRatio * view.segValid[mine]! + this.o.vetoSlack;
        if (rec.confidence >= this.o.confidence && modelShare < this.o.budget && !vetoed) return this.take(DecisionSource.Model, rec.segment, view);
        return this.take(vetoed ? DecisionSource.Guard : DecisionSource.Default, mine, view);
      }
      case GcMode.Recommendation: {
        const rec = this.o.source.recommend(view);
        if (!rec || !isVictim(view, rec.segment)) return this.take(DecisionSource.Guard, this.o.fallback.selectVictim(view), view);
        if (this.decisions % this.o.referenceEvery === 0) this.compare(view, rec.segment, this.o.fallback.selectVictim(view));
        return this.take(DecisionSource.Model, rec.segment, view);
      }
      default:
        return assertNever(mode, "mode");
    }
  }

  private take(source: DecisionSource, seg: number, view: GcView): number {
    const s = this.decisionsBySource[source];
    const valid = view.segValid[seg]!;
    s.decisions++;
    s.copied += valid;
    s.freed += view.blocksPerSegment - valid;
    return seg;
  }

  private compare(view: GcView, model: number, fallback: number): void {
    this.shadow.compared++;
    this.shadow.modelCopied += view.segValid[model]!;
    this.shadow.defaultCopied += view.segValid[fallback]!;
  }
}

/** A sealed segment that still holds something to reclaim. */
export function isVictim(view: GcView, seg: number): boolean {
  return Number.isInteger(seg) && seg >= 0 && seg < view.segments && view.segState[seg] === SegState.Sealed && view.segValid[seg]! < view.blocksPerSegment;
}

function isGcPolicy(p: VictimPolicy): p is GcPolicy {
  return typeof (p as Partial<GcPolicy>).logs === "number";
}

/** Turns any victim policy into a recommendation source with a fixed confidence. */
export function policySource(policy: VictimPolicy, confidence = 1, modelVersion?: number): RecommendationSource {
  return {
    name: policy.name,
    recommend(view) {
      const segment = policy.selectVictim(view);
      return modelVersion === undefined ? { segment, confidence } : { segment, confidence, modelVersion };
    },
  };
}
