/**
 * The agreement target of issue 3 on the real data: for every model kind, the float model and
 * its integer form give the same class on at least 99.9% of the held-out rows of the whole
 * CIC-IDS2017 sample (split seed 1, 25% held out: 6282 rows), binary and multiclass.
 * Each figure is printed as a test diagnostic.
 */
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { CICFLOWMETER_COUNTER_COLUMNS, CICIDS2017_SAMPLE_DIR, loadCicFlowMeter } from "../../src/ml/dataset/cicflowmeter.ts";
import { selectFeatures } from "../../src/ml/dataset/dataset.ts";
import { stratifiedSplit } from "../../src/ml/dataset/split.ts";
import { accuracy } from "../../src/ml/eval/metrics.ts";
import { evaluateIrRows } from "../../src/ml/ir/evaluate.ts";
import { lowerModel } from "../../src/ml/ir/lower.ts";
import { quantizeDataset } from "../../src/ml/ir/quantize.ts";
import { predictDataset } from "../../src/ml/model/predict.ts";
import type { ModelKind } from "../../src/ml/model/types.ts";
import { trainModel, type TrainOptions } from "../../src/ml/train/train.ts";

const OPTIONS: Record<"binary" | "multiclass", Record<ModelKind, TrainOptions>> = {
  binary: {
    tree: {},
    forest: { nTrees: 32, maxDepth: 8 },
    boosted: { nRounds: 100, maxDepth: 6 },
    linear: { epochs: 20 },
    mlp: { epochs: 15, hidden: [32] },
  },
  multiclass: {
    tree: {},
    forest: { nTrees: 32, maxDepth: 8 },
    boosted: { nRounds: 15, maxDepth: 6 },
    linear: { epochs: 15 },
    mlp: { epochs: 15, hidden: [32] },
  },
};

for (const labels of ["binary", "multiclass"] as const) {
  describe(`float vs integer agreement, CIC-IDS2017 sample, ${labels}`, async () => {
    const ds = await loadCicFlowMeter(CICIDS2017_SAMPLE_DIR, { labels });
    const { train, test: held } = stratifiedSplit(ds, { seed: 1 });
    for (const [kind, opts] of Object.entries(OPTIONS[labels]) as [ModelKind, TrainOptions][]) {
      test(`${kind}: same class on >= 99.9% of ${held.nRows} held-out rows`, (t) => {
        const model = trainModel(kind, train, opts);
        const ir = lowerModel(model, { data: train });
        const f = predictDataset(model, held);
        const i = evaluateIrRows(ir, quantizeDataset(held, ir.quant));
        const same = f.reduce((s, v, r) => s + (v === i[r] ? 1 : 0), 0);
        t.diagnostic(`${labels} ${kind}: agree ${same}/${held.nRows} = ${((100 * same) / held.nRows).toFixed(3)}%, accuracy float ${accuracy(held.y, f).toFixed(4)} integer ${accuracy(held.y, i).toFixed(4)}`);
        assert.ok(same >= 0.999 * held.nRows, `${same} of ${held.nRows}`);
      });
    }
    if (labels === "binary") {
      test("mlp 16-32-2 on 16 integer flow counters: same class on >= 99.9% of held-out rows", (t) => {
        const cols = CICFLOWMETER_COUNTER_COLUMNS.slice(0, 16);
        const tr = selectFeatures(train, cols);
        const te = selectFeatures(held, cols);
        const model = trainModel("mlp", tr, { epochs: 20, hidden: [32] });
        const ir = lowerModel(model, { data: tr, quant: "identity" });
        assert.equal(ir.kind === "mlp" && [ir.nFeatures, ...ir.layers.map((l) => l.nOut)].join("-"), "16-32-2");
        const f = predictDataset(model, te);
        const i = evaluateIrRows(ir, quantizeDataset(te, ir.quant));
        const same = f.reduce((s, v, r) => s + (v === i[r] ? 1 : 0), 0);
        t.diagnostic(`binary mlp 16-32-2 identity: agree ${same}/${te.nRows} = ${((100 * same) / te.nRows).toFixed(3)}%, accuracy float ${accuracy(te.y, f).toFixed(4)} integer ${accuracy(te.y, i).toFixed(4)}`);
        assert.ok(same >= 0.999 * te.nRows, `${same} of ${te.nRows}`);
      });
    }
  });
}
