/**
 * @module subsystems/lfs-gc/policies/oracle
 * The policy that knows the future: from the run's recorded write sequence it knows the
 * exact time each block will next be overwritten. It places writes by true remaining
 * lifetime and picks victims by cost-benefit on the true remaining life of their data (see
 * `lifetime.ts`). No real system can do this; it is the bound the learned policy approaches.
 */
import { ErrorCode, KmlibError } from "../../../errors.ts";
import { NEVER } from "../future.ts";
import type { FutureIndex } from "../future.ts";
import type { GcPolicy } from "../policy.ts";
import { SegmentLedger, defaultLifetimeOptions, lifetimeClass } from "./lifetime.ts";
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
