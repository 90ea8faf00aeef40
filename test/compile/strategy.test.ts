/**
 * Strategy and layout choice, kernel limits and their errors, the C export's freestanding
 * form: pure tests (no kernel).
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { assemble, CallLocal, Exit, label } from "../../src/bpf/asm/index.ts";
import { generateC } from "../../src/compile/c.ts";
import { compileModel } from "../../src/compile/compile.ts";
import { synthForest, synthMlp, synthTree } from "../../src/compile/synthetic.ts";
import { ErrorCode, isKmlibError } from "../../src/errors.ts";

function throwsCode(f: () => unknown, code: string, re: RegExp): void {
  assert.throws(f, (e: unknown) => {
    assert.ok(isKmlibError(e), `not a KmlibError: ${String(e)}`);
    assert.equal(e.code, code);
    assert.match(e.message, re);
    return true;
  });
}

test("auto: a small model compiles inline in one program", () => {
  const c = compileModel(synthForest(10, 6));
  assert.equal(c.strategy, "inline");
  assert.equal(c.layout, "single");
  assert.equal(c.programs.length, 1);
  assert.deepEqual(c.maps, []);
  assert.ok(c.programs[0]!.insns > 10 * 63, `${c.programs[0]!.insns} insns for 630 nodes`);
});

test("auto: past the instruction limit, the table strategy (code independent of model size)", () => {
  const c = compileModel(synthForest(10, 8), { limits: { maxInsns: 5000 } });
  assert.equal(c.strategy, "table");
  assert.ok(c.programs[0]!.insns < 5000);
  assert.deepEqual(c.maps.map((m) => m.role).sort(), ["control", "table"]);
  assert.match(c.reason, /inline\/single: .*5000-instruction program limit/);
});

test("auto: when the table exceeds the map value limit too, a tail-call chain", () => {
  // 130 full depth-10 trees: a 4.3 MB table (> KMALLOC_MAX_SIZE), ~530k inline instructions.
  const ir = synthForest(130, 10);
  const c = compileModel(ir, { limits: { maxInsns: 200_000, maxProcessed: 220_000 } });
  assert.equal(c.strategy, "inline");
  assert.equal(c.layout, "tailcalls");
  assert.ok(c.programs.length >= 3 && c.programs.length <= 34, `${c.programs.length} stages`);
  for (const p of c.programs) assert.ok(p.insns <= 200_000, `${p.name}: ${p.insns}`);
  assert.deepEqual(c.maps.map((m) => m.type).sort(), ["PERCPU_ARRAY", "PROG_ARRAY"]);
  assert.match(c.reason, /table: .*4194304/);
});

test("forced inline that does not fit: the error names the limit and what would fit", () => {
  throwsCode(() => compileModel(synthForest(10, 8), { strategy: "inline", layout: "single", limits: { maxInsns: 5000 } }), ErrorCode.InvalidModel, /model too large: .*5000-instruction program limit.*would fit: --strategy table/);
});

test("a model that fits nothing says so, limit by limit", () => {
  throwsCode(
    () => compileModel(synthForest(40, 8), { limits: { maxInsns: 20_000, maxProcessed: 10_000, tailCalls: 2 } }),
    ErrorCode.InvalidModel,
    /inline\/single: .*; table: .*verifier-processed.*; inline\/tailcalls: .*tail-call stages.*MAX_TAIL_CALL_CNT/,
  );
});

test("the 512-byte stack: a perceptron too wide for it is refused with the stack named", () => {
  throwsCode(() => compileModel(synthMlp(16, 64, 2)), ErrorCode.InvalidModel, /stack bytes exceed the 512-byte stack/);
  const ok = compileModel(synthMlp(16, 32, 2));
  assert.ok(ok.programs[0]!.stackBytes <= 512);
});

test("bad options are argument errors", () => {
  throwsCode(() => compileModel(synthTree(3), { strategy: "magic" as never }), ErrorCode.InvalidArgument, /unknown strategy "magic"/);
  throwsCode(() => compileModel(synthTree(3), { layout: "tailcalls" }), ErrorCode.InvalidArgument, /layout tailcalls does not apply to a tree model/);
  throwsCode(() => compileModel(synthTree(3), { prefix: "bad-prefix" }), ErrorCode.InvalidArgument, /prefix/);
  throwsCode(() => compileModel({ kind: "tree" } as never), ErrorCode.InvalidModel, /invalid model/);
});

test("function form: prefixed fragments, so two models embed in one program", () => {
  const a = compileModel(synthTree(4, 16, 1), { form: "function", prefix: "a_" });
  const b = compileModel(synthForest(3, 4, 16, 2), { form: "function", prefix: "b_" });
  const asm = assemble([CallLocal("a_predict"), CallLocal("b_predict"), Exit(), a.programs[0]!.items, b.programs[0]!.items]);
  assert.ok(asm.labels.has("a_predict") && asm.labels.has("b_predict"));
  const labelsA = a.programs[0]!.items.filter((i) => "label" in i).map((i) => (i as ReturnType<typeof label>).label);
  assert.ok(labelsA.every((l) => l.startsWith("a_")), "every label carries the prefix");
});

test("C export: integer only, stdint only, one entry point", () => {
  for (const ir of [synthTree(5), synthForest(4, 4), synthMlp(8, 8, 2)]) {
    const src = generateC(ir);
    assert.match(src, /int kmlib_predict\(const int32_t \*x_, int32_t \*scores\)/);
    assert.doesNotMatch(src, /\b(float|double|malloc|printf|memcpy)\b/);
    assert.deepEqual(src.match(/#include <[^>]+>/g), ["#include <stdint.h>"]);
  }
});
