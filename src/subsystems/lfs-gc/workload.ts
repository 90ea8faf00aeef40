/**
 * @module subsystems/lfs-gc/workload
 * Synthetic write streams for the simulator: uniform random overwrites (the Desnoyers
 * baseline), hot/cold (Rosenblum's model: a fraction of the writes goes to a fraction of the
 * data), Zipf skew, and phase changes (the hot set moves). A workload is an endless stream of
 * logical block numbers in [0, logicalBlocks), produced in batches into a caller's buffer so
 * the simulator's loop allocates nothing. Same seed, same stream.
 */
import { ErrorCode, KmlibError } from "../../errors.ts";
import { Rng } from "./rng.ts";

export interface Workload {
  /** Stable name used in reports, e.g. `hotcold-90-10`, `zipf-1.0`, `trace:tpcc-small`. */
  readonly name: string;
  readonly logicalBlocks: number;
  /** Writes the next `n` block numbers into `out[0..n)`. */
  next(out: Int32Array, n: number): void;
  /**
   * Ground truth of synthetic workloads: the probability that write number `t` (0-based,
   * counted from the workload's first write) goes to `lba`. Read by the rate oracle.
   */
  trueRate?(lba: number, t: number): number;
}

export class UniformWorkload implements Workload {
  readonly name = "uniform";
  private readonly rng: Rng;
  constructor(
    readonly logicalBlocks: number,
    seed = 1,
  ) {
    this.rng = new Rng(seed);
  }
  next(out: Int32Array, n: number): void {
    const rng = this.rng;
    const u = this.logicalBlocks;
    for (let i = 0; i < n; i++) out[i] = rng.below(u);
  }
  trueRate(): number {
    return 1 / this.logicalBlocks;
  }
}

/**
 * Rosenblum's hot/cold model: `hotWriteFraction` of the writes go uniformly to the first
 * `hotDataFraction` of the blocks, the rest uniformly to the others. 80/20 means 80% of writes
 * to 20% of the data.
 */
export class HotColdWorkload implements Workload {
  readonly name: string;
  private readonly rng: Rng;
  private readonly hotBlocks: number;
  constructor(
    readonly logicalBlocks: number,
    readonly hotWriteFraction: number,
    readonly hotDataFraction: number,
    seed = 1,
  ) {
    if (!(hotDataFraction > 0 && hotDataFraction < 1 && hotWriteFraction > 0 && hotWriteFraction < 1)) {
      throw new KmlibError(ErrorCode.InvalidArgument, `hot/cold fractions must lie in (0, 1): ${hotWriteFraction}/${hotDataFraction}`);
    }
    this.rng = new Rng(seed);
    this.hotBlocks = Math.max(1, Math.round(logicalBlocks * hotDataFraction));
    this.name = `hotcold-${Math.round(hotWriteFraction * 100)}-${Math.round(hotDataFraction * 100)}`;
  }
  next(out: Int32Array, n: number): void {
    const { rng, hotBlocks, hotWriteFraction } = this;
    const cold = this.logicalBlocks - hotBlocks;
    for (let i = 0; i < n; i++) {
      out[i] = rng.nextFloat() < hotWriteFraction ? rng.below(hotBlocks) : hotBlocks + rng.below(cold);
    }
  }
  trueRate(lba: number): number {
    return lba < this.hotBlocks ? this.hotWriteFraction / this.hotBlocks : (1 - this.hotWriteFraction) / (this.logicalBlocks - this.hotBlocks);
  }
}

/**
 * Zipf popularity: rank k (1-based) is written with probability ∝ 1/k^skew. Ranks are
 * scattered over the address space by a seeded permutation. Sampling is O(1) through
 * Walker's alias table.
 */
export class ZipfWorkload implements Workload {
  readonly name: string;
  private readonly rng: Rng;
  private readonly prob: Float64Array;
  private readonly alias: Int32Array;
  private readonly perm: Int32Array;
  private readonly weight: Float64Array;
  private readonly rankOf: Int32Array;
  private readonly total: number;
  constructor(
    readonly logicalBlocks: number,
    readonly skew: number,
    seed = 1,
  ) {
    if (!(skew >= 0 && skew <= 4)) throw new KmlibError(ErrorCode.InvalidArgument, `zipf skew out of range [0, 4]: ${skew}`);
    this.name = `zipf-${skew.toFixed(1)}`;
    this.rng = new Rng(seed);
    const n = logicalBlocks;
    const w = new Float64Array(n);
    let sum = 0;
    for (let k = 0; k < n; k++) sum += w[k] = Math.pow(k + 1, -skew);
    [this.prob, this.alias] = aliasTable(w, sum);
    this.perm = permutation(n, new Rng(seed ^ 0x5bd1e995));
    this.weight = w;
    this.total = sum;
    this.rankOf = new Int32Array(n);
    for (let k = 0; k < n; k++) this.rankOf[this.perm[k]!] = k;
  }
  trueRate(lba: number): number {
    return this.weight[this.rankOf[lba]!]! / this.total;
  }
  next(out: Int32Array, n: number): void {
    const { rng, prob, alias, perm } = this;
    const u = this.logicalBlocks;
    for (let i = 0; i < n; i++) {
      const k = rng.below(u);
      out[i] = perm[rng.nextFloat() < prob[k]! ? k : alias[k]!]!;
    }
  }
}

/**
 * Phase changes: hot/cold writes whose hot set moves to a different region every
 * `phaseLength` writes, so whatever a policy learned about hotness goes stale.
 */
export class PhasedWorkload implements Workload {
  readonly name: string;
  private readonly rng: Rng;
  private readonly hotBlocks: number;
  private written = 0;
  private offset = 0;
  /** Hot-region offset of every phase so far (the truth the rate oracle reads). */
  private readonly offsets: number[] = [0];
  constructor(
    readonly logicalBlocks: number,
    readonly phaseLength: number,
    readonly hotWriteFraction = 0.9,
    hotDataFraction = 0.1,
    seed = 1,
  ) {
    this.rng = new Rng(seed);
    this.hotBlocks = Math.max(1, Math.round(logicalBlocks * hotDataFraction));
    this.name = `phases-${Math.round(hotWriteFraction * 100)}-${Math.round(hotDataFraction * 100)}`;
  }
  next(out: Int32Array, n: number): void {
    const { rng, hotBlocks, hotWriteFraction } = this;
    const u = this.logicalBlocks;
    const cold = u - hotBlocks;
    for (let i = 0; i < n; i++) {
      if (this.written++ % this.phaseLength === 0 && this.written > 1) {
        // The next hot region is a fresh, mostly cold part of the address space.
        this.offset = (this.offset + hotBlocks * 3 + rng.below(hotBlocks)) % u;
        this.offsets.push(this.offset);
      }
      const r = rng.nextFloat() < hotWriteFraction ? rng.below(hotBlocks) : hotBlocks + rng.below(cold);
      const b = r + this.offset;
      out[i] = b >= u ? b - u : b;
    }
  }
  trueRate(lba: number, t: number): number {
    const phase = Math.min(Math.floor(Math.max(0, t) / this.phaseLength), this.offsets.length - 1);
    let r = lba - this.offsets[phase]!;
    if (r < 0) r += this.logicalBlocks;
    return r < this.hotBlocks ? this.hotWriteFraction / this.hotBlocks : (1 - this.hotWriteFraction) / (this.logicalBlocks - this.hotBlocks);
  }
}

/** Walker's alias method: O(n) set-up, O(1) draws. */
function aliasTable(w: Float64Array, sum: number): [Float64Array, Int32Array] {
  const n = w.length;
  const prob = new Float64Array(n);
  const alias = new Int32Array(n);
  const small = new Int32Array(n);
  const large = new Int32Array(n);
  let ns = 0;
  let nl = 0;
  for (let i = 0; i < n; i++) {
    prob[i] = (w[i]! * n) / sum;
    if (prob[i]! < 1) small[ns++] = i;
    else large[nl++] = i;
  }
  while (ns > 0 && nl > 0) {
    const s = small[--ns]!;
    const l = large[nl - 1]!;
    alias[s] = l;
    prob[l] = prob[l]! + prob[s]! - 1;
    if (prob[l]! < 1) {
      nl--;
      small[ns++] = l;
    }
  }
  while (nl > 0) prob[large[--nl]!] = 1;
  while (ns > 0) prob[small[--ns]!] = 1;
  return [prob, alias];
}

function permutation(n: number, rng: Rng): Int32Array {
  const p = new Int32Array(n);
  for (let i = 0; i < n; i++) p[i] = i;
  for (let i = n - 1; i > 0; i--) {
    const j = rng.below(i + 1);
    const t = p[i]!;
    p[i] = p[j]!;
    p[j] = t;
  }
  return p;
}
