/**
 * @module subsystems/lfs-gc/policies/classical
 * The hand-written victim policies that ML has to beat, each as its authors describe it:
 *
 * - greedy: fewest valid blocks (F2FS foreground GC; Desnoyers' "greedy").
 * - fifo: oldest sealed segment, whatever it holds (Desnoyers' LRW).
 * - windowed greedy: greedy among the W oldest sealed segments (Hu et al.).
 * - d-choices: greedy among d segments drawn at random (Van Houdt).
 * - cost-benefit: max (1-u)·age/(1+u), age = since the youngest block's write (Rosenblum &
 *   Ousterhout's LFS); cleaned data goes to its own log, as LFS writes it apart.
 * - f2fs-cb: F2FS's background cost-benefit (get_cb_cost): age of the segment's mean block
 *   mtime normalised between the oldest and the newest, u in percent; moved blocks go to the
 *   cold log as F2FS marks them.
 * - cat: cost-age-times (Chiang et al.): min u/(1-u) · 1/age · (erase count + 1).
 * - atgc: like F2FS's age-threshold GC: only segments older than a threshold compete, scored
 *   60% on age and 40% on free space; moved blocks go to a separate log.
 *
 * Single-log policies keep Desnoyers' set-up: GC copies land in the host's write log.
 */
import { Rng } from "../rng.ts";
import { SegState } from "../policy.ts";
import type { GcPolicy, GcView } from "../policy.ts";

/** Host writes to log 0, relocated blocks to log 1 (F2FS: warm data vs cold data). */
const gcToColdLog = { logs: 2, gcLog: (): number => 1 } as const;

export function greedy(): GcPolicy {
  return { name: "greedy", logs: 1, selectVictim: (v) => v.minValidSegment() };
}

export function fifo(): GcPolicy {
  return { name: "fifo", logs: 1, selectVictim: (v) => v.oldestSealed() };
}

/** @param window how many of the oldest sealed segments compete; default 1/8 of the device. */
export function windowedGreedy(window?: number): GcPolicy {
  let best = -1;
  let bestValid = 0;
  let seen = 0;
  let limit = 0;
  let view: GcView | undefined;
  const visit = (seg: number): boolean => {
    const valid = view!.segValid[seg]!;
    if (best < 0 || valid < bestValid) {
      best = seg;
      bestValid = valid;
    }
    return ++seen < limit;
  };
  return {
    name: "windowed-greedy",
    logs: 1,
    selectVictim(v) {
      view = v;
      best = -1;
      seen = 0;
      limit = window ?? Math.max(2, v.segments >> 3);
      v.forEachSealedOldestFirst(visit);
      return best;
    },
  };
}

export function dChoices(d = 10, seed = 7): GcPolicy {
  const rng = new Rng(seed);
  return {
    name: "d-choices",
    logs: 1,
    selectVictim(v) {
      let best = -1;
      let bestValid = 0;
      for (let k = 0, tries = 0; k < d && tries < 64 * d; tries++) {
        const seg = rng.below(v.segments);
        if (v.segState[seg] !== SegState.Sealed) continue;
        k++;
        const valid = v.segValid[seg]!;
        if (best < 0 || valid < bestValid) {
          best = seg;
          bestValid = valid;
        }
      }
      return best >= 0 ? best : v.minValidSegment();
    },
  };
}

export function costBenefit(): GcPolicy {
  return {
    name: "cost-benefit",
    ...gcToColdLog,
    selectVictim(v) {
      const b = v.blocksPerSegment;
      let best = -1;
      let bestScore = -1;
      for (let s = 0; s < v.segments; s++) {
        if (v.segState[s] !== SegState.Sealed) continue;
        const u = v.segValid[s]! / b;
        const age = v.now - v.segMtimeMax[s]! + 1;
        const score = ((1 - u) * age) / (1 + u);
        if (score > bestScore) {
          bestScore = score;
          best = s;
        }
      }
      return best;
    },
  };
}

export function f2fsCostBenefit(): GcPolicy {
  return {
    name: "f2fs-cb",
    ...gcToColdLog,
    selectVictim(v) {
      const b = v.blocksPerSegment;
      let minM = Infinity;
      for (let s = 0; s < v.segments; s++) {
        if (v.segState[s] !== SegState.Sealed) continue;
        const m = v.segMtimeSum[s]! / v.segWritten[s]!;
        if (m < minM) minM = m;
      }
      const span = Math.max(1, v.now - minM);
      let best = -1;
      let bestCost = Infinity;
      for (let s = 0; s < v.segments; s++) {
        if (v.segState[s] !== SegState.Sealed) continue;
        const m = v.segMtimeSum[s]! / v.segWritten[s]!;
        // Integer arithmetic as in fs/f2fs/gc.c: u and age in percent.
        const u = Math.floor((v.segValid[s]! * 100) / b);
        const age = 100 - Math.floor((100 * (m - minM)) / span);
        const cost = -Math.floor((100 * (100 - u) * age) / (100 + u));
        if (cost < bestCost) {
          bestCost = cost;
          best = s;
        }
      }
      return best;
    },
  };
}

export function costAgeTimes(): GcPolicy {
  return {
    name: "cat",
    ...gcToColdLog,
    selectVictim(v) {
      const b = v.blocksPerSegment;
      let best = -1;
      let bestCost = Infinity;
      for (let s = 0; s < v.segments; s++) {
        if (v.segState[s] !== SegState.Sealed) continue;
        const valid = v.segValid[s]!;
        if (valid === b) continue;
        const u = valid / b;
        const age = v.now - v.segMtimeMax[s]! + 1;
        const cost = ((u / (1 - u)) * (v.segEraseCount[s]! + 1)) / age;
        if (cost < bestCost) {
          bestCost = cost;
          best = s;
        }
      }
      return best >= 0 ? best : v.minValidSegment();
    },
  };
}

/**
 * @param ageThreshold minimum age in host writes (default: one logical device's worth).
 * @param ageWeight weight of age against free space, in percent (F2FS: 60).
 */
export function ageThresholdGc(ageThreshold?: number, ageWeight = 60): GcPolicy {
  return {
    name: "atgc",
    ...gcToColdLog,
    selectVictim(v) {
      const b = v.blocksPerSegment;
      const threshold = ageThreshold ?? v.logicalBlocks;
      let minM = Infinity;
      for (let s = 0; s < v.segments; s++) {
        if (v.segState[s] !== SegState.Sealed) continue;
        const m = v.segMtimeSum[s]! / v.segWritten[s]!;
        if (m < minM) minM = m;
      }
      const span = Math.max(1, v.now - minM);
      let best = -1;
      let bestScore = -1;
      for (let s = 0; s < v.segments; s++) {
        if (v.segState[s] !== SegState.Sealed) continue;
        const m = v.segMtimeSum[s]! / v.segWritten[s]!;
        const age = v.now - m;
        if (age < threshold) continue;
        const score = (ageWeight * (age / span) + (100 - ageWeight) * ((b - v.segValid[s]!) / b)) / 100;
        if (score > bestScore) {
          bestScore = score;
          best = s;
        }
      }
      // No segment old enough: F2FS falls back to its ordinary victim search.
      return best >= 0 && v.segValid[best]! < b ? best : v.minValidSegment();
    },
  };
}
