/**
 * `kmlib compile`: the artifact and C file it writes, and its errors (malformed file,
 * unsupported kind, feature count mismatch, model too large with the limit named).
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { requires } from "../helpers/kernel.ts";
import { loadProgram } from "../../src/bpf/index.ts";
import { decodeRecord, encodeRecord } from "../../src/compile/abi.ts";
import type { Artifact } from "../../src/compile/artifact.ts";
import { synthForest, synthRows } from "../../src/compile/synthetic.ts";
import { evaluateIr } from "../../src/ml/ir/evaluate.ts";
import { writeIrFile } from "../../src/ml/ir/serialize.ts";

const main = new URL("../../src/cli/main.ts", import.meta.url).pathname;
const dir = mkdtempSync(join(tmpdir(), "kmlib-compile-cli-"));
process.on("exit", () => rmSync(dir, { recursive: true, force: true }));

function kmlib(...args: string[]) {
  const r = spawnSync(process.execPath, ["--import", "tsx", main, ...args], { encoding: "utf8" });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

const model = join(dir, "forest.json");
const ir = synthForest(6, 5, 16, 3);
writeIrFile(model, ir);

test("compile writes a loadable artifact, C, and a JSON summary", (t) => {
  const out = join(dir, "forest.bpf.json");
  const c = join(dir, "forest.c");
  const r = kmlib("compile", model, "--out", out, "--c", c, "--json");
  assert.equal(r.status, 0, r.stderr);
  const summary = JSON.parse(r.stdout) as { strategy: string; layout: string; programs: Array<{ insns: number }> };
  assert.equal(summary.strategy, "inline");
  assert.equal(summary.layout, "single");
  const art = JSON.parse(readFileSync(out, "utf8")) as Artifact;
  assert.equal(art.format, "kmlib-bpf");
  assert.equal(art.nFeatures, 16);
  assert.equal(Buffer.from(art.programs[0]!.code, "base64").length, 8 * art.programs[0]!.insns);
  assert.match(readFileSync(c, "utf8"), /int kmlib_predict\(const int32_t \*x_, int32_t \*scores\)/);
  if (!requires(t, "bpf")) return;
  using p = loadProgram({ name: "artifact", type: "XDP", instructions: new Uint8Array(Buffer.from(art.programs[0]!.code, "base64")) });
  const rows = synthRows(100, 16, 5);
  for (let i = 0; i < 100; i++) {
    const x = rows.subarray(i * 16, i * 16 + 16);
    const got = decodeRecord(p.testRun({ data: encodeRecord(x, 2) }).data, 16, 2);
    assert.deepEqual(got, evaluateIr(ir, x));
  }
});

test("table strategy on request; human summary names the maps", () => {
  const r = kmlib("compile", model, "--strategy", "table", "--out", join(dir, "t.json"));
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /strategy table/);
  assert.match(r.stdout, /kmlib_tbl \(ARRAY\), kmlib_ctl \(ARRAY\)/);
  const art = JSON.parse(readFileSync(join(dir, "t.json"), "utf8")) as Artifact;
  assert.ok(art.table && Buffer.from(art.table.image, "base64").length === art.table.shape.bytes);
  assert.ok(art.programs[0]!.relocations.some((x) => x.map === "kmlib_tbl"));
});

test("errors: malformed file, unsupported kind, feature mismatch, too large", () => {
  const notJson = join(dir, "bad.json");
  writeFileSync(notJson, "{ nope");
  let r = kmlib("compile", notJson, "--out", join(dir, "x.json"));
  assert.equal(r.status, 1);
  assert.match(r.stderr, /^kmlib: KMLIB_INVALID_MODEL: invalid model: file: not JSON/);

  const svm = join(dir, "svm.json");
  writeFileSync(svm, JSON.stringify({ format: "kmlib-ir", version: 1, model: { kind: "svm" } }));
  r = kmlib("compile", svm, "--out", join(dir, "x.json"));
  assert.equal(r.status, 1);
  assert.match(r.stderr, /KMLIB_INVALID_MODEL: .*unsupported model kind "svm"/);

  r = kmlib("compile", model, "--features", "20", "--out", join(dir, "x.json"));
  assert.equal(r.status, 1);
  assert.match(r.stderr, /KMLIB_INVALID_ARGUMENT: feature count mismatch: .* reads 16 features.* provides 20/);

  const big = join(dir, "big.json");
  writeIrFile(big, synthForest(300, 10, 16, 1));
  r = kmlib("compile", big, "--strategy", "inline", "--layout", "single", "--out", join(dir, "x.json"));
  assert.equal(r.status, 1);
  assert.match(r.stderr, /KMLIB_INVALID_MODEL: model too large: inline\/single: about \d+ instructions exceed the 1000000-instruction program limit; would fit: layout tailcalls/);
});
