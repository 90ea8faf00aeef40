import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { CICFLOWMETER_COUNTER_COLUMNS, CICIDS2017_SAMPLE_DIR, loadCicFlowMeter } from "../../src/ml/dataset/cicflowmeter.ts";
import { classCounts, makeDataset, replaceNonFinite, selectFeatures } from "../../src/ml/dataset/dataset.ts";
import { loadParquet, writeParquet } from "../../src/ml/dataset/parquet.ts";
import { stratifiedSplit, stratifiedSplitIndices } from "../../src/ml/dataset/split.ts";
import { isKmlibError } from "../../src/errors.ts";

test("cicflowmeter: reads the CIC-IDS2017 sample in place, drops identifiers, keeps labels", async () => {
  const ds = await loadCicFlowMeter(CICIDS2017_SAMPLE_DIR, { maxRowsPerFile: 40 });
  // 91 columns less 7 identifiers less the label.
  assert.equal(ds.nFeatures, 83);
  assert.ok(!ds.featureNames.includes("Src IP") && !ds.featureNames.includes("Label"));
  assert.ok(ds.classNames.includes("BENIGN") && ds.classNames.includes("Heartbleed"));
  assert.equal(ds.classNames.length, 16);
  const counts = classCounts(ds);
  assert.equal(counts[ds.classNames.indexOf("Heartbleed")], 11);
  assert.equal(counts[ds.classNames.indexOf("BENIGN")], 40);
  for (const v of ds.x) assert.ok(Number.isFinite(v));
});

test("cicflowmeter: column selection and binary labels", async () => {
  const ds = await loadCicFlowMeter(CICIDS2017_SAMPLE_DIR, { maxRowsPerFile: 20, columns: CICFLOWMETER_COUNTER_COLUMNS, labels: "binary" });
  assert.deepEqual(ds.featureNames, [...CICFLOWMETER_COUNTER_COLUMNS]);
  assert.deepEqual(ds.classNames, ["BENIGN", "ATTACK"]);
  assert.equal(classCounts(ds)[0], 20);
  await assert.rejects(loadCicFlowMeter(CICIDS2017_SAMPLE_DIR, { maxRowsPerFile: 1, columns: ["No Such Column"] }), (e) => isKmlibError(e) && /No Such Column/.test(e.message));
});

test("split: stratified, disjoint, complete and seeded", () => {
  const y = Int32Array.from({ length: 1000 }, (_, i) => (i % 10 === 0 ? 1 : i % 97 === 0 ? 2 : 0));
  const a = stratifiedSplitIndices(y, 3, { seed: 7, testFraction: 0.3 });
  const b = stratifiedSplitIndices(y, 3, { seed: 7, testFraction: 0.3 });
  const c = stratifiedSplitIndices(y, 3, { seed: 8, testFraction: 0.3 });
  assert.deepEqual(a, b);
  assert.notDeepEqual(a.test, c.test);
  const all = new Set([...a.train, ...a.test]);
  assert.equal(all.size, 1000);
  assert.equal(a.train.length + a.test.length, 1000);
  for (let k = 0; k < 3; k++) {
    const total = y.filter((v) => v === k).length;
    const inTest = [...a.test].filter((i) => y[i] === k).length;
    assert.ok(Math.abs(inTest - total * 0.3) <= 1, `class ${k}: ${inTest} of ${total} in test`);
  }
});

test("dataset: selectFeatures, replaceNonFinite, shape checks", () => {
  const ds = makeDataset({ x: Float64Array.from([1, NaN, 3, Infinity, 5, -Infinity, 7, 2]), y: Int32Array.from([0, 1, 0, 1]), featureNames: ["a", "b"], classNames: ["n", "p"] });
  // NaN -> 0, +/-Infinity -> +/- the column's largest finite magnitude (2).
  assert.equal(replaceNonFinite(ds), 3);
  assert.deepEqual([...ds.x], [1, 0, 3, 2, 5, -2, 7, 2]);
  const sel = selectFeatures(ds, ["b", "a"]);
  assert.deepEqual([...sel.x.subarray(0, 2)], [0, 1]);
  assert.throws(() => makeDataset({ x: new Float64Array(5), y: new Int32Array(3), featureNames: ["a", "b"], classNames: ["n"] }), (e) => isKmlibError(e));
  assert.throws(() => makeDataset({ x: new Float64Array(2), y: Int32Array.from([3]), featureNames: ["a", "b"], classNames: ["n"] }), /label 3/);
});

test("parquet: write then read gives the same dataset", async () => {
  const ds = await loadCicFlowMeter(CICIDS2017_SAMPLE_DIR, { maxRowsPerFile: 5, columns: CICFLOWMETER_COUNTER_COLUMNS });
  const { test: part } = stratifiedSplit(ds, { seed: 3, testFraction: 0.5 });
  const p = join(mkdtempSync(join(tmpdir(), "kmlib-pq-")), "d.parquet");
  writeParquet(p, part);
  const back = await loadParquet(p);
  assert.deepEqual(back.featureNames, part.featureNames);
  assert.deepEqual(back.classNames, part.classNames);
  assert.deepEqual([...back.y], [...part.y]);
  assert.deepEqual([...back.x], [...part.x]);
  const sub = await loadParquet(p, { features: ["Protocol", "Dst Port"], maxRows: 3 });
  assert.equal(sub.nRows, 3);
  assert.equal(sub.x[0], part.x[1]);
});
