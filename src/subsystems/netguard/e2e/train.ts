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
import { FEATURE_NAMES, type FeatureName } from "../features.ts";
import type { NetguardRecord } from "../record.ts";
import { flowId, type RecordLabels } from "./flows.ts";
import { inputsFor, inputsOf, type ModelInput, type NetguardModel } from "./model-program.ts";

export interface TrainingRow {
  readonly features: readonly bigint[];
  readonly label: 0 | 1;
  readonly host: string;
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
      this.rows.push({ features: r.features, label, host: this.labels.host(r)! });
    }
  }

  get flows(): number {
    return this.#seen.size;
  }
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
  /** Fraction held out to check the fit (stratified); 0 disables. */
  readonly validation?: number;
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
  /** Accuracy of the integer model on the validation split (rows of the same runs). */
  readonly validationAccuracy: number;
}

/** Train, lower and validate a forest on `ds` (integer features, identity quantization). */
export function trainIntegerForest(ds: Dataset, inputs: readonly ModelInput[], origin: string, o: TrainOptions = {}): { model: NetguardModel; summary: TrainSummary } {
  const t0 = Date.now();
  const nTrees = o.nTrees ?? 12;
  const maxDepth = o.maxDepth ?? 8;
  const frac = o.validation ?? 0.2;
  const { train, test } = frac > 0 ? stratifiedSplit(ds, { testFraction: frac, seed: o.seed ?? 1 }) : { train: ds, test: ds };
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
  return trainIntegerForest(rowsDataset(rows, inputs), inputs, "lab", o);
}
