/** `kmlib gc`: the JSON contract of `gc sim`, typed errors, and `gc bench` writing its plot. */
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { runKmlib } from "../helpers/cli.ts";

const dir = mkdtempSync(join(tmpdir(), "kmlib-gc-cli-"));
process.on("exit", () => rmSync(dir, { recursive: true, force: true }));

const kmlib = (...args: string[]) => runKmlib(args);

describe("kmlib gc", () => {
  test("gc sim --json prints exactly the documented fields", () => {
    const r = kmlib("gc", "sim", "--policy", "greedy", "--workload", "hotcold-80-20", "--spare-factor", "0.2", "--blocks-per-segment", "32", "--logical-blocks", "8192", "--json");
    assert.equal(r.code, 0, r.stderr);
    const out = JSON.parse(r.stdout) as Record<string, unknown>;
    assert.deepEqual(Object.keys(out).sort(), ["blocksPerSegment", "gcWrites", "hostWrites", "policy", "spareFactor", "workload", "writeAmplification"].sort());
    assert.equal(out.policy, "greedy");
    assert.equal(out.workload, "hotcold-80-20");
    assert.equal(out.spareFactor, 0.2);
    assert.equal(out.blocksPerSegment, 32);
    assert.equal(out.hostWrites, 8 * 8192);
    const wa = out.writeAmplification as number;
    assert.ok(Math.abs(wa - ((out.hostWrites as number) + (out.gcWrites as number)) / (out.hostWrites as number)) < 1e-12);
    assert.ok(wa > 1);
  });

  test("gc sim replays an MQSim trace", (t) => {
    const trace = new URL("../../../shared/traces/tpcc-small.trace", import.meta.url).pathname;
    if (!existsSync(trace)) return t.skip("../shared/traces/tpcc-small.trace absent");
    const r = kmlib("gc", "sim", "--policy", "fifo", "--workload", "trace", "--trace", trace, "--spare-factor", "0.1", "--blocks-per-segment", "64", "--json");
    assert.equal(r.code, 0, r.stderr);
    const out = JSON.parse(r.stdout) as { workload: string; hostWrites: number };
    assert.equal(out.workload, "trace:tpcc-small");
    assert.ok(out.hostWrites > 0);
  });

  test("unknown policies and bad options fail with kmlib: CODE: message and exit 1", () => {
    let r = kmlib("gc", "sim", "--policy", "nope", "--workload", "uniform", "--json");
    assert.equal(r.code, 1);
    assert.match(r.stderr, /^kmlib: KMLIB_NOT_FOUND: unknown policy "nope"/);
    r = kmlib("gc", "sim", "--policy", "greedy", "--workload", "uniform", "--spare-factor", "2");
    assert.equal(r.code, 1);
    assert.match(r.stderr, /spare-factor/);
  });

  test("gc bench prints the table and writes an SVG plot with every policy", () => {
    const plot = join(dir, "wa.svg");
    const r = kmlib("gc", "bench", "--policies", "greedy,cost-benefit,ml,oracle", "--workloads", "uniform,zipf-1.0", "--logical-blocks", "4096", "--blocks-per-segment", "16", "--warmup", "2", "--writes", "2", "--plot", plot);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^policy\s+uniform\s+zipf-1\.0/m);
    assert.match(r.stdout, /^oracle\s+\d/m);
    assert.match(r.stderr, /\[8\/8\] oracle on zipf-1\.0/);
    const svg = readFileSync(plot, "utf8");
    assert.match(svg, /^<svg /);
    for (const p of ["greedy", "cost-benefit", "ml", "oracle"]) assert.ok(svg.includes(`>${p}</text>`), `legend lacks ${p}`);
  });
});
