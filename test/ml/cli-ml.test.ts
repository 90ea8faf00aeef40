import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { CICIDS2017_SAMPLE_DIR } from "../../src/ml/dataset/cicflowmeter.ts";

const bin = fileURLToPath(new URL("../../bin/kmlib.js", import.meta.url));
const dir = mkdtempSync(join(tmpdir(), "kmlib-cli-ml-"));
const data = ["--data", CICIDS2017_SAMPLE_DIR, "--max-rows-per-file", "120"];

function kmlib(...args: string[]) {
  const r = spawnSync(process.execPath, [bin, ...args], { encoding: "utf8", timeout: 60_000 });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

test("kmlib train -> eval -> inspect on the CIC-IDS2017 sample", () => {
  const model = join(dir, "forest.json");
  const t = kmlib("train", "--kind", "forest", "--trees", "6", "--max-depth", "6", ...data, "-o", model, "--json");
  assert.equal(t.code, 0, t.err);
  const tr = JSON.parse(t.out);
  assert.equal(tr.kind, "forest");
  assert.ok(tr.intAccuracy > 0.8 && tr.agreement >= 0.99, t.out);
  assert.equal(tr.report.classes.length, 16);

  const e = kmlib("eval", model, ...data, "--json");
  assert.equal(e.code, 0, e.err);
  const ev = JSON.parse(e.out);
  // Same seed and split as training: the same held-out accuracy.
  assert.equal(ev.accuracy, tr.intAccuracy);
  assert.equal(ev.confusion.length, 16);

  const table = kmlib("eval", model, ...data, "--confusion");
  assert.equal(table.code, 0, table.err);
  assert.match(table.out, /precision\s+recall\s+f1\s+support/);
  assert.match(table.out, /Heartbleed/);
  assert.match(table.out, /true\\pred/);

  const i = kmlib("inspect", model, "--json");
  assert.equal(i.code, 0, i.err);
  const s = JSON.parse(i.out);
  assert.equal(s.trees, 6);
  assert.ok(s.maxDepth <= 6 && s.nodes > 0 && s.leaves === s.nodes + 6);
});

test("kmlib: clear errors for a malformed model file, a feature mismatch, an unknown kind", () => {
  const bad = join(dir, "bad.json");
  writeFileSync(bad, JSON.stringify({ format: "kmlib-ir", version: 1, model: { kind: "tree", nFeatures: 2 } }));
  const r1 = kmlib("inspect", bad);
  assert.equal(r1.code, 1);
  assert.match(r1.err, /^kmlib: KMLIB_INVALID_MODEL: invalid model: nClasses/);

  const model = join(dir, "tree.json");
  assert.equal(kmlib("train", "--kind", "tree", "--counters", "--quant", "identity", ...data, "-o", model).code, 0);
  const csv = join(dir, "other.csv");
  writeFileSync(csv, "a,b,label\n1,2,BENIGN\n");
  const r2 = kmlib("eval", model, "--data", csv, "--all");
  assert.equal(r2.code, 1);
  assert.match(r2.err, /^kmlib: KMLIB_INVALID_ARGUMENT: feature count mismatch: the model needs 20 features/);

  const r3 = kmlib("train", "--kind", "svm", ...data, "-o", model);
  assert.equal(r3.code, 1);
  assert.match(r3.err, /svm/);
});
