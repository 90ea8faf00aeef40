// Runs every test/**/*.test.ts file with node's own test runner (through tsx), so CI can read
// the runner's closing summary. Arguments filter files by substring.
import { spawnSync } from "node:child_process";
import { readdirSync, statSync } from "node:fs";
import { join } from "node:path";

function walk(dir) {
  const out = [];
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) out.push(...walk(p));
    else if (name.endsWith(".test.ts")) out.push(p);
  }
  return out;
}
const filters = process.argv.slice(2);
const files = walk("test").filter((f) => filters.length === 0 || filters.some((s) => f.includes(s))).sort();
if (files.length === 0) {
  console.error("no test files matched");
  process.exit(1);
}
const reporter = process.stdout.isTTY ? [] : ["--test-reporter=spec"];
const r = spawnSync(process.execPath, ["--import", "tsx", "--test", ...reporter, ...files], { stdio: "inherit" });
process.exit(r.status ?? 1);
