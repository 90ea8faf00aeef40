/**
 * @module subsystems/lfs-gc/store
 * The log-structured store: segments of N blocks, a logical-to-physical map, one or more
 * write logs (streams), and foreground GC triggered by a free-segment threshold. Everything
 * lives in typed arrays sized once; a host write allocates nothing, so the simulator runs at
 * tens of millions of block writes per second.
 *
 * Space accounting: the spare factor is that of the data area, (physical − logical) /
 * physical, as in Desnoyers' model. On top of the data area the store keeps `logs + 1`
 * reserved segments (the GC's headroom, as F2FS keeps reserved segments): GC runs when a log
 * needs a fresh segment and no more than that many are free, so at every GC decision the
 * data area is exactly what the model calls the device.
 *
 * One file, longer than most, on purpose: the write and relocation paths inline each other's
 * arrays (a C twin in anchor/greedy-sim.c runs the same steps and must give the same numbers).
 */
import { ErrorCode, KmlibError } from "../../errors.ts";
import { SegState } from "./policy.ts";
import type { GcPolicy, GcView } from "./policy.ts";

export interface StoreConfig {
  logicalBlocks: number;
  blocksPerSegment: number;
  /** Over-provisioning of the data area, in [0.01, 0.9]. */
  spareFactor: number;
}

export interface StoreCounters {
  hostWrites: number;
  gcWrites: number;
  /** Segments cleaned. */
  victims: number;
}

const NONE = -1;

export class LogStore implements GcView {
  readonly segments: number;
  readonly blocksPerSegment: number;
  readonly logicalBlocks: number;
  readonly spareFactor: number;
  readonly dataSegments: number;
  readonly reservedSegments: number;
  now = 0;
  sealedCount = 0;

  readonly segValid: Int32Array;
  readonly segState: Uint8Array;
  readonly segSealTime: Float64Array;
  readonly segMtimeMax: Float64Array;
  readonly segMtimeSum: Float64Array;
  readonly segWritten: Int32Array;
  readonly segEraseCount: Uint32Array;
  readonly p2l: Int32Array;
  readonly l2p: Int32Array;
  readonly blockTime: Float64Array;
  readonly blockWrites: Uint32Array;

  /** Host writes since the last `resetCounters`. */
  hostWrites = 0;
  /** Blocks relocated by GC since the last `resetCounters`. */
  gcWrites = 0;
  /** Segments cleaned since the last `resetCounters`. */
  victims = 0;

  private readonly policy: GcPolicy;
  private readonly logs: number;
  private readonly active: Int32Array;
  private readonly activeOff: Int32Array;
  private readonly freeStack: Int32Array;
  private freeCount: number;
  // Buckets of sealed segments by valid count (doubly linked), for O(1) greedy choice.
  private readonly bucketHead: Int32Array;
  private readonly bucketNext: Int32Array;
  private readonly bucketPrev: Int32Array;
  private minBucket: number;
  // Seal order ring for FIFO / windowed choices; stale entries are skipped and compacted.
  private readonly ringSeg: Int32Array;
  private readonly ringSeq: Float64Array;
  private readonly segSealSeq: Float64Array;
  private ringHead = 0;
  private ringLen = 0;
  private sealSeq = 0;
  private readonly hasHostLog: boolean;
  private readonly hasGcLog: boolean;
  private readonly hasObserver: boolean;
  private readonly hasPlaced: boolean;

  constructor(config: StoreConfig, policy: GcPolicy) {
    const { logicalBlocks: u, blocksPerSegment: b, spareFactor: sf } = config;
    if (!Number.isInteger(b) || b < 2 || b > 65536) throw new KmlibError(ErrorCode.InvalidArgument, `blocks per segment must be an integer in [2, 65536]: ${b}`);
    if (!Number.isInteger(u) || u < b) throw new KmlibError(ErrorCode.InvalidArgument, `logical blocks must be an integer >= blocks per segment: ${u}`);
    if (!(sf >= 0.01 && sf <= 0.9)) throw new KmlibError(ErrorCode.InvalidArgument, `spare factor must lie in [0.01, 0.9]: ${sf}`);
    if (!Number.isInteger(policy.logs) || policy.logs < 1 || policy.logs > 64) throw new KmlibError(ErrorCode.InvalidArgument, `policy ${policy.name}: logs must be in [1, 64]`);
    this.policy = policy;
    this.logs = policy.logs;
    this.blocksPerSegment = b;
    this.logicalBlocks = u;
    this.spareFactor = sf;
    this.dataSegments = Math.round(u / (b * (1 - sf)));
    this.reservedSegments = this.logs + 1;
    const n = (this.segments = this.dataSegments + this.reservedSegments);
    if (this.dataSegments * b <= u) throw new KmlibError(ErrorCode.InvalidArgument, `spare factor ${sf} leaves no spare segment for ${u} blocks`);
    this.segValid = new Int32Array(n);
    this.segState = new Uint8Array(n);
    this.segSealTime = new Float64Array(n);
    this.segMtimeMax = new Float64Array(n);
    this.segMtimeSum = new Float64Array(n);
    this.segWritten = new Int32Array(n);
    this.segEraseCount = new Uint32Array(n);
    this.p2l = new Int32Array(n * b).fill(NONE);
    this.l2p = new Int32Array(u).fill(NONE);
    this.blockTime = new Float64Array(u).fill(-1);
    this.blockWrites = new Uint32Array(u);
    this.active = new Int32Array(this.logs).fill(NONE);
    this.activeOff = new Int32Array(this.logs).fill(b);
    this.freeStack = new Int32Array(n);
    // Lowest ids on top, so a fresh store fills segments in order.
    for (let i = 0; i < n; i++) this.freeStack[i] = n - 1 - i;
    this.freeCount = n;
    this.bucketHead = new Int32Array(b + 1).fill(NONE);
    this.bucketNext = new Int32Array(n).fill(NONE);
    this.bucketPrev = new Int32Array(n).fill(NONE);
    this.minBucket = b + 1;
    this.ringSeg = new Int32Array(2 * n);
    this.ringSeq = new Float64Array(2 * n);
    this.segSealSeq = new Float64Array(n).fill(-1);
    this.hasHostLog = typeof policy.hostLog === "function";
    this.hasGcLog = typeof policy.gcLog === "function";
    this.hasObserver = typeof policy.onHostWrite === "function";
    this.hasPlaced = typeof policy.onPlaced === "function";
    policy.attach?.(this);
  }

  /** Writes the blocks `lbas[0..n)` as host writes, running GC whenever space runs short. */
  writeBatch(lbas: Int32Array, n: number): void {
    const u = this.logicalBlocks;
    for (let i = 0; i < n; i++) {
      const lba = lbas[i]!;
      if (lba < 0 || lba >= u) throw new KmlibError(ErrorCode.InvalidArgument, `block ${lba} outside [0, ${u})`);
    }
    if (this.hasObserver || this.hasHostLog || this.hasPlaced) {
      for (let i = 0; i < n; i++) this.write(lbas[i]!);
      return;
    }
    // Single log, no hooks (greedy, FIFO, ...): the same steps as write() + append() with the
    // arrays in locals; a write that fills or needs a segment takes the general path.
    const b = this.blocksPerSegment;
    const { l2p, p2l, segValid, segState, segWritten, segMtimeSum, segMtimeMax, blockTime, blockWrites } = this;
    for (let i = 0; i < n; i++) {
      const lba = lbas[i]!;
      const off = this.activeOff[0]!;
      if (off >= b - 1) {
        this.write(lba);
        continue;
      }
      const old = l2p[lba]!;
      if (old !== NONE) {
        const seg = (old / b) | 0;
        p2l[old] = NONE;
        const v = segValid[seg]!;
        segValid[seg] = v - 1;
        if (segState[seg] === SegState.Sealed) {
          this.unlink(seg, v);
          this.link(seg, v - 1);
        }
      }
      const now = ++this.now;
      this.hostWrites++;
      blockTime[lba] = now;
      blockWrites[lba]!++;
      const seg = this.active[0]!;
      const p = seg * b + off;
      l2p[lba] = p;
      p2l[p] = lba;
      segValid[seg]!++;
      segWritten[seg]!++;
      segMtimeSum[seg]! += now;
      if (now > segMtimeMax[seg]!) segMtimeMax[seg] = now;
      this.activeOff[0] = off + 1;
    }
  }

  /** One host write of logical block `lba` (caller guarantees the range). */
  write(lba: number): void {
    const prevTime = this.blockTime[lba]!;
    if (this.hasObserver) this.policy.onHostWrite!(lba, prevTime, this);
    const old = this.l2p[lba]!;
    if (old !== NONE) this.invalidate(old);
    this.now++;
    this.hostWrites++;
    this.blockTime[lba] = this.now;
    this.blockWrites[lba]!++;
    this.append(this.hasHostLog ? this.policy.hostLog!(lba, this) : 0, lba, this.now);
  }

  /**
   * Background GC: cleans one victim now, whatever the free space (F2FS's background cleaner
   * takes one victim per round). Returns the victim.
   */
  collect(): number {
    return this.collectOne();
  }

  /**
   * A deep copy of the device driven by `policy` from now on, for counterfactual runs over the
   * same writes. The policy is not attached again: it must already hold state that matches
   * this device (its own copy of the policy that drove it), and use as many logs.
   */
  clone(policy: GcPolicy): LogStore {
    if (policy.logs !== this.logs) throw new KmlibError(ErrorCode.InvalidArgument, `clone: policy ${policy.name} uses ${policy.logs} logs, the device ${this.logs}`);
    const c = Object.create(LogStore.prototype) as Record<string, unknown>;
    for (const [k, v] of Object.entries(this)) c[k] = ArrayBuffer.isView(v) ? (v as Int32Array).slice() : v;
    c.policy = policy;
    c.hasHostLog = typeof policy.hostLog === "function";
    c.hasGcLog = typeof policy.gcLog === "function";
    c.hasObserver = typeof policy.onHostWrite === "function";
    c.hasPlaced = typeof policy.onPlaced === "function";
    return c as unknown as LogStore;
  }

  get counters(): StoreCounters {
    return { hostWrites: this.hostWrites, gcWrites: this.gcWrites, victims: this.victims };
  }

  resetCounters(): void {
    this.hostWrites = 0;
    this.gcWrites = 0;
    this.victims = 0;
  }

  get freeSegments(): number {
    return this.freeCount;
  }

  minValidSegment(): number {
    const head = this.bucketHead;
    for (let v = this.minBucket; v <= this.blocksPerSegment; v++) {
      if (head[v] !== NONE) {
        this.minBucket = v;
        return head[v]!;
      }
    }
    this.minBucket = this.blocksPerSegment + 1;
    return NONE;
  }

  forEachSealedByValid(visit: (seg: number) => boolean): void {
    const head = this.bucketHead;
    const next = this.bucketNext;
    for (let v = this.minBucket; v <= this.blocksPerSegment; v++) {
      for (let s = head[v]!; s !== NONE; s = next[s]!) if (!visit(s)) return;
    }
  }

  forEachSealedOldestFirst(visit: (seg: number) => boolean): void {
    const cap = this.ringSeg.length;
    for (let k = 0; k < this.ringLen; k++) {
      const idx = (this.ringHead + k) % cap;
      const seg = this.ringSeg[idx]!;
      if (this.segSealSeq[seg] !== this.ringSeq[idx] || this.segState[seg] !== SegState.Sealed) continue;
      if (!visit(seg)) return;
    }
  }

  oldestSealed(): number {
    const cap = this.ringSeg.length;
    while (this.ringLen > 0) {
      const seg = this.ringSeg[this.ringHead]!;
      if (this.segSealSeq[seg] === this.ringSeq[this.ringHead] && this.segState[seg] === SegState.Sealed) return seg;
      this.ringHead = (this.ringHead + 1) % cap;
      this.ringLen--;
    }
    return NONE;
  }

  /** Checks the map, the counters and the bucket index agree (tests; O(blocks)). */
  checkInvariants(): void {
    const b = this.blocksPerSegment;
    const count = new Int32Array(this.segments);
    for (let lba = 0; lba < this.logicalBlocks; lba++) {
      const p = this.l2p[lba]!;
      if (p === NONE) continue;
      if (this.p2l[p] !== lba) throw new Error(`l2p/p2l disagree at block ${lba}`);
      count[(p / b) | 0]!++;
    }
    let sealed = 0;
    for (let s = 0; s < this.segments; s++) {
      if (count[s] !== this.segValid[s]) throw new Error(`segment ${s}: valid ${this.segValid[s]} but ${count[s]} mapped`);
      if (this.segState[s] === SegState.Sealed) sealed++;
      if (this.segState[s] === SegState.Free && count[s] !== 0) throw new Error(`free segment ${s} holds data`);
    }
    if (sealed !== this.sealedCount) throw new Error(`sealed count ${this.sealedCount}, found ${sealed}`);
    let inBuckets = 0;
    for (let v = 0; v <= b; v++) {
      for (let s = this.bucketHead[v]!; s !== NONE; s = this.bucketNext[s]!) {
        if (this.segValid[s] !== v || this.segState[s] !== SegState.Sealed) throw new Error(`segment ${s} in wrong bucket ${v}`);
        inBuckets++;
      }
    }
    if (inBuckets !== sealed) throw new Error(`bucket index holds ${inBuckets} of ${sealed} sealed segments`);
  }

  private invalidate(p: number): void {
    const seg = (p / this.blocksPerSegment) | 0;
    this.p2l[p] = NONE;
    const v = this.segValid[seg]!;
    this.segValid[seg] = v - 1;
    if (this.segState[seg] === SegState.Sealed) {
      this.unlink(seg, v);
      this.link(seg, v - 1);
    }
  }

  private append(log: number, lba: number, mtime: number): void {
    const b = this.blocksPerSegment;
    if (this.activeOff[log] === b) this.openFor(log);
    const seg = this.active[log]!;
    const off = this.activeOff[log]!;
    const p = seg * b + off;
    this.l2p[lba] = p;
    this.p2l[p] = lba;
    this.segValid[seg]!++;
    this.segWritten[seg]!++;
    this.segMtimeSum[seg]! += mtime;
    if (mtime > this.segMtimeMax[seg]!) this.segMtimeMax[seg] = mtime;
    this.activeOff[log] = off + 1;
    if (this.hasPlaced) this.policy.onPlaced!(lba, seg, this);
    if (off + 1 === b) this.seal(seg);
  }

  /**
   * Gives `log` a fresh segment, cleaning victims first while free space is at the reserve.
   * GC runs until the free pool is back at the reserve even when the relocations themselves
   * gave `log` a segment: relocations into several logs take reserve segments directly, and
   * if the pool were left drawn down, a policy with many logs would hold data in the reserve
   * (its open segments' filled parts on top of a full data area) — more space than the
   * device has, a gain that is not the policy's. So sealed plus open segments never exceed the
   * data area after a GC round, for every policy, and the empty parts of a policy's open
   * segments are its own cost. (With one log the pool never drops, so nothing changes there.)
   */
  private openFor(log: number): void {
    const b = this.blocksPerSegment;
    const reserve = this.reservedSegments;
    for (let rounds = 0; ; rounds++) {
      const full = this.activeOff[log] === b;
      if (full ? this.freeCount > reserve : this.freeCount >= reserve) {
        if (full) this.open(log);
        return;
      }
      if (rounds > 4 * this.segments) {
        throw new KmlibError(ErrorCode.IllegalState, `GC makes no progress with policy ${this.policy.name} (victims stay full)`);
      }
      this.collectOne();
    }
  }

  private open(log: number): void {
    if (this.freeCount === 0) throw new KmlibError(ErrorCode.IllegalState, "no free segment left (reserve exhausted)");
    const seg = this.freeStack[--this.freeCount]!;
    this.segState[seg] = SegState.Open;
    this.segValid[seg] = 0;
    this.segWritten[seg] = 0;
    this.segMtimeSum[seg] = 0;
    this.segMtimeMax[seg] = -1;
    this.active[log] = seg;
    this.activeOff[log] = 0;
  }

  private seal(seg: number): void {
    this.segState[seg] = SegState.Sealed;
    this.segSealTime[seg] = this.now;
    this.sealedCount++;
    this.link(seg, this.segValid[seg]!);
    const cap = this.ringSeg.length;
    if (this.ringLen === cap) this.compactRing();
    const idx = (this.ringHead + this.ringLen) % cap;
    this.ringSeg[idx] = seg;
    this.ringSeq[idx] = this.segSealSeq[seg] = this.sealSeq++;
    this.ringLen++;
  }

  /** Cleans one victim: relocates its valid blocks, then frees it. */
  private collectOne(): number {
    if (this.sealedCount === 0) throw new KmlibError(ErrorCode.IllegalState, "GC needed but no segment is sealed");
    const victim = this.policy.selectVictim(this);
    if (!(victim >= 0 && victim < this.segments) || this.segState[victim] !== SegState.Sealed) {
      throw new KmlibError(ErrorCode.IllegalState, `policy ${this.policy.name} chose segment ${victim}, which is not sealed`);
    }
    const b = this.blocksPerSegment;
    this.unlink(victim, this.segValid[victim]!);
    this.segState[victim] = SegState.Open; // out of every candidate set while it drains
    this.sealedCount--;
    const base = victim * b;
    const p2l = this.p2l;
    let left = this.segValid[victim]!;
    if (this.hasGcLog || this.hasPlaced) {
      for (let off = 0; off < b && left > 0; off++) {
        const lba = p2l[base + off]!;
        if (lba === NONE) continue;
        p2l[base + off] = NONE;
        left--;
        this.appendGc(this.hasGcLog ? this.policy.gcLog!(lba, victim, this) : 0, lba);
      }
    } else {
      // Everything to log 0 with no hooks: append() inlined, arrays in locals.
      const { l2p, segValid, segWritten, segMtimeSum, segMtimeMax, blockTime } = this;
      for (let off = 0; off < b && left > 0; off++) {
        const lba = p2l[base + off]!;
        if (lba === NONE) continue;
        p2l[base + off] = NONE;
        left--;
        let to = this.activeOff[0]!;
        if (to >= b - 1) {
          this.appendGc(0, lba);
          continue;
        }
        const seg = this.active[0]!;
        const p = seg * b + to;
        l2p[lba] = p;
        p2l[p] = lba;
        segValid[seg]!++;
        segWritten[seg]!++;
        const mtime = blockTime[lba]!;
        segMtimeSum[seg]! += mtime;
        if (mtime > segMtimeMax[seg]!) segMtimeMax[seg] = mtime;
        this.activeOff[0] = ++to;
      }
    }
    this.gcWrites += this.segValid[victim]!;
    this.segValid[victim] = 0;
    this.segState[victim] = SegState.Free;
    this.segEraseCount[victim]!++;
    this.freeStack[this.freeCount++] = victim;
    this.victims++;
    return victim;
  }

  /**
   * A relocation: takes reserve segments directly (no GC from inside GC). When a victim's
   * blocks spread over many logs the reserve can run low; the last free segment is then kept
   * and the block goes to any log with room left.
   */
  private appendGc(log: number, lba: number): void {
    const b = this.blocksPerSegment;
    if (this.activeOff[log] === b) {
      if (this.freeCount <= 1) {
        for (let l = 0; l < this.logs; l++) {
          if (this.activeOff[l]! < b) {
            log = l;
            break;
          }
        }
      }
      if (this.activeOff[log] === b) this.open(log);
    }
    this.append(log, lba, this.blockTime[lba]!);
  }

  private link(seg: number, v: number): void {
    const head = this.bucketHead[v]!;
    this.bucketNext[seg] = head;
    this.bucketPrev[seg] = NONE;
    if (head !== NONE) this.bucketPrev[head] = seg;
    this.bucketHead[v] = seg;
    if (v < this.minBucket) this.minBucket = v;
  }

  private unlink(seg: number, v: number): void {
    const next = this.bucketNext[seg]!;
    const prev = this.bucketPrev[seg]!;
    if (prev === NONE) this.bucketHead[v] = next;
    else this.bucketNext[prev] = next;
    if (next !== NONE) this.bucketPrev[next] = prev;
  }

  private compactRing(): void {
    const cap = this.ringSeg.length;
    let w = 0;
    for (let k = 0; k < this.ringLen; k++) {
      const idx = (this.ringHead + k) % cap;
      const seg = this.ringSeg[idx]!;
      if (this.segSealSeq[seg] !== this.ringSeq[idx] || this.segState[seg] !== SegState.Sealed) continue;
      this.tmpSeg[w] = seg;
      this.tmpSeq[w++] = this.ringSeq[idx]!;
    }
    this.ringSeg.set(this.tmpSeg.subarray(0, w));
    this.ringSeq.set(this.tmpSeq.subarray(0, w));
    this.ringHead = 0;
    this.ringLen = w;
  }

  private get tmpSeg(): Int32Array {
    return (this._tmpSeg ??= new Int32Array(this.ringSeg.length));
  }
  private get tmpSeq(): Float64Array {
    return (this._tmpSeq ??= new Float64Array(this.ringSeg.length));
  }
  private _tmpSeg: Int32Array | undefined;
  private _tmpSeq: Float64Array | undefined;
}
