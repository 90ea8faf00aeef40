/**
 * One shared suite run against every model kind (as hono's router/common.case.test does for
 * routers): each case is a function of the kind, and every kind gets its own describe().
 * Data: a stratified subsample of the CIC-IDS2017 sample, so the file stays fast.
 */
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { isKmlibError } from "../../src/errors.ts";
import { CICFLOWMETER_COUNTER_COLUMNS, CICIDS2017_SAMPLE_DIR, loadCicFlowMeter } from "../../src/ml/dataset/cicflowmeter.ts";
import { selectFeatures, type Dataset } from "../../src/ml/dataset/dataset.ts";
import { stratifiedSplit } from "../../src/ml/dataset/split.ts";
import { accuracy, agreement } from "../../src/ml/eval/metrics.ts";
import { evaluateIr, evaluateIrRows, irDecide } from "../../src/ml/ir/evaluate.ts";
import { lowerModel } from "../../src/ml/ir/lower.ts";
import { quantizeDataset } from "../../src/ml/ir/quantize.ts";
import { parseIr, serializeIr } from "../../src/ml/ir/serialize.ts";
import { INT32_MAX, INT32_MIN } from "../../src/ml/ir/types.ts";
import { predictDataset } from "../../src/ml/model/predict.ts";
import { MODEL_KINDS, type ModelKind } from "../../src/ml/model/types.ts";
import { trainModel, type TrainOptions } from "../../src/ml/train/train.ts";

const FAST: Record<ModelKind, TrainOptions> = {
  tree: { maxDepth: 12 },
  forest: { nTrees: 8, maxDepth: 8 },
  boosted: { nRounds: 8, maxDepth: 4 },
  linear: { epochs: 8 },
  mlp: { epochs: 8, hidden: [16] },
};
/** Kinds whose training draws random numbers (the seed must matter). */
const RANDOMIZED = new Set<ModelKind>(["forest", "linear", "mlp"]);

const multi = await loadCicFlowMeter(CICIDS2017_SAMPLE_DIR, { maxRowsPerFile: 200 });
const binary = await loadCicFlowMeter(CICIDS2017_SAMPLE_DIR, { maxRowsPerFile: 200, labels: "binary" });
const splits = { multi: stratifiedSplit(multi, { seed: 11 }), binary: stratifiedSplit(binary, { seed: 11 }) };

interface Case {
  name: string;
  run(kind: ModelKind): void;
}

function fit(kind: ModelKind, train: Dataset, seed = 1) {
  const model = trainModel(kind, train, { ...FAST[kind], seed });
  return { model, ir: lowerModel(model, { data: train }) };
}

const cases: Case[] = [
  {
    name: "learns: held-out accuracy of the integer form is far above chance (binary and multiclass)",
    run(kind) {
      for (const [which, floor] of [["binary", 0.93], ["multi", 0.75]] as const) {
        const { train, test: held } = splits[which];
        const { ir } = fit(kind, train);
        const acc = accuracy(held.y, evaluateIrRows(ir, quantizeDataset(held, ir.quant)));
        assert.ok(acc >= floor, `${which} accuracy ${acc.toFixed(4)} < ${floor}`);
      }
    },
  },
  {
    name: "deterministic: the same seed gives the same integer form",
    run(kind) {
      const { train } = splits.binary;
      const a = serializeIr(fit(kind, train, 5).ir);
      assert.equal(serializeIr(fit(kind, train, 5).ir), a);
      if (RANDOMIZED.has(kind)) assert.notEqual(serializeIr(fit(kind, train, 6).ir), a, "the seed must matter");
    },
  },
  {
    name: "float model and integer form agree on >= 99.9% of held-out rows",
    run(kind) {
      for (const which of ["binary", "multi"] as const) {
        const { train, test: held } = splits[which];
        const { model, ir } = fit(kind, train);
        const a = agreement(predictDataset(model, held), evaluateIrRows(ir, quantizeDataset(held, ir.quant)));
        assert.ok(a >= 0.999, `${which}: agreement ${a}`);
      }
    },
  },
  {
    name: "integer form: validates, survives its JSON file, int32 scores, class follows the decision rule",
    run(kind) {
      const { train, test: held } = splits.multi;
      const { ir } = fit(kind, train);
      const back = parseIr(serializeIr(ir));
      const xq = quantizeDataset(held, ir.quant);
      for (let r = 0; r < held.nRows; r += 7) {
        const x = xq.subarray(r * ir.nFeatures, (r + 1) * ir.nFeatures);
        const res = evaluateIr(ir, x);
        assert.deepEqual(evaluateIr(back, x), res);
        for (const s of res.scores) assert.ok(Number.isInteger(s) && s >= INT32_MIN && s <= INT32_MAX, `score ${s}`);
        assert.equal(res.class, irDecide(res.scores));
      }
    },
  },
  {
    name: "identity quantization on integer flow counters (features arrive as integers in the kernel)",
    run(kind) {
      const cols = [...CICFLOWMETER_COUNTER_COLUMNS];
      const train = selectFeatures(splits.binary.train, cols);
      const held = selectFeatures(splits.binary.test, cols);
      const model = trainModel(kind, train, { ...FAST[kind], seed: 1 });
      const ir = lowerModel(model, { data: train, quant: "identity" });
      assert.ok(ir.quant.every((q) => q.scale === 1 && q.offset === 0));
      const intPred = evaluateIrRows(ir, quantizeDataset(held, ir.quant));
      const a = agreement(predictDataset(model, held), intPred);
      // Trees on integer features with identity quantization are exact by construction.
      assert.ok(kind === "tree" || kind === "forest" || kind === "boosted" ? a === 1 : a >= 0.995, `agreement ${a}`);
      assert.ok(accuracy(held.y, intPred) >= 0.9);
    },
  },
  {
    name: "feature count mismatch is a clear error",
    run(kind) {
      const { train, test: held } = splits.binary;
      const { model, ir } = fit(kind, train);
      const fewer = selectFeatures(held, held.featureNames.slice(1));
      assert.throws(() => predictDataset(model, fewer), (e) => isKmlibError(e, "KMLIB_INVALID_ARGUMENT") && /feature count mismatch/.test(e.message));
      assert.throws(() => evaluateIr(ir, new Int32Array(ir.nFeatures - 1)), (e) => isKmlibError(e, "KMLIB_INVALID_ARGUMENT") && /feature count mismatch/.test(e.message));
      assert.throws(() => lowerModel(model, { data: fewer }), (e) => isKmlibError(e, "KMLIB_INVALID_MODEL") && /feature count mismatch/.test(e.message));
    },
  },
];

for (const kind of MODEL_KINDS) {
  describe(`model kind: ${kind}`, () => {
    for (const c of cases) test(c.name, () => c.run(kind));
  });
}
