/**
 * Models trained by the real tools (scikit-learn written as ONNX-ML graphs, XGBoost JSON), on
 * a CIC-IDS2017 subset: imported, they predict the tool's own class on EVERY test row, and
 * their integer form agrees with the imported float model on >= 99.9% of the rows. The
 * fixtures are generated at test time into a temp dir by test/fixtures/models/*.py.
 */
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { makeDataset } from "../../src/ml/dataset/dataset.ts";
import { importModelFile } from "../../src/ml/import/import.ts";
import { evaluateIrRows } from "../../src/ml/ir/evaluate.ts";
import { lowerModel } from "../../src/ml/ir/lower.ts";
import { quantizeDataset } from "../../src/ml/ir/quantize.ts";
import { predictClass, predictScores } from "../../src/ml/model/predict.ts";
import type { ModelKind } from "../../src/ml/model/types.ts";
import { missing, requires, SYSTEM_PYTHON, type Capability } from "../helpers/kernel.ts";

const FIXTURES = new URL("../fixtures/models/", import.meta.url).pathname;

interface Expected {
  features: string[];
  classes: string[];
  x: number[][];
  pred: number[];
  calibration: number[][];
  margins?: number[][];
}

interface Case {
  file: string;
  kind: ModelKind;
  operator: string;
}

const SKLEARN: Case[] = [
  { file: "sk_tree_multi.onnx", kind: "tree", operator: "TreeEnsembleClassifier" },
  { file: "sk_tree_binary_lt.onnx", kind: "boosted", operator: "TreeEnsembleClassifier" },
  { file: "sk_forest_multi.onnx", kind: "forest", operator: "TreeEnsembleClassifier" },
  { file: "sk_forest_binary.onnx", kind: "boosted", operator: "TreeEnsembleClassifier" },
  { file: "sk_boosted_binary_regressor.onnx", kind: "boosted", operator: "TreeEnsembleRegressor" },
  { file: "sk_boosted_multi.onnx", kind: "boosted", operator: "TreeEnsembleClassifier" },
  { file: "sk_linear_multi.onnx", kind: "linear", operator: "LinearClassifier" },
  { file: "sk_linear_binary.onnx", kind: "linear", operator: "LinearClassifier" },
];
const XGBOOST: Case[] = [
  { file: "xgb_binary.model.json", kind: "boosted", operator: "binary:logistic" },
  { file: "xgb_binary_base.model.json", kind: "boosted", operator: "binary:logistic" },
  { file: "xgb_multi.model.json", kind: "boosted", operator: "multi:softprob" },
];

function runPython(script: string, out: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const p = spawn(SYSTEM_PYTHON, [join(FIXTURES, script), out], { cwd: FIXTURES, stdio: ["ignore", "ignore", "pipe"], timeout: 50_000 });
    let err = "";
    p.stderr.on("data", (d: Buffer) => (err += d.toString()));
    p.on("error", reject);
    p.on("close", (code) => (code === 0 ? resolve() : reject(new Error(`${script} exited ${code}: ${err}`))));
  });
}

function checkCase(dir: string, c: Case, t: { diagnostic(s: string): void }): void {
  const exp = JSON.parse(readFileSync(join(dir, c.file.replace(/(\.model)?\.(onnx|json)$/, ".json")), "utf8")) as Expected;
  const r = importModelFile(join(dir, c.file));
  const m = r.model;
  assert.equal(m.kind, c.kind);
  assert.equal(r.operator, c.operator);
  assert.equal(m.nFeatures, exp.features.length);
  assert.deepEqual(m.classNames, exp.classes.map((_, i) => String(i)));

  // The tool's own class on every row.
  const x = Float64Array.from(exp.x.flat());
  const F = m.nFeatures;
  const float = new Int32Array(exp.pred.length);
  const wrong: number[] = [];
  for (let i = 0; i < exp.pred.length; i++) {
    const row = x.subarray(i * F, (i + 1) * F);
    float[i] = Number(m.classNames[predictClass(m, row)]);
    if (float[i] !== exp.pred[i]) wrong.push(i);
  }
  assert.deepEqual(wrong.slice(0, 10), [], `${wrong.length} of ${exp.pred.length} rows differ from the tool, first rows ${wrong.slice(0, 10).join(", ")}`);
  assert.ok(new Set(exp.pred).size > 1, "the fixture predicts more than one class");

  // XGBoost's margins too (checks base_score and leaf values, not only the sign).
  if (exp.margins) {
    let worst = 0;
    exp.margins.forEach((mg, i) => {
      const s = predictScores(m, x.subarray(i * F, (i + 1) * F));
      mg.forEach((v, k) => (worst = Math.max(worst, Math.abs(v - s[k]!))));
    });
    t.diagnostic(`${c.file}: largest margin difference from XGBoost ${worst.toExponential(2)}`);
    assert.ok(worst < 1e-4, `margin differs by ${worst}`);
  }

  // Integer form: quantization fitted on training rows, agreement on the test rows.
  const cal = exp.calibration;
  const ds = makeDataset({ x: Float64Array.from(cal.flat()), y: new Int32Array(cal.length), featureNames: m.featureNames, classNames: m.classNames });
  const ir = lowerModel(m, { data: ds });
  const test = makeDataset({ x, y: new Int32Array(exp.pred.length), featureNames: m.featureNames, classNames: m.classNames });
  const int = evaluateIrRows(ir, quantizeDataset(test, ir.quant));
  let same = 0;
  for (let i = 0; i < int.length; i++) if (Number(m.classNames[int[i]!]) === float[i]) same++;
  t.diagnostic(`${c.file}: ${m.kind} from ${r.operator}; tool = import on ${exp.pred.length}/${exp.pred.length} rows; integer agrees on ${same}/${int.length} (${((100 * same) / int.length).toFixed(3)}%)`);
  assert.ok(same >= 0.999 * int.length, `integer form agrees on ${same} of ${int.length}`);
}

function suite(name: string, script: string, caps: Capability[], cases: Case[]): void {
  describe(name, () => {
    const dir = mkdtempSync(join(tmpdir(), "kmlib-import-"));
    let made: Promise<void> | undefined;
    before(() => {
      if (!missing(...caps)) made = runPython(script, dir);
    });
    after(() => rmSync(dir, { recursive: true, force: true }));
    for (const c of cases) {
      test(`${c.file}: the tool's class on every test row, integer form >= 99.9%`, { timeout: 55_000 }, async (t) => {
        if (!requires(t, ...caps)) return;
        await made;
        checkCase(dir, c, t);
      });
    }
  });
}

suite("import scikit-learn models through ONNX-ML", "make_sklearn_onnx.py", ["sklearn", "onnx"], SKLEARN);
suite("import XGBoost JSON models", "make_xgboost.py", ["xgboost"], XGBOOST);
