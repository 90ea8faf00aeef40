/**
 * @module bench/suites/training
 * Training time and held-out accuracy of kmlib's trainers beside scikit-learn's on the same
 * split of the CIC-IDS2017 sample (seed 1, 25% held out). kmlib writes the split to a temp
 * directory as CSV; bench/sklearn-train.py reads it and trains the scikit-learn counterpart
 * (single-threaded, like kmlib). Times are medians of REPS fits; ratio = kmlib / sklearn.
 */
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { CICIDS2017_SAMPLE_DIR, loadCicFlowMeter } from "../../src/ml/dataset/cicflowmeter.ts";
import type { Dataset } from "../../src/ml/dataset/dataset.ts";
import { stratifiedSplit } from "../../src/ml/dataset/split.ts";
import { writeCsv } from "../../src/ml/dataset/csv.ts";
import { accuracy } from "../../src/ml/eval/metrics.ts";
import { predictDataset } from "../../src/ml/model/predict.ts";
import type { ModelKind } from "../../src/ml/model/types.ts";
import { trainModel, type TrainOptions } from "../../src/ml/train/train.ts";
import { entry, median, progress, type BenchEntry } from "../types.ts";

const REPS = Number(process.env.KMLIB_BENCH_REPS ?? 3);

interface Config {
  name: string;
  kind: ModelKind;
  data: "binary" | "multiclass";
  params: TrainOptions;
  /** The scikit-learn estimator it is compared with. */
  anchor: string;
}

const CONFIGS: Config[] = [
  { name: "tree/multiclass", kind: "tree", data: "multiclass", params: {}, anchor: "sklearn DecisionTreeClassifier" },
  { name: "forest-32x8/multiclass", kind: "forest", data: "multiclass", params: { nTrees: 32, maxDepth: 8 }, anchor: "sklearn RandomForestClassifier" },
  { name: "boosted-100x6/binary", kind: "boosted", data: "binary", params: { nRounds: 100, maxDepth: 6 }, anchor: "sklearn HistGradientBoostingClassifier" },
  { name: "boosted-15x6/multiclass", kind: "boosted", data: "multiclass", params: { nRounds: 15, maxDepth: 6 }, anchor: "sklearn HistGradientBoostingClassifier" },
  { name: "linear/binary", kind: "linear", data: "binary", params: { epochs: 20 }, anchor: "sklearn LogisticRegression (lbfgs)" },
  { name: "linear/multiclass", kind: "linear", data: "multiclass", params: { epochs: 15 }, anchor: "sklearn LogisticRegression (lbfgs)" },
  { name: "mlp-32/binary", kind: "mlp", data: "binary", params: { hidden: [32], epochs: 15 }, anchor: "sklearn MLPClassifier (adam)" },
];

/** Features then the class index, so numpy reads it as one float matrix. */
function writeNumericCsv(path: string, ds: Dataset): void {
  writeCsv(path, { ...ds, classNames: ds.classNames.map((_, i) => String(i)) }, "y");
}

export default async function run(): Promise<BenchEntry[]> {
  const dir = mkdtempSync(join(tmpdir(), "kmlib-bench-training-"));
  try {
    const splits: Record<string, { train: Dataset; test: Dataset }> = {};
    for (const labels of ["binary", "multiclass"] as const) {
      const ds = await loadCicFlowMeter(CICIDS2017_SAMPLE_DIR, { labels });
      const s = stratifiedSplit(ds, { seed: 1 });
      splits[labels] = s;
      writeNumericCsv(join(dir, `${labels}-train.csv`), s.train);
      writeNumericCsv(join(dir, `${labels}-test.csv`), s.test);
    }
    writeFileSync(join(dir, "configs.json"), JSON.stringify(CONFIGS.map(({ name, kind, data, params }) => ({ name, kind, data, params }))));
    progress(`training: scikit-learn anchors (${REPS} fits each)`);
    const script = fileURLToPath(new URL("../sklearn-train.py", import.meta.url));
    // Debian's python3 (where python3-sklearn lives), one thread like kmlib.
    const py = spawnSync("/usr/bin/python3", [script, dir, String(REPS)], { encoding: "utf8", env: { ...process.env, OMP_NUM_THREADS: "1", OPENBLAS_NUM_THREADS: "1" }, maxBuffer: 1 << 24 });
    if (py.status !== 0) throw new Error(`sklearn-train.py failed (is python3-sklearn installed? run npm run bootstrap): ${py.stderr}`);
    const sk = JSON.parse(py.stdout) as Record<string, { ms: number; accuracy: number }>;
    const out: BenchEntry[] = [];
    for (const c of CONFIGS) {
      progress(`training: kmlib ${c.name}`);
      const { train, test } = splits[c.data]!;
      const times: number[] = [];
      let acc = 0;
      for (let r = 0; r < REPS; r++) {
        const t0 = performance.now();
        const m = trainModel(c.kind, train, { ...c.params, seed: 1 });
        times.push(performance.now() - t0);
        if (r === 0) acc = accuracy(test.y, predictDataset(m, test));
      }
      const a = sk[c.name]!;
      const notes = { trainRows: train.nRows, testRows: test.nRows, features: train.nFeatures, classes: train.classNames.length, reps: REPS, params: c.params };
      out.push(entry(`train-time ${c.name}`, median(times), "ms", c.anchor, a.ms, notes));
      out.push(entry(`accuracy ${c.name}`, acc, "fraction", c.anchor, a.accuracy, notes));
    }
    return out;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
