/**
 * @module bench/run
 * `npm run bench [-- SUITE...]`: runs the suites in bench/suites (all when none is named),
 * writes bench/results/SUITE.json (an array of BenchEntry) and prints a table.
 */
import { mkdirSync, readdirSync, writeFileSync } from "node:fs";
import { basename, dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import type { BenchEntry, BenchSuite } from "./types.ts";

const here = dirname(fileURLToPath(import.meta.url));
const available = readdirSync(join(here, "suites")).filter((f) => f.endsWith(".ts")).map((f) => basename(f, ".ts")).sort();
const wanted = process.argv.slice(2).filter((a) => !a.startsWith("-"));
const unknown = wanted.filter((w) => !available.includes(w));
if (unknown.length > 0) {
  console.error(`unknown suite(s): ${unknown.join(", ")}; available: ${available.join(", ")}`);
  process.exit(2);
}
const suites = wanted.length > 0 ? wanted : available;
mkdirSync(join(here, "results"), { recursive: true });

const fmt = (x: number) => (Number.isFinite(x) ? (Math.abs(x) >= 1000 ? x.toFixed(0) : x.toPrecision(4)) : String(x));
let failed = 0;
for (const name of suites) {
  process.stderr.write(`suite ${name}\n`);
  let entries: BenchEntry[];
  try {
    const mod = (await import(join(here, "suites", `${name}.ts`))) as { default: BenchSuite };
    entries = await mod.default();
  } catch (e) {
    failed++;
    console.error(`suite ${name} failed: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}`);
    continue;
  }
  const file = join(here, "results", `${name}.json`);
  writeFileSync(file, JSON.stringify(entries, null, 2) + "\n");
  console.log(`\n${name} → ${file}`);
  const rows = entries.map((e) => [e.name, `${fmt(e.value)} ${e.unit}`, e.anchor, `${fmt(e.anchorValue)} ${e.unit}`, fmt(e.ratio)]);
  const head = ["name", "value", "anchor", "anchor value", "ratio"];
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (r: string[]) => r.map((c, i) => c.padEnd(widths[i]!)).join("  ");
  console.log(line(head));
  console.log(widths.map((w) => "-".repeat(w)).join("  "));
  for (const r of rows) console.log(line(r));
}
process.exit(failed > 0 ? 1 : 0);
