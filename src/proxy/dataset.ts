/**
 * @module proxy/dataset
 * The RFC's dataset: a type (value, structure, memory stream), a state (clean, extracted
 * partially / completely, obsolete, extraction failure, corrupted) and portions (offset, size)
 * the agent extracts. `DatasetTracker` keeps the state honest: a portion outside what was
 * published is a typed error, and so is extracting from an obsolete or corrupted dataset.
 * Units are the dataset's own: records for value and structure datasets, bytes for streams.
 */
import { ErrorCode, KmlibError, assertNever } from "../errors.ts";

export const DatasetType = { value: "value", structure: "structure", memoryStream: "memory stream" } as const;
export type DatasetType = (typeof DatasetType)[keyof typeof DatasetType];

export const DatasetState = {
  clean: "clean",
  extractedPartially: "extracted partially",
  extractedCompletely: "extracted completely",
  obsolete: "obsolete",
  extractionFailure: "extraction failure",
  corrupted: "corrupted",
} as const;
export type DatasetState = (typeof DatasetState)[keyof typeof DatasetState];

/** RFC codes (ML_LIB_DATASET_CLEAN = 2 ...), for datasets described by a kernel side. */
export const DatasetStateCode: Readonly<Record<DatasetState, number>> = {
  clean: 2,
  "extracted partially": 3,
  "extracted completely": 4,
  obsolete: 5,
  "extraction failure": 6,
  corrupted: 7,
};
export const DatasetTypeCode: Readonly<Record<DatasetType, number>> = { value: 2, structure: 3, "memory stream": 4 };

/** A portion of a dataset: u64 offset, u32 size (the RFC's portion_offset / portion_size). */
export interface Portion {
  readonly offset: number;
  readonly size: number;
}

const U32_MAX = 0xffff_ffff;

export function checkPortion(p: Portion, available: number): void {
  if (!Number.isSafeInteger(p.offset) || p.offset < 0) throw new KmlibError(ErrorCode.OutOfBounds, `portion offset must be a non-negative integer, got ${p.offset}`);
  if (!Number.isSafeInteger(p.size) || p.size < 1 || p.size > U32_MAX) throw new KmlibError(ErrorCode.OutOfBounds, `portion size must be an integer in [1, ${U32_MAX}], got ${p.size}`);
  if (p.offset + p.size > available) {
    throw new KmlibError(ErrorCode.OutOfBounds, `portion [${p.offset}, ${p.offset + p.size}) goes past the published end ${available}`);
  }
}

/** Whether a state accepts more extraction. Obsolete and corrupted are final. */
export function isFinal(state: DatasetState): boolean {
  switch (state) {
    case DatasetState.obsolete:
    case DatasetState.corrupted:
      return true;
    case DatasetState.clean:
    case DatasetState.extractedPartially:
    case DatasetState.extractedCompletely:
    case DatasetState.extractionFailure:
      return false;
    default:
      return assertNever(state, "dataset state");
  }
}

export interface DatasetDescriptor {
  readonly id: string;
  readonly type: DatasetType;
  readonly state: DatasetState;
  /** Units published so far (grows for memory streams). */
  readonly available: number;
  /** Units extracted so far (union of portions). */
  readonly extracted: number;
}

/** Tracks one dataset's portions and state. */
export class DatasetTracker {
  #state: DatasetState = DatasetState.clean;
  #available: number;
  /** Sorted, disjoint, non-adjacent [start, end) intervals already extracted. */
  #ranges: Array<[number, number]> = [];
  #reason: string | undefined;

  constructor(
    readonly id: string,
    readonly type: DatasetType,
    available: number,
  ) {
    if (!Number.isSafeInteger(available) || available < 0) throw new KmlibError(ErrorCode.InvalidArgument, `dataset size must be a non-negative integer, got ${available}`);
    this.#available = available;
  }

  get state(): DatasetState {
    return this.#state;
  }
  /** Why the dataset failed, was corrupted or made obsolete. */
  get reason(): string | undefined {
    return this.#reason;
  }
  get extracted(): number {
    return this.#ranges.reduce((n, [a, b]) => n + (b - a), 0);
  }
  describe(): DatasetDescriptor {
    return { id: this.id, type: this.type, state: this.#state, available: this.#available, extracted: this.extracted };
  }

  #live(what: string): void {
    if (isFinal(this.#state)) throw new KmlibError(ErrorCode.IllegalState, `dataset ${this.id}: cannot ${what} in state "${this.#state}"`);
  }

  /** More data published (memory streams only: other types have a fixed size). */
  publish(units: number): void {
    this.#live("publish");
    if (this.type !== DatasetType.memoryStream) throw new KmlibError(ErrorCode.IllegalState, `dataset ${this.id}: only memory streams grow (type "${this.type}")`);
    if (!Number.isSafeInteger(units) || units < 0) throw new KmlibError(ErrorCode.InvalidArgument, `published units must be a non-negative integer, got ${units}`);
    this.#available += units;
    this.#settle();
  }

  /** Record a successfully extracted portion. */
  extract(p: Portion): DatasetState {
    this.#live("extract");
    checkPortion(p, this.#available);
    this.#merge(p.offset, p.offset + p.size);
    this.#reason = undefined;
    this.#settle();
    return this.#state;
  }

  /** An extraction attempt failed; the dataset may be retried. */
  fail(reason: string): void {
    this.#live("record a failure");
    this.#state = DatasetState.extractionFailure;
    this.#reason = reason;
  }
  /** Data found inconsistent (checksum, schema): final. */
  corrupt(reason: string): void {
    this.#live("mark corrupted");
    this.#state = DatasetState.corrupted;
    this.#reason = reason;
  }
  /** Discarded by the agent or superseded by the kernel (ml_model_discard_dataset): final. */
  obsolete(reason = "discarded"): void {
    this.#live("discard");
    this.#state = DatasetState.obsolete;
    this.#reason = reason;
  }

  #settle(): void {
    if (this.#state === DatasetState.extractionFailure && this.#reason !== undefined) return;
    const done = this.extracted;
    if (done === 0) this.#state = DatasetState.clean;
    else if (done >= this.#available) this.#state = DatasetState.extractedCompletely;
    else this.#state = DatasetState.extractedPartially;
  }

  #merge(start: number, end: number): void {
    const out: Array<[number, number]> = [];
    let s = start, e = end, placed = false;
    for (const [a, b] of this.#ranges) {
      if (b < s) {
        out.push([a, b]);
      } else if (a > e) {
        if (!placed) out.push([s, e]);
        placed = true;
        out.push([a, b]);
      } else {
        s = Math.min(s, a);
        e = Math.max(e, b);
      }
    }
    if (!placed) out.push([s, e]);
    this.#ranges = out;
  }
}
