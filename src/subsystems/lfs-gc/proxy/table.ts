/**
 * @module subsystems/lfs-gc/proxy/table
 * The learned lifetime table as the kernel side holds it: one unsigned 32-bit expected
 * lifetime (in host block writes) per cell, exactly the value of an eBPF array map with
 * LIFETIME_CELLS entries, and the agent-side trainer that fills it.
 *
 * The trainer is the survival estimate of `policies/ml-lifetime.ts` (deaths / exposure per
 * cell over its window of young versions, discounted over time) fed from the kernel's
 * published per-block history instead of from inside the policy (the kernel computes the
 * composite cell, region and long-term buckets included; the trainer never needs the
 * features themselves): a record carries no age, so a death's age is read off the new
 * version's interval bucket (`ageOfCell`, within a factor
 * √2, which only moves the time bin the version leaves the window from); `quantize` rounds 1 / rate to an integer clamped to
 * [1, 2^32 - 1]. The artefact the agent deploys is that table in a small binary frame (magic,
 * format, cells, device size, the values, an FNV-1a checksum), so a truncated, corrupted or
 * mismatched table is refused before anything changes kernel-side.
 */
import { ErrorCode, KmlibError } from "../../../errors.ts";
import { LIFETIME_CELLS, LifetimeModel, ageOfCell } from "../policies/ml-lifetime.ts";
import type { LifetimeModelOptions } from "../policies/ml-lifetime.ts";

const MAGIC = 0x5447_4d4b; // "KMGT" little-endian
/** 2: composite cells (region, long, interval, activity buckets), LIFETIME_CELLS of them. */
const FORMAT = 2;
const HEADER = 16;
const U32_MAX = 0xffff_ffff;

/** A per-cell lifetime table: integers (deployed) or doubles (the unquantised comparison). */
export type LifeTable = Uint32Array | Float64Array;

function fnv1a(bytes: Uint8Array): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < bytes.length; i++) h = Math.imul(h ^ bytes[i]!, 0x01000193) >>> 0;
  return h;
}

/** The deployable artefact: header (magic, format, cells, logical blocks), u32 values, checksum. */
export function encodeTable(life: Uint32Array, logicalBlocks: number): Uint8Array {
  if (life.length !== LIFETIME_CELLS) throw new KmlibError(ErrorCode.InvalidModel, `lifetime table: expected ${LIFETIME_CELLS} cells, got ${life.length}`);
  const out = new Uint8Array(HEADER + 4 * life.length + 4);
  const dv = new DataView(out.buffer);
  dv.setUint32(0, MAGIC, true);
  dv.setUint32(4, FORMAT, true);
  dv.setUint32(8, life.length, true);
  dv.setUint32(12, logicalBlocks, true);
  for (let i = 0; i < life.length; i++) {
    const v = life[i]!;
    if (!(v >= 1 && v <= U32_MAX)) throw new KmlibError(ErrorCode.OutOfBounds, `lifetime table: cell ${i} holds ${v}, outside [1, ${U32_MAX}]`);
    dv.setUint32(HEADER + 4 * i, v, true);
  }
  dv.setUint32(out.length - 4, fnv1a(out.subarray(0, out.length - 4)), true);
  return out;
}

/** Reads an artefact for a device of `logicalBlocks`; every defect is KMLIB_INVALID_MODEL. */
export function decodeTable(bytes: Uint8Array, logicalBlocks: number): Uint32Array {
  const bad = (why: string) => new KmlibError(ErrorCode.InvalidModel, `lifetime table artefact: ${why}`);
  if (bytes.length < HEADER + 4) throw bad(`${bytes.length} bytes is too short`);
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (dv.getUint32(0, true) !== MAGIC) throw bad("bad magic (not a kmlib lfs-gc table)");
  if (dv.getUint32(4, true) !== FORMAT) throw bad(`format ${dv.getUint32(4, true)}, expected ${FORMAT}`);
  const cells = dv.getUint32(8, true);
  if (cells !== LIFETIME_CELLS) throw bad(`${cells} cells, expected ${LIFETIME_CELLS}`);
  if (bytes.length !== HEADER + 4 * cells + 4) throw bad(`length ${bytes.length}, expected ${HEADER + 4 * cells + 4}`);
  if (dv.getUint32(bytes.length - 4, true) !== fnv1a(bytes.subarray(0, bytes.length - 4))) throw bad("checksum mismatch");
  const u = dv.getUint32(12, true);
  if (u !== logicalBlocks) throw bad(`trained for ${u} logical blocks, the device has ${logicalBlocks}`);
  const life = new Uint32Array(cells);
  for (let i = 0; i < cells; i++) {
    const v = dv.getUint32(HEADER + 4 * i, true);
    if (v === 0) throw bad(`cell ${i} holds 0 (lifetimes are >= 1)`);
    life[i] = v;
  }
  return life;
}

/** Columns of a portion of the per-block history dataset (one record per host write). */
export interface HistoryColumns {
  /** Host-write time of each record (the store's clock after the write). */
  readonly time: Float64Array;
  /** Cell the overwritten version was written in, -1 for a first write. */
  readonly prevCell: Int16Array;
  /** Cell of the new version. */
  readonly cell: Int16Array;
  readonly length: number;
}

/** The agent-side learner: per-block history in, lifetime table out. */
export class LifetimeTrainer {
  readonly model: LifetimeModel;
  /** Records learned from. */
  records = 0;

  constructor(
    readonly logicalBlocks: number,
    opts: Partial<LifetimeModelOptions> = {},
  ) {
    this.model = new LifetimeModel(logicalBlocks, opts);
  }

  /** Learns from one portion of history, in order. */
  ingest(h: HistoryColumns): void {
    for (let i = 0; i < h.length; i++) this.record(h.time[i]!, h.prevCell[i]!, h.cell[i]!);
  }

  /** Learns from one history record: a host write at `time` into `cell` (previous version's cell `prevCell`, -1 for none). */
  record(time: number, prevCell: number, cell: number): void {
    const m = this.model;
    if (prevCell >= 0) m.die(prevCell, time, ageOfCell(cell, this.logicalBlocks));
    m.enter(cell, time);
    this.records++;
  }

  /** Expected lifetime per cell at `now`, unquantised. */
  lifetimes(now: number): Float64Array {
    const out = new Float64Array(LIFETIME_CELLS);
    for (let c = 0; c < LIFETIME_CELLS; c++) out[c] = 1 / this.model.rate(c, now);
    return out;
  }

  /** The table as the kernel holds it: lifetimes rounded to u32 in [1, 2^32 - 1]. */
  quantize(now: number): Uint32Array {
    return quantizeLifetimes(this.lifetimes(now));
  }
}

export function quantizeLifetimes(life: Float64Array): Uint32Array {
  const out = new Uint32Array(life.length);
  for (let c = 0; c < life.length; c++) {
    const v = Math.round(life[c]!);
    out[c] = Number.isNaN(v) || v < 1 ? 1 : Math.min(v, U32_MAX);
  }
  return out;
}
