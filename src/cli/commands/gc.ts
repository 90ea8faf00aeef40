/**
 * @module cli/commands/gc
 * `kmlib gc`: the log-structured GC simulator. `gc sim` runs one policy on one workload;
 * `gc bench` runs every policy on every workload and prints a table plus an SVG plot of write
 * amplification (oracle included, and the learned policy through the ml-lib proxy in the mode
 * its controller settled on); `gc validate` compares the simulator with Desnoyers' analytic
 * model; `gc proxy` shows the proxy's mode controller at work on a few scenarios.
 */
import { Command, InvalidArgumentError, Option } from "commander";
import { ErrorCode, KmlibError } from "../../errors.ts";
import { lineChart, writeSvg } from "../../report/svg-plot.ts";
import { matrixChart, runMatrix, sharedTraces, summarize } from "../../subsystems/lfs-gc/bench-matrix.ts";
import { greedyUniformWa, lrwHotColdWa, lrwUniformWa } from "../../subsystems/lfs-gc/desnoyers.ts";
import { fifo, greedy } from "../../subsystems/lfs-gc/policies/classical.ts";
import { gcModes } from "../../subsystems/lfs-gc/recommended.ts";
import type { GcMode } from "../../subsystems/lfs-gc/recommended.ts";
import { makeWorkload, mlWithMode, policyFactory, policyNames, splitWorkloadList, workloadNames } from "../../subsystems/lfs-gc/registry.ts";
import { simulate } from "../../subsystems/lfs-gc/simulate.ts";
import type { SimResult } from "../../subsystems/lfs-gc/simulate.ts";
import { HotColdWorkload, UniformWorkload } from "../../subsystems/lfs-gc/workload.ts";
import { PROXY_POLICY, type ProxyRow, proxyRow, runProxyRows } from "../../subsystems/lfs-gc/proxy/bench.ts";
import { fraction, list, positiveInt, print } from "../common.ts";
import { registerProxyCommand } from "./gc-proxy.ts";

function positive(v: string): number {
  const n = Number(v);
  if (!(n > 0) || !Number.isFinite(n)) throw new InvalidArgumentError(`not a positive number: ${v}`);
  return n;
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
    .requiredOption(
      "--workload <name>",
      `${workloadNames.join(", ")}, zipf-S, trace (with --trace), or a sequence A@COUNT,...,Z that shifts after COUNT host writes (or Nx logical blocks), counted from the first write, warm-up included, e.g. hotcold-90-10@6x,uniform`,
    )
    .option("--spare-factor <f>", "over-provisioning of the data area, (physical - logical) / physical", fraction, 0.1)
    .option("--blocks-per-segment <n>", "blocks per segment", positiveInt, 64)
    .option("--trace <file>", "MQSim trace to replay (workload trace)")
    .option("--logical-blocks <n>", "logical blocks of synthetic workloads", positiveInt, 1 << 16)
    .option("--warmup <x>", "warm-up writes, in multiples of the logical blocks", positive, 4)
    .option("--writes <x>", "measured writes, in multiples of the logical blocks", positive, 8)
    .option("--seed <n>", "workload seed", positiveInt, 1)
    .addOption(
      new Option("--mode <mode>", "for --policy ml: apply its victims as proxy recommendations in this mode, greedy as default; auto: through the ml-lib proxy, its mode controller deciding (see gc proxy)").choices([
        ...gcModes,
        "auto",
      ]),
    )
    .option("--settle <x>", "with --mode auto: writes before measuring, while the controller decides, in multiples of the logical blocks", positive, 16)
    .option("--json", "print the result as JSON")
    .action(async (o) => {
      const spec = o.trace && o.workload !== "trace" ? `trace:${o.trace}` : o.workload;
      if (o.mode === "auto") {
        if (o.policy !== "ml") throw new KmlibError(ErrorCode.InvalidArgument, `--mode auto runs the learned policy through the proxy: use it with --policy ml, not ${o.policy}`);
        const r = await proxyRow(spec === "trace" ? `trace:${o.trace}` : spec, { spareFactor: o.spareFactor, blocksPerSegment: o.blocksPerSegment, logicalBlocks: o.logicalBlocks, settleFactor: o.settle, measureFactor: o.writes, seed: o.seed });
        const out = {
          policy: "ml",
          mode: "auto",
          finalMode: r.finalMode,
          workload: r.workload,
          spareFactor: r.spareFactor,
          blocksPerSegment: r.blocksPerSegment,
          hostWrites: r.hostWrites,
          gcWrites: r.gcWrites,
          writeAmplification: r.writeAmplification,
          transitions: r.transitions.map((t) => ({ from: t.from, to: t.to, reason: t.reason, detail: t.detail })),
        };
        if (o.json) return print(JSON.stringify(out));
        print(`ml (auto, ended in ${r.finalMode}) on ${r.workload}: WA ${r.writeAmplification.toFixed(3)} over the last ${r.hostWrites} host writes (${r.gcWrites} GC writes)`);
        for (const t of out.transitions) print(`  ${t.from} -> ${t.to} (${t.reason}): ${t.detail}`);
        return;
      }
      const workload = makeWorkload(spec, { logicalBlocks: o.logicalBlocks, seed: o.seed, trace: o.trace });
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
    .option("--policies <list>", `policies, comma-separated (${PROXY_POLICY}: the learned policy through the ml-lib proxy)`, list, [...policyNames, PROXY_POLICY])
    .option("--workloads <list>", "workloads, comma-separated (trace:FILE allowed); a sequence A@COUNT,...,Z is one entry (the parts after an @COUNT part belong to it up to one without)")
    .option("--traces <list>", "MQSim traces to add (default: ../shared/traces/*.trace with enough writes)", list)
    .option("--spare-factor <f>", "over-provisioning of the data area", fraction, 0.1)
    .option("--blocks-per-segment <n>", "blocks per segment", positiveInt, 64)
    .option("--logical-blocks <n>", "logical blocks of synthetic workloads", positiveInt, 1 << 16)
    .option("--warmup <x>", "warm-up writes, in multiples of the logical blocks", positive, 4)
    .option("--writes <x>", "measured writes, in multiples of the logical blocks", positive, 8)
    .option("--seed <n>", "workload seed", positiveInt, 1)
    .option("--settle <x>", `${PROXY_POLICY}: writes before measuring, while its controller decides, in multiples of the logical blocks`, positive, 16)
    .option("--plot <file>", "where to write the SVG plot", "gc-bench.svg")
    .option("--json", "print results and summary as JSON")
    .option("--quiet", "no progress on stderr")
    .action(async (o) => {
      const traces = (): string[] => o.traces ?? sharedTraces().filter((t) => usableTrace(t, o.blocksPerSegment));
      const workloads: string[] = o.workloads !== undefined ? checkedWorkloads(o.workloads as string, o.logicalBlocks as number) : [...workloadNames, ...traces().map((t) => `trace:${t}`)];
      const withProxy = (o.policies as string[]).includes(PROXY_POLICY);
      const policies = (o.policies as string[]).filter((p) => p !== PROXY_POLICY);
      for (const p of policies) policyFactory(p); // fail before hours of work
      const t0 = Date.now();
      const progress = o.quiet ? undefined : (m: string) => process.stderr.write(`  … ${m} (${((Date.now() - t0) / 1000).toFixed(0)} s)\n`);
      const results: SimResult[] = runMatrix({
        policies,
        workloads,
        spareFactor: o.spareFactor,
        blocksPerSegment: o.blocksPerSegment,
        logicalBlocks: o.logicalBlocks,
        warmupFactor: o.warmup,
        measureFactor: o.writes,
        seed: o.seed,
        onProgress: progress,
      });
      const proxied: ProxyRow[] = withProxy
        ? await runProxyRows({ workloads, spareFactor: o.spareFactor, blocksPerSegment: o.blocksPerSegment, logicalBlocks: o.logicalBlocks, settleFactor: o.settle, measureFactor: o.writes, seed: o.seed, onProgress: progress })
        : [];
      results.push(...proxied);
      const summary = summarize(results);
      writeSvg(o.plot, matrixChart(results, `Write amplification, spare factor ${o.spareFactor}, ${o.blocksPerSegment} blocks/segment`));
      const proxySummary = proxied.map((r) => {
        const s = summary.find((x) => x.workload === r.workload);
        const vs = (x: number | undefined): number | undefined => (x ? r.writeAmplification / x : undefined);
        return {
          workload: r.workload,
          finalMode: r.finalMode,
          writeAmplification: r.writeAmplification,
          vsBestClassical: vs(s?.bestClassicalWa),
          vsRateOracle: vs(s?.rateOracleWa),
          vsVictimOracle: vs(s?.victimOracleWa),
          vsOracle: vs(s?.oracleWa),
          transitions: r.transitions.map((t) => `${t.from} -> ${t.to} (${t.reason})`),
        };
      });
      if (o.json) return print(JSON.stringify({ plot: o.plot, results: results.map((r) => ("transitions" in r ? { ...r, transitions: (r as ProxyRow).transitions.map((t) => ({ from: t.from, to: t.to, reason: t.reason, detail: t.detail })) } : r)), summary, proxy: proxySummary }, null, 2));
      print(waTable(results));
      print("");
      print(
        table(
          ["workload", "best classical", "WA", "ml WA", "ml/best", "ml/rate-oracle", "ml/victim-oracle", "ml/oracle", "ml/greedy"],
          summary.map((s) => [
            s.workload,
            s.bestClassical,
            s.bestClassicalWa.toFixed(3),
            s.mlWa?.toFixed(3) ?? "-",
            s.mlVsBestClassical?.toFixed(3) ?? "-",
            s.mlVsRateOracle?.toFixed(3) ?? "-",
            s.mlVsVictimOracle?.toFixed(3) ?? "-",
            s.mlVsOracle?.toFixed(3) ?? "-",
            s.mlVsGreedy?.toFixed(3) ?? "-",
          ]),
        ),
      );
      if (proxied.length > 0) {
        print("");
        print(
          table(
            [`${PROXY_POLICY} (learned policy through the proxy)`, "final mode", "WA", "vs best classical", "vs rate-oracle", "vs victim-oracle", "vs oracle", "transitions"],
            proxySummary.map((p) => [
              p.workload,
              p.finalMode,
              p.writeAmplification.toFixed(3),
              ...[p.vsBestClassical, p.vsRateOracle, p.vsVictimOracle, p.vsOracle].map((x) => x?.toFixed(3) ?? "-"),
              p.transitions.join(", ") || "none",
            ]),
          ),
        );
      }
      print("\nrate-oracle: knows each block's true overwrite rate (synthetic workloads), learned placement and victim rule on it;");
      print("victim-oracle: the learned placement, victims chosen knowing every future overwrite; oracle: knows every future overwrite,");
      print("places and chooses victims by it (out of reach of any causal policy: docs/lfs-gc-oracles.md).");
      print(`\nplot: ${o.plot}`);
    });

  registerProxyCommand(gc, { positiveInt, fraction, positive, print, table });

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

/**
 * `--workloads`: split (sequences kept whole) and each synthetic one built once, so a bad name
 * fails before the matrix runs, naming the entry (and the part of a sequence).
 */
function checkedWorkloads(text: string, logicalBlocks: number): string[] {
  try {
    const ws = splitWorkloadList(text);
    for (const w of ws) if (!w.startsWith("trace")) makeWorkload(w, { logicalBlocks, seed: 1 }); // traces are read when run
    return ws;
  } catch (e) {
    if (e instanceof KmlibError) throw new KmlibError(e.code, `--workloads: ${e.message}`, { cause: e });
    throw e;
  }
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
