/**
 * `kmlib import`: a foreign model becomes an integer-form file that `kmlib inspect` reads, with
 * the float/integer agreement on a dataset; bad files and feature mismatches are typed errors.
 */
import { after, test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { readIrFile } from "../../src/ml/ir/serialize.ts";
import { evaluateIr } from "../../src/ml/ir/evaluate.ts";
import { quantizeRow } from "../../src/ml/ir/quantize.ts";

const bin = fileURLToPath(new URL("../../bin/kmlib.js", import.meta.url));
const dir = mkdtempSync(join(tmpdir(), "kmlib-import-cli-"));
after(() => rmSync(dir, { recursive: true, force: true }));

function kmlib(...args: string[]) {
  const r = spawnSync(process.execPath, [bin, ...args], { encoding: "utf8", timeout: 60_000 });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

/** XGBoost JSON: margin = (a < 2.5 ? -1 : 1) + (b < 10 ? 0.5 : -0.5). */
function xgbModel(): string {
  const stump = (f: number, c: number, l: number, r: number) => ({
    tree_param: { num_nodes: "3" },
    left_children: [1, -1, -1],
    right_children: [2, -1, -1],
    split_indices: [f, 0, 0],
    split_conditions: [c, l, r],
    split_type: [0, 0, 0],
  });
  return JSON.stringify({
    version: [1, 7, 4],
    learner: {
      attributes: {},
      feature_names: [],
      learner_model_param: { base_score: "5E-1", num_class: "0", num_feature: "2" },
      objective: { name: "binary:logistic" },
      gradient_booster: { name: "gbtree", model: { tree_info: [0, 0], trees: [stump(0, 2.5, -1, 1), stump(1, 10, 0.5, -0.5)] } },
    },
  });
}

test("kmlib import: XGBoost JSON -> integer form, agreement on a CSV, inspect reads it", () => {
  const model = join(dir, "m.json");
  writeFileSync(model, xgbModel());
  const rows = ["a,b,extra,label"];
  for (let i = 0; i < 200; i++) rows.push(`${(i % 7) * 0.75},${(i * 13) % 23},${i},${i % 2 ? "x" : "y"}`);
  const csv = join(dir, "d.csv");
  writeFileSync(csv, rows.join("\n") + "\n");
  const out = join(dir, "ir.json");
  const r = kmlib("import", model, "--data", csv, "--features", "a,b", "-o", out, "--json");
  assert.equal(r.code, 0, r.err);
  const res = JSON.parse(r.out);
  assert.equal(res.format, "xgboost");
  assert.equal(res.kind, "boosted");
  assert.equal(res.quant, "fit");
  assert.equal(res.rows, 200);
  assert.equal(res.agreement, 1);
  const ir = readIrFile(out);
  assert.deepEqual(ir.featureNames, ["a", "b"]);
  // The written integer form decides as the margin says.
  for (const [a, b] of [[0, 0], [3, 0], [0, 20], [3, 20], [2.25, 9], [2.5, 10]] as const) {
    const margin = (a < 2.5 ? -1 : 1) + (b < 10 ? 0.5 : -0.5);
    assert.equal(evaluateIr(ir, quantizeRow([a, b], ir.quant)).class, margin > 0 ? 1 : 0, `a=${a} b=${b}`);
  }
  const i = kmlib("inspect", out, "--json");
  assert.equal(i.code, 0, i.err);
  assert.equal(JSON.parse(i.out).trees, 2);

  const text = kmlib("import", model);
  assert.equal(text.code, 0, text.err);
  assert.match(text.out, /imported xgboost binary:logistic \(xgboost 1\.7\.4\)/);
  assert.match(text.out, /nothing written/);
});

test("kmlib import: typed errors for a bad file and a feature mismatch", () => {
  const bad = join(dir, "bad.onnx");
  writeFileSync(bad, "definitely not protobuf");
  const r = kmlib("import", bad);
  assert.equal(r.code, 1);
  assert.match(r.err, /^kmlib: KMLIB_INVALID_MODEL: .*bad\.onnx: not an ONNX model file/);

  const model = join(dir, "m2.json");
  writeFileSync(model, xgbModel());
  const csv = join(dir, "d3.csv");
  writeFileSync(csv, "a,b,c,label\n1,2,3,x\n4,5,6,y\n");
  const m = kmlib("import", model, "--data", csv);
  assert.equal(m.code, 1);
  assert.match(m.err, /^kmlib: KMLIB_INVALID_ARGUMENT: feature count mismatch: the model expects 2 features, the dataset has 3/);

  const q = kmlib("import", model, "--quant", "fit");
  assert.equal(q.code, 1);
  assert.match(q.err, /--quant fit needs --data/);
});
