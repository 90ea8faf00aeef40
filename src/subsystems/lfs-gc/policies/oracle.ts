/**
 * @module subsystems/lfs-gc/policies/oracle
 * The policy that knows the future: from the run's recorded write sequence it knows the
 * exact time each block will next be overwritten. It places writes by true remaining
 * lifetime and picks victims by cost-benefit on the true remaining life of their data (see
 * `lifetime.ts`). No real system can do this; it is the bound the learned policy approaches.
 *
 * The rate oracle knows less: each block's true overwrite probability, from the synthetic
 * workload's definition, but not when the next overwrite comes. It is what a perfect
 * popularity predictor reaches with the same placement and victim rule as the learned policy,
 * so the gap between the two measures the learner alone.
 */
import { ErrorCode, KmlibError } from "../../../errors.ts";
import { NEVER } from "../future.ts";
import type { FutureIndex } from "../future.ts";
import type { GcPolicy } from "../policy.ts";
import type { Workload } from "../workload.ts";
import { LogUsage, SegmentLedger, defaultLifetimeOptions, lifetimeClass } from "./lifetime.ts";
import type { LifetimeOptions } from "./lifetime.ts";

export function oracle(future: FutureIndex | undefined, logicalBlocks: number, options: Partial<LifetimeOptions> = {}): GcPolicy {
  if (!future) throw new KmlibError(ErrorCode.InvalidArgument, "the oracle needs the run's recorded future");
  const opts = { ...defaultLifetimeOptions, ...options };
  const ledger = new SegmentLedger(logicalBlocks, "death");
  const { nextPos } = future;
  return {
    name: "oracle",
    logs: opts.logs,
    attach: (view) => ledger.attach(view),
    onHostWrite(lba, _prev, view) {
      const k = view.now; // host write number k (0-based) lands at time k + 1
      const next = nextPos[k];
      if (next === undefined) throw new KmlibError(ErrorCode.IllegalState, `oracle: write ${k} beyond the recorded future`);
      ledger.invalidate(lba, view);
      ledger.setDeath(lba, next === NEVER ? Infinity : next + 1, k + 1);
    },
    onPlaced: (lba, seg, view) => ledger.placed(lba, seg, view),
    hostLog: (lba, view) => lifetimeClass(ledger.remaining(lba, view.now), logicalBlocks, opts.logs),
    gcLog: (lba, _victim, view) => lifetimeClass(ledger.remaining(lba, view.now), logicalBlocks, opts.logs),
    selectVictim: (view) => ledger.selectVictim(view),
  };
}

export function rateOracle(workload: Workload | undefined, logicalBlocks: number, options: Partial<LifetimeOptions> = {}): GcPolicy {
  const truth = workload?.trueRate?.bind(workload);
  if (!truth) throw new KmlibError(ErrorCode.InvalidArgument, `the rate oracle needs a synthetic workload that knows its rates${workload ? ` (${workload.name} does not)` : ""}`);
  const opts = { ...defaultLifetimeOptions, ...options };
  const ledger = new SegmentLedger(logicalBlocks, "rate");
  // The learned policy's placement rule, logs in use included (lifetime.ts).
  const usage = new LogUsage(opts.logs);
  // The store's clock counts the initial fill; the workload's does not.
  const rate = (lba: number, now: number): number => truth(lba, now - logicalBlocks);
  return {
    name: "rate-oracle",
    logs: opts.logs,
    attach(view) {
      ledger.attach(view);
      usage.attach(view);
    },
    onHostWrite(lba, _prev, view) {
      ledger.invalidate(lba, view);
      ledger.setLife(lba, 1 / rate(lba, view.now));
    },
    onPlaced: (lba, seg, view) => ledger.placed(lba, seg, view),
    hostLog: (lba, view) => usage.log(lifetimeClass(ledger.remaining(lba, view.now), logicalBlocks, opts.logs)),
    gcLog(lba, _victim, view) {
      ledger.setLife(lba, 1 / rate(lba, view.now));
      return usage.log(lifetimeClass(ledger.remaining(lba, view.now), logicalBlocks, opts.logs));
    },
    selectVictim: (view) => ledger.selectVictim(view),
  };
}
