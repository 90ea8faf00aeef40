/**
 * Exactness on synthetic models of exact sizes (the benchmark's models): random thresholds
 * make splits that the path above already decides, which the generator leaves out, and
 * rows at and around every threshold exercise each comparison's edge (dense models: rows
 * over the whole int32 range, so clamps and saturation are hit). Evaluator = kernel
 * test-run = gcc-built C export (plain, and the BPF-friendly variants the benchmark uses).
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { requires } from "../helpers/kernel.ts";
import { compileModel, type CompileOptions } from "../../src/compile/compile.ts";
import { loadModel } from "../../src/compile/load.ts";
import { synthBoosted, synthForest, synthLinear, synthMlp, synthTree } from "../../src/compile/synthetic.ts";
import { HostPredictor } from "../../src/compile/toolchain.ts";
import type { COptions } from "../../src/compile/c.ts";
import { evaluateIrScores, irDecide } from "../../src/ml/ir/evaluate.ts";
import { irScoreCount, irTrees, type IrModel } from "../../src/ml/ir/types.ts";
import { Rng } from "../../src/ml/rng.ts";

const ROWS = 10_000;

/** Rows whose features sit at a threshold of the model, one off it, or anywhere in range. */
function rowsNearThresholds(ir: IrModel, n: number, seed: number): Int32Array {
  const rng = new Rng(seed);
  const thr = irTrees(ir).flatMap((t) => t.threshold);
  const out = new Int32Array(n * ir.nFeatures);
  const wide = () => (rng.int(2) === 0 ? rng.int(2001) - 1000 : rng.nextU32() | 0);
  for (let i = 0; i < out.length; i++) out[i] = thr.length === 0 || rng.int(3) === 0 ? wide() : thr[rng.int(thr.length)]! + rng.int(3) - 1;
  return out;
}

function check(ir: IrModel, options: CompileOptions, cVariants: readonly COptions[]): void {
  const F = ir.nFeatures;
  const S = irScoreCount(ir);
  const rows = rowsNearThresholds(ir, ROWS, 11);
  const compiled = compileModel(ir, options);
  using lm = loadModel(compiled);
  const classes = new Set<number>();
  const hosts = cVariants.map((o) => new HostPredictor(ir, o));
  try {
    const c = hosts.map((h) => h.predictRows(rows));
    for (let r = 0; r < ROWS; r++) {
      const x = rows.subarray(r * F, r * F + F);
      const want = evaluateIrScores(ir, x);
      const cls = irDecide(want);
      classes.add(cls);
      const got = lm.predict(x);
      assert.deepEqual([got.class, ...got.scores], [cls, ...want], `kernel, row ${r}`);
      c.forEach((p, v) => assert.deepEqual([p.classes[r], ...p.scores.subarray(r * S, r * S + S)], [cls, ...want], `C variant ${v}, row ${r}`));
    }
  } finally {
    for (const h of hosts) h.close();
  }
  assert.ok(classes.size > 1, "the rows decide more than one class");
}

const BPF_FRIENDLY: COptions[] = [
  {},
  { opaqueAccumulators: true, treeBarrier: "scores" },
  { opaqueAccumulators: true, treeBarrier: "x", treesPerFunction: 3, volatileInputs: true },
];

test("synthetic tree depth 10: evaluator = kernel = C on rows at the thresholds", (t) => {
  if (!requires(t, "bpf", "gcc")) return;
  check(synthTree(10, 16, 3), { strategy: "inline" }, [{}]);
});

test("synthetic forest 12x8, inline single and subprogs: evaluator = kernel = C", (t) => {
  if (!requires(t, "bpf", "gcc")) return;
  const ir = synthForest(12, 8, 16, 4);
  check(ir, { strategy: "inline", layout: "single" }, BPF_FRIENDLY);
  check(ir, { strategy: "inline", layout: "subprogs", chunkInsns: 2000 }, []);
});

test("synthetic boosted 20x6, inline single and tail calls: evaluator = kernel = C", (t) => {
  if (!requires(t, "bpf", "gcc")) return;
  const ir = synthBoosted(20, 6, 16, 5);
  check(ir, { strategy: "inline", layout: "single" }, BPF_FRIENDLY);
  check(ir, { strategy: "inline", layout: "tailcalls", chunkInsns: 1500 }, []);
});

test("synthetic perceptrons (even and odd layer widths) and linear model: evaluator = kernel = C", (t) => {
  if (!requires(t, "bpf", "gcc")) return;
  check(synthMlp(16, 32, 2, 6), { strategy: "inline" }, [{}]);
  check(synthMlp(12, 7, 3, 7), { strategy: "inline" }, [{}]);
  check(synthLinear(32, 8), { strategy: "inline" }, [{}]);
});

test("a split the path above already decides is not emitted", () => {
  // Root: x0 <= 10; its left child tests x0 <= 20 (always true there), its right child
  // x0 <= 5 (always false there): one conditional jump is left, and all four leaves agree.
  const ir = synthTree(2, 2, 1);
  ir.tree.feature = [0, 0, 0];
  ir.tree.threshold = [10, 20, 5];
  const count = (m: IrModel) => compileModel(m, { strategy: "inline" }).programs[0]!.items.filter((i) => "op" in i && (i.op & 0x07) === 0x06 && (i.op & 0xf0) === 0x60).length;
  assert.equal(count(ir), 1);
  const open = synthTree(2, 2, 1);
  open.tree.feature = [0, 0, 0];
  open.tree.threshold = [10, 5, 20];
  assert.equal(count(open), 3);
});
