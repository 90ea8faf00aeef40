/**
 * @module subsystems/lfs-gc/proxy/bench
 * The proxied learned policy as a row of the GC benchmark: per workload, one agent session
 * (learning first, the controller moving the mode on paired WA evidence), then write
 * amplification measured over the final stretch in whatever mode the controller settled on.
 * Rows have the shape of `simulate`'s results (policy `ml-proxy`) plus the final mode and the
 * transitions, so tables and plots put them beside every other policy.
 */
import type { Transition } from "../../../proxy/controller.ts";
import type { Mode } from "../../../proxy/mode.ts";
import { makeWorkload } from "../registry.ts";
import type { SimResult } from "../simulate.ts";
import type { Fallback } from "./adapter.ts";
import { runGcSession } from "./session.ts";

export const PROXY_POLICY = "ml-proxy";

export interface ProxyRow extends SimResult {
  readonly finalMode: Mode;
  readonly transitions: readonly Transition[];
  /** Mean paired gain of the evaluated epochs in the final mode. */
  readonly finalModeGain: number | undefined;
}

export interface ProxyBenchOptions {
  readonly workloads: readonly string[];
  readonly spareFactor: number;
  readonly blocksPerSegment: number;
  readonly logicalBlocks: number;
  /** Writes before measuring (the controller's time to decide), in logical blocks. */
  readonly settleFactor: number;
  readonly measureFactor: number;
  readonly seed: number;
  readonly fallback?: Fallback;
  readonly onProgress?: (msg: string) => void;
}

export async function proxyRow(spec: string, o: Omit<ProxyBenchOptions, "workloads" | "onProgress">): Promise<ProxyRow> {
  const workload = makeWorkload(spec, { logicalBlocks: o.logicalBlocks, seed: o.seed });
  const u = workload.logicalBlocks;
  const t0 = process.hrtime.bigint();
  const r = await runGcSession({
    phases: [
      { workload, writes: Math.round(o.settleFactor * u) },
      { workload, writes: Math.round(o.measureFactor * u) },
    ],
    adapter: { logicalBlocks: u, blocksPerSegment: o.blocksPerSegment, spareFactor: o.spareFactor, epochWrites: u, seed: o.seed, fallback: o.fallback ?? "greedy" },
  });
  const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
  const m = r.phases[1]!;
  const last = r.epochs.filter((e) => e.mode === r.finalMode && e.at > r.phases[0]!.hostWrites + u);
  return {
    policy: PROXY_POLICY,
    workload: workload.name,
    spareFactor: o.spareFactor,
    blocksPerSegment: o.blocksPerSegment,
    logicalBlocks: u,
    segments: r.segments,
    hostWrites: m.hostWrites,
    gcWrites: m.gcWrites,
    writeAmplification: m.writeAmplification,
    seconds,
    writesPerSecond: (r.phases[0]!.hostWrites + m.hostWrites) / seconds,
    finalMode: r.finalMode,
    transitions: r.transitions,
    finalModeGain: last.length ? last.reduce((a, e) => a + e.gain, 0) / last.length : undefined,
  };
}

export async function runProxyRows(o: ProxyBenchOptions): Promise<ProxyRow[]> {
  const out: ProxyRow[] = [];
  let i = 0;
  for (const spec of o.workloads) {
    o.onProgress?.(`[${++i}/${o.workloads.length}] ${PROXY_POLICY} on ${spec}`);
    out.push(await proxyRow(spec, o));
  }
  return out;
}

export interface QuantizationRow {
  readonly workload: string;
  /** WA with the deployed u32 table and with the same table unquantised, pinned in recommendation. */
  readonly u32Wa: number;
  readonly floatWa: number;
  readonly seeds: number;
}

/**
 * The quantisation's cost: the proxied policy pinned in recommendation mode with the integer
 * table the kernel holds against the same run with the unrounded table, medians over seeds.
 */
export async function quantizationRow(spec: string, o: Omit<ProxyBenchOptions, "workloads" | "onProgress" | "seed">, seeds = 3): Promise<QuantizationRow> {
  const wa = { u32: [] as number[], float: [] as number[] };
  let name = spec;
  for (let seed = 1; seed <= seeds; seed++) {
    for (const floatTable of [false, true]) {
      const workload = makeWorkload(spec, { logicalBlocks: o.logicalBlocks, seed });
      name = workload.name;
      const u = workload.logicalBlocks;
      const r = await runGcSession({
        phases: [
          { workload, writes: Math.round(o.settleFactor * u) },
          { workload, writes: Math.round(o.measureFactor * u) },
        ],
        pinMode: "recommendation",
        floatTable,
        adapter: { logicalBlocks: u, blocksPerSegment: o.blocksPerSegment, spareFactor: o.spareFactor, epochWrites: 0, seed, fallback: o.fallback ?? "greedy" },
      });
      (floatTable ? wa.float : wa.u32).push(r.phases[1]!.writeAmplification);
    }
  }
  const med = (xs: number[]) => [...xs].sort((a, b) => a - b)[xs.length >> 1]!;
  return { workload: name, u32Wa: med(wa.u32), floatWa: med(wa.float), seeds };
}
