/**
 * Every `kmlib gc` command takes the registry's workload sequences (`A@COUNT,...,Z`), as
 * `kmlib agent` does: gc sim, gc bench --workloads (a sequence is one entry of the list) and
 * gc proxy --scenarios (each part a phase; `A>B` an alias of `A@Wx,B`). Bad ones fail with
 * `kmlib: CODE: message` naming the bad part.
 */
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { runKmlib } from "../helpers/cli.ts";

const dir = mkdtempSync(join(tmpdir(), "kmlib-gc-seq-cli-"));
process.on("exit", () => rmSync(dir, { recursive: true, force: true }));

const kmlib = (...args: string[]) => runKmlib(args);

const U = 4096;
const SMALL = ["--logical-blocks", String(U), "--blocks-per-segment", "16", "--warmup", "2", "--writes", "2"];

interface Sim {
  workload: string;
  hostWrites: number;
  gcWrites: number;
  writeAmplification: number;
}
const sim = (workload: string): Sim => {
  const r = kmlib("gc", "sim", "--policy", "greedy", "--workload", workload, ...SMALL, "--json");
  assert.equal(r.code, 0, r.stderr);
  return JSON.parse(r.stdout) as Sim;
};

describe("kmlib gc: workload sequences", () => {
  test("gc sim: the shift counts from the first write, warm-up included; part 1 draws as the plain workload", () => {
    const plain = sim("zipf-1.2");
    // Shifting after the whole run (4 x U writes) changes nothing: part 1 has the plain seed.
    const late = sim(`zipf-1.2@${4 * U},uniform`);
    assert.equal(late.workload, `zipf-1.2@${4 * U},uniform`);
    assert.deepEqual([late.hostWrites, late.gcWrites], [plain.hostWrites, plain.gcWrites]);
    // Shifting when the measurement starts (after 2x of warm-up) does.
    const early = sim("zipf-1.2@2x,uniform");
    assert.equal(early.hostWrites, plain.hostWrites);
    assert.notEqual(early.gcWrites, plain.gcWrites);
    const uniform = sim("uniform");
    const [e, p, u] = [early.writeAmplification, plain.writeAmplification, uniform.writeAmplification];
    assert.ok(Math.abs(e - u) < Math.abs(e - p), `the measured writes are uniform ones: WA ${e} (uniform ${u}, zipf-1.2 ${p})`);
  });

  test("gc sim: bad sequences name the bad part", () => {
    const cases: Array<[string, RegExp]> = [
      ["zipf-1.0@2x", /^kmlib: KMLIB_INVALID_ARGUMENT: workload sequence "zipf-1\.0@2x": a single workload takes no @COUNT/],
      ["zipf-1.0@2x,hotcold-95", /^kmlib: KMLIB_NOT_FOUND: workload sequence "zipf-1\.0@2x,hotcold-95", part 2: unknown workload "hotcold-95"/],
      ["zipf-1.0,uniform", /^kmlib: KMLIB_INVALID_ARGUMENT: workload sequence "zipf-1\.0,uniform": part 1 \(zipf-1\.0\) needs @COUNT/],
      ["zipf-1.0@2.5,uniform", /part 1 \(zipf-1\.0@2\.5\): a count of host writes must be an integer \(or Nx\)/],
    ];
    for (const [w, re] of cases) {
      const r = kmlib("gc", "sim", "--policy", "greedy", "--workload", w, ...SMALL);
      assert.equal(r.code, 1, w);
      assert.match(r.stderr, re);
    }
  });

  test("gc bench --workloads: a sequence is one entry, run like any other; a bad entry fails before the matrix", () => {
    const r = kmlib("gc", "bench", "--policies", "greedy", "--workloads", "uniform,zipf-1.2@2x,uniform,zipf-1.2", ...SMALL, "--plot", join(dir, "wa.svg"), "--quiet", "--json");
    assert.equal(r.code, 0, r.stderr);
    const out = JSON.parse(r.stdout) as { results: Sim[] };
    assert.deepEqual(out.results.map((x) => x.workload), ["uniform", "zipf-1.2@2x,uniform", "zipf-1.2"]);
    const [u, s, z] = out.results.map((x) => x.writeAmplification);
    assert.ok(Math.abs(s! - u!) < Math.abs(s! - z!), `the sequence measures uniform writes: WA ${s} (uniform ${u}, zipf-1.2 ${z})`);
    for (const [list, re] of [
      ["uniform,zipf-1.2@2x", /^kmlib: KMLIB_INVALID_ARGUMENT: --workloads: workload list "uniform,zipf-1\.2@2x": the sequence zipf-1\.2@2x ends on zipf-1\.2@2x, which has @COUNT/],
      ["uniform,zipf-1.2@2x,bogus", /^kmlib: KMLIB_NOT_FOUND: --workloads: workload sequence "zipf-1\.2@2x,bogus", part 2: unknown workload "bogus"/],
    ] as const) {
      const bad = kmlib("gc", "bench", "--policies", "greedy", "--workloads", list, ...SMALL, "--plot", join(dir, "bad.svg"), "--quiet");
      assert.equal(bad.code, 1, list);
      assert.match(bad.stderr, re);
    }
  });

  test("gc proxy --scenarios: each part of a sequence is a phase; A>B is the same run as A@Wx,B", () => {
    const W = 8;
    const r = kmlib("gc", "proxy", "--scenarios", `zipf-1.0>uniform,zipf-1.0@${W}x,uniform,hotcold-90-10@${U},zipf-1.0@0.5x,uniform`, "--logical-blocks", String(U), "--blocks-per-segment", "16", "--writes", String(W), "--json");
    assert.equal(r.code, 0, r.stderr);
    type Out = Array<{ scenario: string; finalMode: string; phases: Array<{ workload: string; hostWrites: number; gcWrites: number }>; transitions: unknown[]; epochs: unknown[] }>;
    const out = JSON.parse(r.stdout) as Out;
    assert.deepEqual(out.map((s) => s.scenario), ["zipf-1.0>uniform", `zipf-1.0@${W}x,uniform`, `hotcold-90-10@${U},zipf-1.0@0.5x,uniform`]);
    const [alias, seq, three] = out;
    assert.deepEqual(alias!.phases.map((p) => [p.workload, p.hostWrites]), [["zipf-1.0", W * U], ["uniform", W * U]]);
    assert.deepEqual({ ...alias, scenario: "" }, { ...seq, scenario: "" }, "the alias runs the sequence it stands for");
    assert.deepEqual(three!.phases.map((p) => [p.workload, p.hostWrites]), [["hotcold-90-10", U], ["zipf-1.0", U / 2], ["uniform", W * U]]);
    const bad = kmlib("gc", "proxy", "--scenarios", "uniform,zipf-1.0>uniform@2x,hotcold-90-10", "--logical-blocks", String(U), "--writes", "1");
    assert.equal(bad.code, 1);
    assert.match(bad.stderr, /^kmlib: KMLIB_INVALID_ARGUMENT: --scenarios: scenario "zipf-1\.0>uniform@2x,hotcold-90-10": A>B .* do not mix/);
  });
});
