/**
 * @module bpf/ringbuf-producer
 * The producer side of kmlib's ring buffer convention: `RingBuffer` bundles a RINGBUF map
 * with a lost-record counter (an ARRAY map, u64 at key 0), and `output()` emits the eBPF
 * instructions that call bpf_ringbuf_output and, when it fails (buffer full), atomically
 * add one to the counter. The reader reports that count, so no loss goes unnoticed.
 */
import { ErrorCode, KmlibError } from "../errors.ts";
import {
  AtomicAdd, Call, Helper, JEq, LoadMapPtr, LoadMapValue, Mov, R0, R1, R2, R3, R4, label,
  type AsmInput, type Register,
} from "./asm/index.ts";
import { createMap, type BpfMap, type MapOptions } from "./map.ts";
import { RingBufReader } from "./ringbuf.ts";

let nextLabel = 0;

export interface OutputOptions {
  /** Register holding a pointer to the record (stack, map value or packet). */
  readonly data: Register;
  /** Record size: a constant, or a register holding it. */
  readonly size: number | { readonly reg: Register };
  /** bpf_ringbuf_output flags: BPF_RB_NO_WAKEUP = 1, BPF_RB_FORCE_WAKEUP = 2 (default 0: adaptive). */
  readonly flags?: number;
}

/**
 * Instructions: bpf_ringbuf_output(&ringbuf, data, size, flags); on failure
 * lock *(u64 *)&lost[0] += 1. Clobbers r0-r5. `ringbuf` and `lost` are map names.
 */
export function ringbufOutput(ringbuf: string, lost: string, o: OutputOptions): AsmInput {
  const done = `__rb_out_done_${nextLabel++}`;
  const moveData = o.data === R2 ? [] : [Mov.reg(R2, o.data)];
  const size = typeof o.size === "number" ? Mov.imm(R3, o.size) : Mov.reg(R3, o.size.reg);
  if (typeof o.size === "object" && o.size.reg === R2) throw new KmlibError(ErrorCode.InvalidArgument, "ringbufOutput: size register must not be r2 (it carries the data pointer)");
  return [
    ...moveData,
    size,
    LoadMapPtr(R1, ringbuf),
    Mov.imm(R4, o.flags ?? 0),
    Call(Helper.ringbuf_output),
    JEq.imm(R0, 0, done),
    LoadMapValue(R1, lost, 0),
    Mov.imm(R2, 1),
    AtomicAdd("DW", R1, 0, R2),
    label(done),
  ];
}

export interface RingBufferSpec {
  readonly name: string;
  /** Data size in bytes: a power of two and a multiple of the page size. */
  readonly size: number;
}

/** A ring buffer map plus its lost-record counter, owned together. */
export class RingBuffer {
  readonly name: string;
  readonly map: BpfMap;
  readonly lostMap: BpfMap;

  constructor(spec: RingBufferSpec, opts: MapOptions = {}) {
    this.name = spec.name;
    this.map = createMap({ name: spec.name, type: "RINGBUF", keySize: 0, valueSize: 0, maxEntries: spec.size }, opts);
    try {
      this.lostMap = createMap({ name: `${spec.name}_lost`.slice(0, 15), type: "ARRAY", keySize: 4, valueSize: 8, maxEntries: 1 }, opts);
    } catch (e) {
      this.map.close();
      throw e;
    }
  }

  /** Map name of the lost counter in program specs. */
  get lostName(): string {
    return `${this.name}_lost`;
  }

  /** For `ProgramSpec.maps`: both maps under the names `output()` uses. */
  get maps(): Record<string, BpfMap> {
    return { [this.name]: this.map, [this.lostName]: this.lostMap };
  }

  /** The counted-output instruction fragment for this ring buffer. */
  output(o: OutputOptions): AsmInput {
    return ringbufOutput(this.name, this.lostName, o);
  }

  /** A reader that reports this buffer's lost count. */
  reader(): RingBufReader {
    return new RingBufReader(this.map, { lost: this.lostMap });
  }

  lost(): bigint {
    const v = this.lostMap.lookup(new Uint8Array(4));
    return v ? new DataView(v.buffer).getBigUint64(0, true) : 0n;
  }

  close(): void {
    this.map.close();
    this.lostMap.close();
  }

  [Symbol.dispose](): void {
    this.close();
  }
}
