/**
 * @module cli/commands/gc
 * `kmlib gc`: the log-structured GC simulator. `gc sim` runs one policy on one workload;
 * `gc bench` runs every policy on every workload and prints a table plus an SVG plot of write
 * amplification (oracle included); `gc validate` compares the simulator with Desnoyers'
 * analytic model.
 */
import { Command, InvalidArgumentError, Option } from "commander";
import { lineChart, writeSvg } from "../../report/svg-plot.ts";
import { matrixChart, runMatrix, sharedTraces, summarize } from "../../subsystems/lfs-gc/bench-matrix.ts";
import { greedyUniformWa, lrwHotColdWa, lrwUniformWa } from "../../subsystems/lfs-gc/desnoyers.ts";
import { fifo, greedy } from "../../subsystems/lfs-gc/policies/classical.ts";
import { gcModes } from "../../subsystems/lfs-gc/recommended.ts";
import type { GcMode } from "../../subsystems/lfs-gc/recommended.ts";
import { makeWorkload, mlWithMode, policyFactory, policyNames, workloadNames } from "../../subsystems/lfs-gc/registry.ts";
import { simulate } from "../../subsystems/lfs-gc/simulate.ts";
import type { SimResult } from "../../subsystems/lfs-gc/simulate.ts";
import { HotColdWorkload, UniformWorkload } from "../../subsystems/lfs-gc/workload.ts";

function positiveInt(v: string): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError(`not a positive integer: ${v}`);
  return n;
}

function fraction(v: string): number {
  const n = Number(v);
  if (!(n > 0 && n < 1)) throw new InvalidArgumentError(`not a fraction in (0, 1): ${v}`);
  return n;
}

function positive(v: string): number {
  const n = Number(v);
  if (!(n > 0) || !Number.isFinite(n)) throw new InvalidArgumentError(`not a positive number: ${v}`);
  return n;
}

const list = (v: string): string[] => v.split(",").map((s) => s.trim()).filter(Boolean);

function print(s: string): void {
  process.stdout.write(s.endsWith("\n") ? s : s + "\n");
}

function table(head: string[], rows: string[][]): string {
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? "").length)));
  const line = (r: string[]): string => r.map((c, i) => c.padEnd(widths[i]!)).join("  ").trimEnd();
  return [line(head), widths.map((w) => "-".repeat(w)).join("  "), ...rows.map(line)].join("\n");
}

export function register(program: Command): void {
  const gc = program.command("gc").description("log-structured garbage collection: simulator, classical policies, oracle and the learned policy");

  gc.command("sim")
    .description("run one GC policy on one workload and report write amplification")
    .requiredOption("--policy <name>", `victim policy: ${policyNames.join(", ")}`)
    .requiredOption("--workload <name>", `${workloadNames.join(", ")}, zipf-S, trace (with --trace)`)
    .option("--spare-factor <f>", "over-provisioning of the data area, (physical - logical) / physical", fraction, 0.1)
    .option("--blocks-per-segment <n>", "blocks per segment", positiveInt, 64)
    .option("--trace <file>", "MQSim trace to replay (workload trace)")
    .option("--logical-blocks <n>", "logical blocks of synthetic workloads", positiveInt, 1 << 16)
    .option("--warmup <x>", "warm-up writes, in multiples of the logical blocks", positive, 4)
    .option("--writes <x>", "measured writes, in multiples of the logical blocks", positive, 8)
    .option("--seed <n>", "workload seed", positiveInt, 1)
    .addOption(new Option("--mode <mode>", "for --policy ml: apply its victims as proxy recommendations in this mode, greedy as default").choices([...gcModes]))
    .option("--json", "print the result as JSON")
    .action((o) => {
      const workload = makeWorkload(o.trace && o.workload !== "trace" ? `trace:${o.trace}` : o.workload, { logicalBlocks: o.logicalBlocks, seed: o.seed, trace: o.trace });
      const factory = o.mode && o.policy === "ml" ? mlWithMode(o.mode as GcMode) : policyFactory(o.policy);
      const u = workload.logicalBlocks;
      const r = simulate({
        policy: factory,
        workload,
        spareFactor: o.spareFactor,
        blocksPerSegment: o.blocksPerSegment,
        warmupWrites: Math.round(o.warmup * u),
        measureWrites: Math.round(o.writes * u),
        seed: o.seed,
      });
      const out = {
        policy: o.policy as string,
        ...(o.mode ? { mode: o.mode as string } : {}),
        workload: r.workload,
        spareFactor: r.spareFactor,
        blocksPerSegment: r.blocksPerSegment,
        hostWrites: r.hostWrites,
        gcWrites: r.gcWrites,
        writeAmplification: r.writeAmplification,
      };
      if (o.json) return print(JSON.stringify(out));
      print(
        `${out.policy}${o.mode ? ` (${o.mode})` : ""} on ${r.workload}: WA ${r.writeAmplification.toFixed(3)} ` +
          `(${r.hostWrites} host writes, ${r.gcWrites} GC writes; ${u} logical blocks, ${r.segments} segments of ${r.blocksPerSegment}, spare ${r.spareFactor}; ` +
          `${(r.writesPerSecond / 1e6).toFixed(1)} M host writes/s)`,
      );
    });

  gc.command("bench")
    .description("every policy on every workload: a table and an SVG plot of write amplification (oracle included)")
    .option("--policies <list>", "policies, comma-separated", list, policyNames)
    .option("--workloads <list>", "workloads, comma-separated (trace:FILE allowed)", list)
    .option("--traces <list>", "MQSim traces to add (default: ../shared/traces/*.trace with enough writes)", list)
    .option("--spare-factor <f>", "over-provisioning of the data area", fraction, 0.1)
    .option("--blocks-per-segment <n>", "blocks per segment", positiveInt, 64)
    .option("--logical-blocks <n>", "logical blocks of synthetic workloads", positiveInt, 1 << 16)
    .option("--warmup <x>", "warm-up writes, in multiples of the logical blocks", positive, 4)
    .option("--writes <x>", "measured writes, in multiples of the logical blocks", positive, 8)
    .option("--seed <n>", "workload seed", positiveInt, 1)
    .option("--plot <file>", "where to write the SVG plot", "gc-bench.svg")
    .option("--json", "print results and summary as JSON")
    .option("--quiet", "no progress on stderr")
    .action((o) => {
      const traces: string[] = o.traces ?? sharedTraces().filter((t) => usableTrace(t, o.blocksPerSegment));
      const workloads: string[] = o.workloads ?? [...workloadNames, ...traces.map((t) => `trace:${t}`)];
      for (const p of o.policies as string[]) policyFactory(p); // fail before hours of work
      const t0 = Date.now();
      const results = runMatrix({
        policies: o.policies,
        workloads,
        spareFactor: o.spareFactor,
        blocksPerSegment: o.blocksPerSegment,
        logicalBlocks: o.logicalBlocks,
        warmupFactor: o.warmup,
        measureFactor: o.writes,
        seed: o.seed,
        onProgress: o.quiet ? undefined : (m) => process.stderr.write(`  … ${m} (${((Date.now() - t0) / 1000).toFixed(0)} s)\n`),
      });
      const summary = summarize(results);
      writeSvg(o.plot, matrixChart(results, `Write amplification, spare factor ${o.spareFactor}, ${o.blocksPerSegment} blocks/segment`));
      if (o.json) return print(JSON.stringify({ plot: o.plot, results, summary }, null, 2));
      print(waTable(results));
      print("");
      print(
        table(
          ["workload", "best classical", "WA", "ml WA", "ml/best", "ml/oracle", "ml/rate-oracle", "ml/greedy"],
          summary.map((s) => [
            s.workload,
            s.bestClassical,
            s.bestClassicalWa.toFixed(3),
            s.mlWa?.toFixed(3) ?? "-",
            s.mlVsBestClassical?.toFixed(3) ?? "-",
            s.mlVsOracle?.toFixed(3) ?? "-",
            s.mlVsRateOracle?.toFixed(3) ?? "-",
            s.mlVsGreedy?.toFixed(3) ?? "-",
          ]),
        ),
      );
      print(`\nplot: ${o.plot}`);
    });

  gc.command("validate")
    .description("simulated FIFO and greedy against Desnoyers' analytic model (uniform and hot/cold writes)")
    .option("--blocks-per-segment <n>", "blocks per segment", positiveInt, 64)
    .option("--logical-blocks <n>", "logical blocks", positiveInt, 1 << 16)
    .option("--plot <file>", "also write an SVG line chart of simulated vs model WA")
    .option("--json", "print the comparison as JSON")
    .action((o) => {
      const rows: Array<{ case: string; spareFactor: number; simulated: number; model: number; error: number }> = [];
      const u = o.logicalBlocks as number;
      const b = o.blocksPerSegment as number;
      for (const sf of [0.05, 0.1, 0.15, 0.2, 0.25, 0.3]) {
        const run = (policy: typeof fifo, w: UniformWorkload | HotColdWorkload): number => simulate({ policy, workload: w, spareFactor: sf, blocksPerSegment: b }).writeAmplification;
        const add = (name: string, sim: number, model: number): void => {
          rows.push({ case: name, spareFactor: sf, simulated: sim, model, error: sim / model - 1 });
        };
        add("fifo uniform", run(fifo, new UniformWorkload(u, 1)), lrwUniformWa(sf));
        add("greedy uniform", run(greedy, new UniformWorkload(u, 1)), greedyUniformWa(sf, b));
        add("fifo hot/cold 80/20", run(fifo, new HotColdWorkload(u, 0.8, 0.2, 1)), lrwHotColdWa(sf, 0.8, 0.2));
        add("fifo hot/cold 90/10", run(fifo, new HotColdWorkload(u, 0.9, 0.1, 1)), lrwHotColdWa(sf, 0.9, 0.1));
      }
      if (o.plot) {
        const cases = [...new Set(rows.map((r) => r.case))];
        const series = cases.flatMap((c) => {
          const rs = rows.filter((r) => r.case === c);
          return [
            { name: `${c} (simulated)`, points: rs.map((r) => [r.spareFactor, r.simulated] as const) },
            { name: `${c} (model)`, dashed: true, points: rs.map((r) => [r.spareFactor, r.model] as const) },
          ];
        });
        writeSvg(o.plot, lineChart({ title: `Simulator vs Desnoyers' model, ${b} blocks/segment`, xLabel: "spare factor", yLabel: "write amplification", yFromZero: true, width: 1000, series }));
      }
      if (o.json) return print(JSON.stringify(rows, null, 2));
      print(table(["case", "spare", "simulated", "model", "error"], rows.map((r) => [r.case, String(r.spareFactor), r.simulated.toFixed(4), r.model.toFixed(4), `${(r.error * 100).toFixed(2)}%`])));
    });
}

/** A trace worth benchmarking: enough distinct blocks for a few dozen segments. */
function usableTrace(path: string, blocksPerSegment: number): boolean {
  try {
    const w = makeWorkload(`trace:${path}`, { logicalBlocks: 0, seed: 1 });
    const ok = w.logicalBlocks >= 32 * blocksPerSegment;
    if (!ok) process.stderr.write(`  (skipping ${path}: only ${w.logicalBlocks} distinct blocks written)\n`);
    return ok;
  } catch {
    return false;
  }
}

function waTable(results: readonly SimResult[]): string {
  const workloads = [...new Set(results.map((r) => r.workload))];
  const policies = [...new Set(results.map((r) => r.policy))];
  return table(
    ["policy", ...workloads],
    policies.map((p) => [p, ...workloads.map((w) => results.find((r) => r.policy === p && r.workload === w)?.writeAmplification.toFixed(3) ?? "-")]),
  );
}
