/**
 * @module subsystems/netguard/e2e/swap
 * Zero packets lost across model swaps under load: one attacker sends a counted UDP stream
 * (hping3 `-c N`) at the server while user space swaps two compiled models in the model slot
 * every few milliseconds (each swap one atomic PROG_ARRAY update). Every packet sent must
 * show up in the kernel's records (sent vs seen), judged by one generation or another.
 */
import type { Program } from "../../../bpf/index.ts";
import { ErrorCode, KmlibError } from "../../../errors.ts";
import { runTraffic, type Lab } from "../lab/index.ts";
import type { NetguardAdapter } from "./adapter.ts";
import type { RecordLabels } from "./flows.ts";
import { buildNetguardModelProgram, type NetguardModel } from "./model-program.ts";

export interface SwapResult {
  /** Packets the generator reports sent. */
  readonly sent: number;
  /** Packets of that stream the data path recorded. */
  readonly seen: number;
  /** sent - seen (never negative: duplicates would be a bug of their own). */
  readonly lost: number;
  readonly swaps: number;
  /** Model generations that judged packets of the stream. */
  readonly generations: number;
  /** Records the kernel could not queue during the test (then `seen` undercounts). */
  readonly ringbufFail: number;
  readonly durationMs: number;
  readonly from: string;
  readonly port: number;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

export async function swapUnderLoad(
  lab: Lab,
  adapter: NetguardAdapter,
  labels: RecordLabels,
  alternate: NetguardModel,
  o: { from?: string; count?: number; intervalUs?: number; swapEveryMs?: number; port?: number } = {},
): Promise<SwapResult> {
  const dp = adapter.dataPath;
  const original = dp.model;
  if (!original) throw new KmlibError(ErrorCode.IllegalState, "swap test: no model in the slot");
  const from = o.from ?? lab.plan.attackers[0]!.id;
  const port = o.port ?? 9;
  const other = dp.loadModel(buildNetguardModelProgram(alternate, dp.spec.attach, "ng_model_alt"));
  let seen = 0;
  const gens = new Set<number>();
  const off = adapter.subscribe((recs) => {
    for (const r of recs) {
      if (r.key.proto !== 17 || (r.key.portA !== port && r.key.portB !== port) || labels.host(r) !== from) continue;
      seen++;
      gens.add(r.generation);
    }
  });
  const fail0 = dp.stats().ringbufFail;
  let swaps = 0;
  let current: Program = original;
  const t0 = Date.now();
  const timer = setInterval(() => {
    const next = current === original ? other : original;
    dp.swapModel(next);
    current = next;
    swaps++;
  }, o.swapEveryMs ?? 5);
  try {
    const run = await runTraffic(lab, { kind: "udp-flood", from, count: o.count ?? 20_000, port, intervalUs: o.intervalUs ?? 100, maxMs: 20_000 });
    clearInterval(timer);
    await sleep(300);
    adapter.drain();
    const sent = run.stats.sent ?? 0;
    return { sent, seen, lost: Math.max(0, sent - seen), swaps, generations: gens.size, ringbufFail: Number(dp.stats().ringbufFail - fail0), durationMs: Date.now() - t0, from, port };
  } finally {
    clearInterval(timer);
    off();
    if (current !== original) dp.swapModel(original);
    other.close();
  }
}
