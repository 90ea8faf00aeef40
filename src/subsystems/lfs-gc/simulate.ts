/**
 * @module subsystems/lfs-gc/simulate
 * One simulation run: build the store for a policy, fill the device once sequentially, run a
 * warm-up so GC reaches its steady state, then measure write amplification over a window.
 * Policies that know the future (the oracle) get the run's whole write sequence recorded in
 * advance; everything else reads the workload as it streams.
 */
import { ErrorCode, KmlibError } from "../../errors.ts";
import { FutureIndex, RecordedWorkload } from "./future.ts";
import type { GcPolicy } from "./policy.ts";
import { LogStore } from "./store.ts";
import type { Workload } from "./workload.ts";

/** What a policy factory gets: the run's future when it asked for it, and a seed. */
export interface PolicyContext {
  logicalBlocks: number;
  blocksPerSegment: number;
  seed: number;
  future?: FutureIndex;
  /** The workload as given (its `trueRate` is ground truth for the rate oracle). */
  workload?: Workload;
}

export interface PolicyFactory {
  (ctx: PolicyContext): GcPolicy;
  /** True when the policy needs `ctx.future` (it is an oracle). */
  readonly needsFuture?: boolean;
}

export interface SimOptions {
  policy: PolicyFactory;
  workload: Workload;
  spareFactor: number;
  blocksPerSegment: number;
  /** Host writes after the fill before measuring; default 4 × logical blocks. */
  warmupWrites?: number;
  /** Host writes measured; default 8 × logical blocks. */
  measureWrites?: number;
  seed?: number;
  /** Called every batch with the share of the run done, in [0, 1]. */
  onProgress?: (done: number) => void;
}

export interface SimResult {
  policy: string;
  workload: string;
  spareFactor: number;
  blocksPerSegment: number;
  logicalBlocks: number;
  segments: number;
  hostWrites: number;
  gcWrites: number;
  writeAmplification: number;
  /** Wall time of the warm-up and measured writes, seconds. */
  seconds: number;
  /** Host writes simulated per second (fill excluded). */
  writesPerSecond: number;
}

const BATCH = 1 << 14;

export function simulate(opts: SimOptions): SimResult {
  const u = opts.workload.logicalBlocks;
  const warmup = opts.warmupWrites ?? 4 * u;
  const measure = opts.measureWrites ?? 8 * u;
  if (!(Number.isInteger(warmup) && warmup >= 0 && Number.isInteger(measure) && measure > 0)) {
    throw new KmlibError(ErrorCode.InvalidArgument, `warm-up and measured writes must be non-negative integers (measure > 0): ${warmup}, ${measure}`);
  }
  const fill = new Int32Array(u);
  for (let i = 0; i < u; i++) fill[i] = i;
  let workload = opts.workload;
  const ctx: PolicyContext = { logicalBlocks: u, blocksPerSegment: opts.blocksPerSegment, seed: opts.seed ?? 1, workload: opts.workload };
  if (opts.policy.needsFuture) {
    ctx.future = FutureIndex.record(workload, fill, warmup + measure);
    workload = new RecordedWorkload(workload.name, u, ctx.future.seq, u);
  }
  const policy = opts.policy(ctx);
  const store = new LogStore({ logicalBlocks: u, blocksPerSegment: opts.blocksPerSegment, spareFactor: opts.spareFactor }, policy);
  store.writeBatch(fill, u);
  const buf = new Int32Array(BATCH);
  const total = warmup + measure;
  const t0 = process.hrtime.bigint();
  let done = 0;
  const run = (n: number): void => {
    while (n > 0) {
      const k = Math.min(n, BATCH);
      workload.next(buf, k);
      store.writeBatch(buf, k);
      n -= k;
      done += k;
      opts.onProgress?.(done / total);
    }
  };
  run(warmup);
  store.resetCounters();
  run(measure);
  const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
  const { hostWrites, gcWrites } = store.counters;
  return {
    policy: policy.name,
    workload: opts.workload.name,
    spareFactor: opts.spareFactor,
    blocksPerSegment: opts.blocksPerSegment,
    logicalBlocks: u,
    segments: store.segments,
    hostWrites,
    gcWrites,
    writeAmplification: (hostWrites + gcWrites) / hostWrites,
    seconds,
    writesPerSecond: total / seconds,
  };
}
