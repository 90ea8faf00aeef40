/**
 * @module subsystems/netguard/e2e/train
 * From kernel flow records to a model for the slot: collect labelled rows (features from the
 * feature contract only, labels from the sender's namespace), train a small random forest on
 * the integer inputs the kernel will compute, lower it to the integer form (identity
 * quantization: the inputs already are integers) and check it. Long flows are thinned (every
 * early packet, then powers of two and every 64th) so a bulk transfer does not drown a flood
 * of one-packet flows.
 */
import { classCounts, makeDataset, type Dataset } from "../../../ml/dataset/dataset.ts";
import { stratifiedSplit } from "../../../ml/dataset/split.ts";
import { lowerModel } from "../../../ml/ir/lower.ts";
import { evaluateIrRows } from "../../../ml/ir/evaluate.ts";
import { quantizeDataset, identityQuant } from "../../../ml/ir/quantize.ts";
import { trainForest } from "../../../ml/train/forest.ts";
import { Rng } from "../../../ml/rng.ts";
import { FEATURE_NAMES, type FeatureName } from "../features.ts";
import type { NetguardRecord } from "../record.ts";
import { flowId, type RecordLabels } from "./flows.ts";
import { inputsFor, inputsOf, type ModelInput, type NetguardModel } from "./model-program.ts";

export interface TrainingRow {
  readonly features: readonly bigint[];
  readonly label: 0 | 1;
  readonly host: string;
  /** The record it came from (to resolve the generator once the run windows are known). */
  readonly record: NetguardRecord;
}

/** Keeps a thinned, labelled sample of records, at most `cap` rows. */
export class TrainingCollector {
  readonly rows: TrainingRow[] = [];
  readonly #seen = new Map<string, number>();
  dropped = 0;
  /** Labelled records offered. */
  records = 0;

  constructor(
    readonly labels: RecordLabels,
    readonly cap = 60_000,
  ) {}

  static keep(i: number): boolean {
    return i < 8 || (i & (i - 1)) === 0 || i % 64 === 0;
  }

  add(recs: readonly NetguardRecord[]): void {
    for (const r of recs) {
      const label = this.labels.label(r);
      if (label === undefined) continue;
      this.records++;
      const id = flowId(r);
      const i = this.#seen.get(id) ?? 0;
      this.#seen.set(id, i + 1);
      if (!TrainingCollector.keep(i)) continue;
      if (this.rows.length >= this.cap) {
        this.dropped++;
        continue;
      }
      this.rows.push({ features: r.features, label, host: this.labels.host(r)!, record: r });
    }
  }

  get flows(): number {
    return this.#seen.size;
  }
}

/**
 * Even out the traffic generators: a flood makes thousands of rows, a scan a few hundred, so
 * each generator's rows are subsampled to at most `cap` and repeated up to `floor` (at most
 * 20 copies each). Benign generators weigh `benignWeight` times more (caps and floors scaled):
 * a flow's opening packets often look the same whoever sends them (a slowloris SYN is a curl
 * SYN), and a filter should pass what it cannot tell apart. One row in `validationEvery` of
 * each generator is kept apart first, so the validation rows never appear in training.
 * Deterministic for a seed.
 */
export function balanceByKind(
  rows: readonly TrainingRow[],
  kindOf: (r: TrainingRow) => string,
  o: { cap?: number; floor?: number; seed?: number; validationEvery?: number; benignWeight?: number } = {},
): { rows: TrainingRow[]; validation: TrainingRow[]; kinds: Record<string, number> } {
  const every = o.validationEvery ?? 5;
  const groups = new Map<string, TrainingRow[]>();
  for (const r of rows) {
    const k = `${r.label}:${kindOf(r)}`;
    const g = groups.get(k) ?? [];
    g.push(r);
    groups.set(k, g);
  }
  const rng = new Rng(o.seed ?? 1);
  const out: TrainingRow[] = [];
  const validation: TrainingRow[] = [];
  const kinds: Record<string, number> = {};
  for (const [k, all] of [...groups].sort(([a], [b]) => a.localeCompare(b))) {
    kinds[k] = all.length;
    const w = all[0]!.label === 0 ? (o.benignWeight ?? 3) : 1;
    const cap = (o.cap ?? 6000) * w, floor = (o.floor ?? 1500) * w;
    // every `every`-th row (in arrival order) is kept apart, before any repetition
    const g: TrainingRow[] = [];
    all.forEach((r, i) => (every > 0 && i % every === every - 1 ? validation : g).push(r));
    if (g.length === 0) continue;
    if (g.length > cap) out.push(...rng.shuffle([...g]).slice(0, cap));
    else for (let i = 0; i < Math.min(floor, 20 * g.length); i++) out.push(g[i % g.length]!);
  }
  return { rows: out, validation, kinds };
}

export const CLASS_NAMES = ["benign", "attack"] as const;

/** The integer inputs of `inputs` for every row, as a dataset of exact integers. */
export function rowsDataset(rows: readonly TrainingRow[], inputs: readonly ModelInput[]): Dataset {
  const n = inputs.length;
  const x = new Float64Array(rows.length * n);
  const y = new Int32Array(rows.length);
  rows.forEach((r, i) => {
    x.set(inputsOf(inputs, r.features), i * n);
    y[i] = r.label;
  });
  return makeDataset({ x, y, featureNames: inputs.map((i) => i.feature), classNames: CLASS_NAMES });
}

export interface TrainOptions {
  readonly features?: readonly FeatureName[];
  readonly nTrees?: number;
  readonly maxDepth?: number;
  readonly seed?: number;
  /** Fraction held out to check the fit (stratified); ignored when `validationRows` is given. */
  readonly validation?: number;
  /** Rows kept apart to check the fit. */
  readonly validationRows?: readonly TrainingRow[];
}

export interface TrainSummary {
  readonly rows: number;
  readonly benign: number;
  readonly attack: number;
  readonly features: readonly string[];
  readonly kind: string;
  readonly trees: number;
  readonly maxDepth: number;
  readonly trainMs: number;
  /** Accuracy of the integer model on rows kept apart from training (same runs). */
  readonly validationAccuracy: number;
}

/** Train, lower and validate a forest on `ds` (integer features, identity quantization). */
export function trainIntegerForest(ds: Dataset, inputs: readonly ModelInput[], origin: string, o: TrainOptions & { test?: Dataset } = {}): { model: NetguardModel; summary: TrainSummary } {
  const t0 = Date.now();
  const nTrees = o.nTrees ?? 12;
  const maxDepth = o.maxDepth ?? 8;
  const frac = o.validation ?? 0.2;
  const { train, test } = o.test ? { train: ds, test: o.test } : frac > 0 ? stratifiedSplit(ds, { testFraction: frac, seed: o.seed ?? 1 }) : { train: ds, test: ds };
  const fm = trainForest(train, { nTrees, maxDepth, seed: o.seed ?? 1, minSamplesLeaf: 2 });
  const ir = lowerModel(fm, { quant: "identity" });
  const pred = evaluateIrRows(ir, quantizeDataset(test, identityQuant(test.nFeatures)));
  let ok = 0;
  for (let i = 0; i < test.nRows; i++) if (pred[i] === test.y[i]) ok++;
  const [benign, attack] = classCounts(ds);
  return {
    model: { inputs, ir, origin },
    summary: {
      rows: ds.nRows,
      benign: benign ?? 0,
      attack: attack ?? 0,
      features: inputs.map((i) => i.feature),
      kind: "forest",
      trees: nTrees,
      maxDepth,
      trainMs: Date.now() - t0,
      validationAccuracy: test.nRows ? ok / test.nRows : 0,
    },
  };
}

/** The lab model: every contract feature (none is an address), trained on collected rows. */
export function trainLabModel(rows: readonly TrainingRow[], o: TrainOptions = {}): { model: NetguardModel; summary: TrainSummary } {
  const inputs = inputsFor(o.features ?? FEATURE_NAMES);
  const test = o.validationRows ? rowsDataset(o.validationRows, inputs) : undefined;
  return trainIntegerForest(rowsDataset(rows, inputs), inputs, "lab", { ...o, ...(test ? { test } : {}) });
}
