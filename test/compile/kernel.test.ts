/**
 * Compiled models in the kernel beyond the exactness suite: parameter swaps of the table
 * strategy without reload, the function form called from another program, the I/O-map
 * form with a continuation tail call, and the verifier's cost against the estimate.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { requires } from "../helpers/kernel.ts";
import {
  Add, Call, CallLocal, Exit, Helper, JLE, JNE, LoadMapPtr, LoadMem, Mov, Mul, StoreImm, StoreMem, createMap, label, loadProgram,
} from "../../src/bpf/index.ts";
import { recordLayout } from "../../src/compile/abi.ts";
import { compileModel } from "../../src/compile/compile.ts";
import { loadModel } from "../../src/compile/load.ts";
import { synthBoosted, synthForest, synthLinear, synthMlp, synthRows, synthTree } from "../../src/compile/synthetic.ts";
import { ErrorCode, isKmlibError } from "../../src/errors.ts";
import { evaluateIr } from "../../src/ml/ir/evaluate.ts";
import type { IrModel } from "../../src/ml/ir/types.ts";

function agreeOn(ir: IrModel, predict: (x: Int32Array) => { class: number; scores: number[] }, n: number, seed: number): void {
  const F = ir.nFeatures;
  const rows = synthRows(n, F, seed);
  for (let r = 0; r < n; r++) {
    const x = rows.subarray(r * F, r * F + F);
    const want = evaluateIr(ir, x);
    const got = predict(x);
    assert.deepEqual({ class: got.class, scores: got.scores }, want, `row ${r}`);
  }
}

test("table strategy: parameters swap without reloading; a model outside the shape is refused", (t) => {
  if (!requires(t, "bpf")) return;
  const a = synthForest(6, 5, 16, 1);
  const b = synthForest(8, 6, 16, 2);
  const compiled = compileModel(a, { strategy: "table", capacity: { trees: 8, depth: 6, nodes: 8 * 127 } });
  using lm = loadModel(compiled);
  const id = lm.entry.info().id;
  agreeOn(a, (x) => lm.predict(x), 300, 3);
  assert.equal(lm.swap(b), 1);
  agreeOn(b, (x) => lm.predict(x), 300, 4);
  assert.equal(lm.swap(a), 2);
  agreeOn(a, (x) => lm.predict(x), 300, 5);
  assert.equal(lm.entry.info().id, id, "same program throughout");
  assert.throws(() => lm.swap(synthForest(9, 6, 16, 3)), (e: unknown) => isKmlibError(e, ErrorCode.InvalidModel) && /9 trees exceed the table's capacity of 8/.test(e.message));
  assert.throws(() => lm.swap(synthForest(2, 3, 12, 3)), (e: unknown) => isKmlibError(e, ErrorCode.InvalidModel) && /feature count mismatch/.test(e.message));
  agreeOn(a, (x) => lm.predict(x), 100, 6);
  assert.equal(lm.version, 2);
});

test("table strategy swaps linear and perceptron parameters too", (t) => {
  if (!requires(t, "bpf")) return;
  for (const [a, b] of [[synthLinear(32, 1), synthLinear(32, 2)], [synthMlp(16, 32, 2, 1), synthMlp(16, 32, 2, 2)]] as const) {
    using lm = loadModel(compileModel(a, { strategy: "table" }));
    agreeOn(a, (x) => lm.predict(x), 200, 7);
    lm.swap(b);
    agreeOn(b, (x) => lm.predict(x), 200, 8);
  }
});

test("function form: an XDP program calls two embedded models as bpf-to-bpf subprograms", (t) => {
  if (!requires(t, "bpf")) return;
  const m1 = synthTree(6, 16, 4);
  const m2 = synthBoosted(5, 4, 16, 5);
  const f1 = compileModel(m1, { form: "function", prefix: "a_" });
  const f2 = compileModel(m2, { form: "function", prefix: "b_" });
  // Features at packet start are copied to the stack; r0 = class(m1) * 10 + class(m2).
  const F = 16;
  const copy = [];
  for (let j = 0; j < F; j++) copy.push(LoadMem("W", 0, 2, 4 * j), StoreMem("W", 10, -64 + 4 * j, 0));
  const items = [
    LoadMem("W", 2, 1, 0), LoadMem("W", 3, 1, 4), Mov.reg(4, 2), Add.imm(4, 4 * F),
    JLE.reg(4, 3, "ok"), Mov.imm(0, -2), Exit(), label("ok"),
    ...copy,
    Mov.reg(1, 10), Add.imm(1, -64), Mov.reg(2, 10), Add.imm(2, -80), CallLocal("a_predict"), Mov.reg(6, 0),
    Mov.reg(1, 10), Add.imm(1, -64), Mov.reg(2, 10), Add.imm(2, -80), CallLocal("b_predict"),
    Mov.reg(7, 6), Mul.imm(7, 10), Add.reg(0, 7),
    Exit(),
    ...f1.programs[0]!.items, ...f2.programs[0]!.items,
  ];
  using p = loadProgram({ name: "two_models", type: "XDP", instructions: items });
  const rows = synthRows(300, F, 9);
  for (let r = 0; r < 300; r++) {
    const x = rows.subarray(r * F, r * F + F);
    const pkt = new Uint8Array(Buffer.from(x.buffer, x.byteOffset, x.byteLength));
    const want = evaluateIr(m1, x).class * 10 + evaluateIr(m2, x).class;
    assert.equal(p.testRun({ data: pkt }).retval, want, `row ${r}`);
  }
});

test("I/O-map form: the answer lands in the per-CPU map and the continuation runs", (t) => {
  if (!requires(t, "bpf")) return;
  const ir = synthForest(5, 5, 16, 6);
  const F = ir.nFeatures;
  const l = recordLayout(F, 2);
  using progs = createMap({ name: "cont", type: "PROG_ARRAY", keySize: 4, valueSize: 4, maxEntries: 1 });
  using lm = loadModel(compileModel(ir, { form: "io", continuation: { map: "cont", index: 0, fallback: 99 } }), { maps: { cont: progs } });
  const io = lm.map("io");
  // The continuation reads the class the model left in the I/O map (every CPU's copy holds the
  // same features, so the CPU the run lands on does not matter): verdict = 40 + class.
  using cont = loadProgram({
    name: "cont", type: "XDP", maps: { kmlib_io: io },
    instructions: [
      StoreImm("W", 10, -4, 0), LoadMapPtr(1, "kmlib_io"), Mov.reg(2, 10), Add.imm(2, -4), Call(Helper.map_lookup_elem),
      JNE.imm(0, 0, "found"), Mov.imm(0, -1), Exit(), label("found"),
      LoadMem("W", 0, 0, l.class), Add.imm(0, 40), Exit(),
    ],
  });
  const rows = synthRows(50, F, 10);
  const value = new Uint8Array(io.valueBytes);
  const dv = new DataView(value.buffer);
  const stride = io.valueBytes / io.cpus;
  // Without the continuation installed, the tail call fails and the fallback verdict is returned.
  assert.equal(lm.entry.testRun({ data: new Uint8Array(64) }).retval, 99);
  progs.setProgram(0, cont);
  for (let r = 0; r < 50; r++) {
    const x = rows.subarray(r * F, r * F + F);
    for (let c = 0; c < io.cpus; c++) for (let j = 0; j < F; j++) dv.setInt32(c * stride + 4 * j, x[j]!, true);
    io.update(new Uint8Array(4), value);
    const got = lm.entry.testRun({ data: new Uint8Array(64) }).retval;
    assert.equal(got, 40 + evaluateIr(ir, x).class, `row ${r}`);
  }
});

test("verifier cost stays within the estimate the strategy choice used", (t) => {
  if (!requires(t, "bpf")) return;
  for (const ir of [synthTree(8), synthForest(10, 6), synthBoosted(20, 5), synthLinear(32), synthMlp(16, 32, 2)]) {
    for (const strategy of ["inline", "table"] as const) {
      const c = compileModel(ir, { strategy });
      using lm = loadModel(c);
      const v = lm.verifiedInsns();
      assert.ok(v <= c.programs[0]!.processedEstimate, `${ir.kind} ${strategy}: verifier processed ${v} > estimate ${c.programs[0]!.processedEstimate}`);
    }
  }
});
