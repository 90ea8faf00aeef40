/** src/report/svg-plot: well-formed standalone SVG with what a reader needs. */
import { test } from "node:test";
import assert from "node:assert/strict";
import { ErrorCode, isKmlibError } from "../../src/errors.ts";
import { barChart, lineChart, niceRange } from "../../src/report/svg-plot.ts";

/** Every opened element is closed, in order (enough to catch broken markup). */
function balanced(svg: string): boolean {
  const stack: string[] = [];
  for (const m of svg.matchAll(/<(\/?)([a-zA-Z]+)[^>]*?(\/?)>/g)) {
    const [, close, name, self] = m;
    if (self) continue;
    if (close) {
      if (stack.pop() !== name) return false;
    } else stack.push(name!);
  }
  return stack.length === 0;
}

test("bar chart: groups, legend, escaped text, one rect per finite value", () => {
  const svg = barChart({ title: "WA <per> policy & workload", yLabel: "write amplification", groups: ["uniform", "zipf-1.0"], series: [{ name: "greedy", values: [4.8, 6.9] }, { name: "ml", values: [4.7, null] }] });
  assert.ok(svg.startsWith("<svg xmlns=\"http://www.w3.org/2000/svg\""));
  assert.ok(balanced(svg));
  assert.ok(svg.includes("WA &lt;per&gt; policy &amp; workload"));
  assert.equal((svg.match(/<rect x=/g) ?? []).length, 3);
  for (const s of ["uniform", "zipf-1.0", "greedy", "ml", "write amplification"]) assert.ok(svg.includes(`>${s}</text>`), s);
  assert.throws(() => barChart({ title: "t", yLabel: "y", groups: ["a"], series: [{ name: "s", values: [1, 2] }] }), (e) => isKmlibError(e, ErrorCode.InvalidArgument));
});

test("line chart: one path per series, dashed where asked, axes labelled", () => {
  const svg = lineChart({ title: "WA vs spare", xLabel: "spare factor", yLabel: "WA", series: [{ name: "sim", points: [[0.05, 8.9], [0.1, 4.8], [0.3, 1.8]] }, { name: "model", dashed: true, points: [[0.05, 8.8], [0.3, 1.8]] }] });
  assert.ok(balanced(svg));
  assert.equal((svg.match(/<path d="M[^"]*" fill="none" stroke="#[0-9A-F]{6}" stroke-width="2"/g) ?? []).length, 2);
  assert.equal((svg.match(/stroke-dasharray/g) ?? []).length, 2); // the dashed line and its legend sample
  for (const s of ["spare factor", "WA", "sim", "model"]) assert.ok(svg.includes(`>${s}</text>`), s);
  assert.throws(() => lineChart({ title: "t", xLabel: "x", yLabel: "y", series: [{ name: "s", points: [] }] }), (e) => isKmlibError(e, ErrorCode.InvalidArgument));
});

test("nice ranges cover the data with 1-2-5 steps", () => {
  for (const [lo, hi] of [[0, 7.3], [1.07, 1.93], [-3, 250], [5, 5]] as const) {
    const r = niceRange(lo, hi, false);
    assert.ok(r.min <= lo && r.max >= hi, `${lo}..${hi} -> ${JSON.stringify(r)}`);
    const mant = r.step / Math.pow(10, Math.floor(Math.log10(r.step)));
    assert.ok([1, 2, 5].some((m) => Math.abs(mant - m) < 1e-9), `step ${r.step}`);
    assert.ok((r.max - r.min) / r.step <= 12);
  }
  assert.equal(niceRange(2, 9, true).min, 0);
});
