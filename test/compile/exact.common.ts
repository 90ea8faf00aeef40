/**
 * The shared exactness suite (hono's router/common.case.test style): every case runs for
 * every model kind x strategy/layout variant given to `runExactSuite`. For each, the
 * integer evaluator (the reference), the program in the kernel (BPF_PROG_TEST_RUN, one row
 * per run) and the C export built with gcc must give identical classes and scores on at
 * least 10,000 rows: real CIC-IDS2017 rows (quantized) and random rows (full int32 range,
 * values at and around the model's own thresholds, small integers).
 */
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { requires } from "../helpers/kernel.ts";
import { compileModel, type CompileOptions } from "../../src/compile/compile.ts";
import { loadModel } from "../../src/compile/load.ts";
import { HostPredictor } from "../../src/compile/toolchain.ts";
import { CICFLOWMETER_COUNTER_COLUMNS, CICIDS2017_SAMPLE_DIR, loadCicFlowMeter } from "../../src/ml/dataset/cicflowmeter.ts";
import type { Dataset } from "../../src/ml/dataset/dataset.ts";
import { evaluateIrScores, irDecide } from "../../src/ml/ir/evaluate.ts";
import { lowerModel } from "../../src/ml/ir/lower.ts";
import { quantizeDataset } from "../../src/ml/ir/quantize.ts";
import { INT32_MAX, INT32_MIN, irScoreCount, irTrees, type IrModel } from "../../src/ml/ir/types.ts";
import type { ModelKind } from "../../src/ml/model/types.ts";
import { trainModel, type TrainOptions } from "../../src/ml/train/train.ts";
import { Rng } from "../../src/ml/rng.ts";

export const ROWS = 10_000;

const FAST: Record<ModelKind, TrainOptions> = {
  tree: { maxDepth: 10 },
  forest: { nTrees: 12, maxDepth: 7 },
  boosted: { nRounds: 10, maxDepth: 4 },
  linear: { epochs: 4 },
  mlp: { epochs: 4, hidden: [16] },
};

export interface Variant {
  name: string;
  options: CompileOptions;
}

let data: { multi: Dataset; binary: Dataset } | undefined;
async function datasets() {
  if (!data) {
    const columns = [...CICFLOWMETER_COUNTER_COLUMNS];
    data = {
      multi: await loadCicFlowMeter(CICIDS2017_SAMPLE_DIR, { maxRowsPerFile: 320, columns }),
      binary: await loadCicFlowMeter(CICIDS2017_SAMPLE_DIR, { maxRowsPerFile: 320, columns, labels: "binary" }),
    };
  }
  return data;
}

/** A model of `kind` trained on the real sample, and ROWS test rows (real first, then random). */
export async function fixture(kind: ModelKind, labels: "multi" | "binary", seed = 1): Promise<{ ir: IrModel; rows: Int32Array }> {
  const ds = (await datasets())[labels];
  const ir = lowerModel(trainModel(kind, ds, { ...FAST[kind], seed }), { data: ds });
  const F = ir.nFeatures;
  const real = quantizeDataset(ds, ir.quant);
  const rows = new Int32Array(ROWS * F);
  const nReal = Math.min(real.length / F, ROWS / 2);
  rows.set(real.subarray(0, nReal * F));
  const rng = new Rng(seed * 7919 + 13);
  const thresholds = irTrees(ir).flatMap((t) => t.threshold);
  const pick = () => {
    switch (rng.int(4)) {
      case 0:
        return (rng.nextU32() | 0);
      case 1:
        return [INT32_MIN, INT32_MAX, 0, -1, 1][rng.int(5)]!;
      case 2:
        if (thresholds.length > 0) {
          const t = thresholds[rng.int(thresholds.length)]! + rng.int(3) - 1;
          return Math.max(INT32_MIN, Math.min(INT32_MAX, t));
        }
        return rng.int(2001) - 1000;
      default:
        return real[rng.int(real.length)]! + rng.int(21) - 10;
    }
  };
  for (let i = nReal * F; i < rows.length; i++) rows[i] = Math.max(INT32_MIN, Math.min(INT32_MAX, pick()));
  return { ir, rows };
}

/** Reference classes and scores. */
export function reference(ir: IrModel, rows: Int32Array): { classes: Int32Array; scores: Int32Array } {
  const F = ir.nFeatures;
  const S = irScoreCount(ir);
  const n = rows.length / F;
  const classes = new Int32Array(n);
  const scores = new Int32Array(n * S);
  for (let r = 0; r < n; r++) {
    const s = evaluateIrScores(ir, rows.subarray(r * F, r * F + F));
    classes[r] = irDecide(s);
    scores.set(s, r * S);
  }
  return { classes, scores };
}

function firstDiff(a: Int32Array, b: Int32Array): number {
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return i;
  return a.length === b.length ? -1 : a.length;
}

export function runExactSuite(kinds: readonly ModelKind[], variants: (kind: ModelKind) => Variant[]): void {
  for (const kind of kinds) {
    describe(kind, () => {
      for (const v of variants(kind)) {
        for (const labels of ["binary", "multi"] as const) {
          test(`${v.name}, ${labels}: evaluator = kernel test-run = gcc C export on ${ROWS} rows`, async (t) => {
            if (!requires(t, "bpf", "gcc")) return;
            const { ir, rows } = await fixture(kind, labels);
            const F = ir.nFeatures;
            const S = irScoreCount(ir);
            const ref = reference(ir, rows);
            const compiled = compileModel(ir, v.options);
            using lm = loadModel(compiled);
            const kc = new Int32Array(ROWS);
            const ks = new Int32Array(ROWS * S);
            for (let r = 0; r < ROWS; r++) {
              const out = lm.predict(rows.subarray(r * F, r * F + F));
              assert.equal(out.retval, out.class, `row ${r}: verdict and record disagree`);
              kc[r] = out.class;
              ks.set(out.scores, r * S);
            }
            using host = new HostPredictor(ir);
            const c = host.predictRows(rows);
            for (const [what, got, want] of [
              ["kernel classes", kc, ref.classes], ["kernel scores", ks, ref.scores],
              ["C classes", c.classes, ref.classes], ["C scores", c.scores, ref.scores],
            ] as const) {
              const d = firstDiff(got, want);
              assert.equal(d, -1, `${what} differ at ${d} (row ${Math.floor(d / (what.endsWith("scores") ? S : 1))}): got ${got[d]}, want ${want[d]}`);
            }
            // Both halves of the rows decide more than one class (the rows exercise the model).
            assert.ok(new Set(ref.classes).size > 1, "every row got the same class");
          });
        }
      }
    });
  }
}
