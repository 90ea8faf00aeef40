/**
 * @module cli/commands/gc-proxy
 * `kmlib gc proxy`: the learned GC policy through the ml-lib proxy, scenario by scenario: the
 * agent learns the lifetime table from the published history, deploys it, recommends victims,
 * and the mode controller moves the proxy on paired per-epoch WA outcomes (the model's WA
 * against the default's on a copy of the device fed the same writes). Prints every transition
 * with its reason and evidence, WA per mode, and the WA of each phase. A scenario is a
 * workload or a sequence `A@COUNT,...,Z` (the registry's spelling, as `kmlib agent` takes it),
 * each part a phase, the last one running `--writes`: the shift under which the model should
 * be demoted. The older `A>B` stays as an alias of `A@Wx,B` (W = --writes: B starts halfway).
 */
import { type Command, Option } from "commander";
import { FALLBACKS, type Fallback } from "../../subsystems/lfs-gc/proxy/adapter.ts";
import { type GcSessionResult, runGcSession } from "../../subsystems/lfs-gc/proxy/session.ts";
import { ErrorCode, KmlibError } from "../../errors.ts";
import { ShiftedWorkload, makeWorkload, splitWorkloadList } from "../../subsystems/lfs-gc/registry.ts";
import type { Phase } from "../../subsystems/lfs-gc/proxy/session.ts";

export interface CliHelpers {
  positiveInt(v: string): number;
  fraction(v: string): number;
  positive(v: string): number;
  print(s: string): void;
  table(head: string[], rows: string[][]): string;
}

interface ScenarioResult {
  readonly scenario: string;
  readonly result: GcSessionResult;
}

function byMode(r: GcSessionResult): Array<{ mode: string; epochs: number; modelWa: number; defaultWa: number; gain: number }> {
  const modes = [...new Set(r.epochs.map((e) => e.mode))];
  return modes.map((mode) => {
    const es = r.epochs.filter((e) => e.mode === mode);
    const mean = (f: (e: (typeof es)[number]) => number) => es.reduce((a, e) => a + f(e), 0) / es.length;
    return { mode, epochs: es.length, modelWa: mean((e) => e.modelWa), defaultWa: mean((e) => e.defaultWa), gain: mean((e) => e.gain) };
  });
}

export function registerProxyCommand(gc: Command, h: CliHelpers): void {
  gc.command("proxy")
    .description("the learned policy through the ml-lib proxy: mode controller transitions (with reasons and evidence) and WA per scenario")
    .option(
      "--scenarios <list>",
      "workloads, comma-separated; a sequence A@COUNT,...,Z (COUNT host writes or Nx logical blocks) is one scenario, each part a phase; A>B is kept as an alias of A@Wx,B (W = --writes: B starts halfway)",
      "hotcold-90-10,zipf-1.0,uniform,hotcold-90-10>uniform",
    )
    .option("--writes <x>", "host writes of a scenario's last (or only) phase, in multiples of the logical blocks", h.positive, 20)
    .option("--logical-blocks <n>", "logical blocks", h.positiveInt, 16384)
    .option("--blocks-per-segment <n>", "blocks per segment", h.positiveInt, 32)
    .option("--spare-factor <f>", "over-provisioning of the data area", h.fraction, 0.1)
    .option("--epoch <x>", "host writes per evaluation epoch, in multiples of the logical blocks", h.positive, 1)
    .addOption(new Option("--fallback <policy>", "the default algorithm, guard and reference").choices([...FALLBACKS]).default("greedy"))
    .option("--seed <n>", "workload seed", h.positiveInt, 1)
    .option("--json", "print every scenario's transitions, epochs and phases as JSON")
    .action(async (o) => {
      const u = o.logicalBlocks as number;
      const out: ScenarioResult[] = [];
      const scenarios = prefixed("--scenarios", () => splitWorkloadList(o.scenarios as string));
      const built = scenarios.map((scenario) => ({ scenario, phases: scenarioPhases(scenario, u, o.seed as number, o.writes as number) })); // all checked before any runs
      for (const { scenario, phases } of built) {
        const result = await runGcSession({
          phases,
          adapter: { logicalBlocks: u, blocksPerSegment: o.blocksPerSegment, spareFactor: o.spareFactor, epochWrites: Math.max(1, Math.round((o.epoch as number) * u)), fallback: o.fallback as Fallback, seed: o.seed },
        });
        out.push({ scenario, result });
        if (!o.json) {
          h.print(`${scenario}: final mode ${result.finalMode}; ${result.modelVersions} table versions deployed, ${result.recommendations} victim recommendations, ${result.feedback} feedback records`);
          for (const p of result.phases) h.print(`  phase ${p.workload}: WA ${p.writeAmplification.toFixed(3)} (${p.hostWrites} host writes), ended in ${p.mode}`);
          h.print(
            h
              .table(
                ["mode", "epochs", "model WA", "default WA", "mean gain"],
                byMode(result).map((m) => [m.mode, String(m.epochs), m.modelWa.toFixed(3), m.defaultWa.toFixed(3), `${(100 * m.gain).toFixed(1)}%`]),
              )
,
          );
          for (const t of result.transitions) h.print(`  ${t.from} -> ${t.to} (${t.reason}): ${t.detail}`);
          if (result.transitions.length === 0) h.print("  no transition");
          h.print("");
        }
      }
      if (o.json) {
        h.print(
          JSON.stringify(
            out.map(({ scenario, result: r }) => ({
              scenario,
              finalMode: r.finalMode,
              phases: r.phases,
              byMode: byMode(r),
              transitions: r.transitions.map((t) => ({ from: t.from, to: t.to, reason: t.reason, detail: t.detail, evidence: t.evidence?.paired ?? null })),
              epochs: r.epochs,
            })),
            null,
            2,
          ),
        );
      }
    });
}

/** `A>B>C` as the sequence it stands for: each part but the last for `writes` x logical blocks. */
export function halfwayAlias(scenario: string, writes: number): string {
  const specs = scenario.split(">");
  if (specs.some((x) => x.includes("@"))) {
    throw new KmlibError(ErrorCode.InvalidArgument, `scenario "${scenario}": A>B (B after --writes) and A@COUNT,B do not mix; write it as one sequence A@COUNT,...,Z`);
  }
  return specs.map((x, i) => (i < specs.length - 1 ? `${x}@${writes}x` : x)).join(",");
}

/**
 * One scenario's phases: a workload alone runs `writes` x logical blocks; each part of a
 * sequence is a phase of its own count, the last one running `writes`. Errors name the scenario.
 */
export function scenarioPhases(scenario: string, logicalBlocks: number, seed: number, writes: number): Phase[] {
  const last = Math.round(writes * logicalBlocks);
  const w = prefixed("--scenarios", () => makeWorkload(scenario.includes(">") ? halfwayAlias(scenario, writes) : scenario, { logicalBlocks, seed }));
  if (!(w instanceof ShiftedWorkload)) return [{ workload: w, writes: last }];
  return w.parts.map((p) => ({ workload: p.workload, writes: p.writes ?? last }));
}

/** Runs `f`, its KmlibError's message prefixed with the option it came from. */
function prefixed<T>(option: string, f: () => T): T {
  try {
    return f();
  } catch (e) {
    if (e instanceof KmlibError) throw new KmlibError(e.code, `${option}: ${e.message}`, { cause: e });
    throw e;
  }
}
