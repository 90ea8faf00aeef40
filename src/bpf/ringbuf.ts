/**
 * @module bpf/ringbuf
 * Reading a BPF ring buffer (BPF_MAP_TYPE_RINGBUF, kernel >= 5.8) by mapping it into this
 * process, as libbpf's ring_buffer__consume does but without a C callback per record: the
 * consumer page is mapped read-write, the producer page and the data area (mapped twice
 * back to back by the kernel, so no record wraps) read-only. Records are read with the
 * kernel's protocol: an 8-byte header whose length word carries BPF_RINGBUF_BUSY_BIT
 * (still being written: stop) and BPF_RINGBUF_DISCARD_BIT (skip). Wake-ups come from the
 * event loop polling the map fd (epoll under libuv), so nothing blocks Node.
 *
 * The kernel does not count records it could not fit: producers built with
 * `ringbufOutput` (see ringbuf-producer.ts) count them in a lost-counter map which the
 * reader reports, so a loss is never silent.
 */
import { ErrorCode, KmlibError } from "../errors.ts";
import { SyscallError } from "./errors.ts";
import type { BpfMap } from "./map.ts";
import { PROT_READ, PROT_WRITE, type FdWatch } from "./sys/index.ts";
import { MapType } from "./types.ts";

const BUSY_BIT = 1 << 31;
const DISCARD_BIT = 1 << 30;
const HDR_SZ = 8;
/** Publish the consumer position at least this often, so producers see freed space. */
const PUBLISH_EVERY = 64;

export interface RingBufStats {
  /** Records delivered to the reader. */
  readonly records: number;
  readonly bytes: number;
  /** Records the producer discarded (bpf_ringbuf_discard). */
  readonly discarded: number;
  /** Records producers could not write because the buffer was full (from the lost map). */
  readonly lost: bigint;
}

export interface RingBufReaderOptions {
  /** An ARRAY map whose u64 at key 0 producers increment for every failed output. */
  readonly lost?: BpfMap;
}

/**
 * Reads records from a ring buffer map. `consume` drains synchronously (zero-copy views
 * valid during the callback); the async iterator yields copies and waits for data.
 * Closing the reader unmaps the buffer; the map itself stays open.
 */
export class RingBufReader {
  readonly map: BpfMap;
  readonly size: number;
  readonly #lostMap: BpfMap | undefined;
  readonly #page: number;
  readonly #consAddr: bigint;
  readonly #prodAddr: bigint;
  readonly #cons: BigInt64Array;
  readonly #prod: BigInt64Array;
  /** The data area, twice (2 * size bytes): any record is contiguous. */
  readonly data: Uint8Array;
  readonly #data32: Int32Array;
  readonly #mask: number;
  #consPos: number;
  #closed = false;
  #watch: FdWatch | undefined;
  #wake: (() => void) | undefined;
  #records = 0;
  #bytes = 0;
  #discarded = 0;

  constructor(map: BpfMap, opts: RingBufReaderOptions = {}) {
    if (map.type !== MapType.RINGBUF) throw new KmlibError(ErrorCode.InvalidArgument, `${map.describe()} is not a RINGBUF map`);
    const sys = map.sys;
    this.map = map;
    this.size = map.maxEntries;
    this.#lostMap = opts.lost;
    this.#page = sys.pageSize();
    const cons = sys.mmap(map.fd, this.#page, PROT_READ | PROT_WRITE, 0);
    if (cons.err < 0) throw new SyscallError(`mmap consumer page of ${map.describe()}`, cons.err);
    const prod = sys.mmap(map.fd, this.#page + 2 * this.size, PROT_READ, this.#page);
    if (prod.err < 0) {
      sys.munmap(cons.addr, this.#page);
      throw new SyscallError(`mmap producer page and data of ${map.describe()}`, prod.err);
    }
    this.#consAddr = cons.addr;
    this.#prodAddr = prod.addr;
    this.#cons = new BigInt64Array(sys.view(cons.addr, 8));
    const prodBuf = sys.view(prod.addr, this.#page + 2 * this.size);
    this.#prod = new BigInt64Array(prodBuf, 0, 1);
    this.data = new Uint8Array(prodBuf, this.#page, 2 * this.size);
    this.#data32 = new Int32Array(prodBuf, this.#page, (2 * this.size) / 4);
    this.#mask = this.size - 1;
    this.#consPos = Number(Atomics.load(this.#cons, 0));
  }

  #check(): void {
    if (this.#closed) throw new KmlibError(ErrorCode.Closed, `ring buffer reader of ${this.map.describe()} is closed`);
    void this.map.fd; // throws KMLIB_CLOSED when the map was closed under us
  }

  /** Bytes written by producers and not yet consumed. */
  available(): number {
    this.#check();
    return Number(Atomics.load(this.#prod, 0)) - this.#consPos;
  }

  /**
   * Drain what is there without copying: `fn(data, offset, length)` sees the record at
   * `data[offset .. offset+length)`, valid only during the call. Returns records delivered.
   * Stops early after `max` records.
   */
  consumeRaw(fn: (data: Uint8Array, offset: number, length: number) => void, max = Infinity): number {
    this.#check();
    const d32 = this.#data32, mask = this.#mask;
    let cons = this.#consPos, n = 0, since = 0;
    try {
      for (;;) {
        const prod = Number(Atomics.load(this.#prod, 0));
        if (cons >= prod || n >= max) break;
        while (cons < prod && n < max) {
          const off = cons & mask;
          const len = Atomics.load(d32, off >> 2);
          if (len & BUSY_BIT) return n;
          const size = len & ~(BUSY_BIT | DISCARD_BIT);
          cons += (size + HDR_SZ + 7) & ~7;
          if (len & DISCARD_BIT) {
            this.#discarded++;
          } else {
            this.#records++;
            this.#bytes += size;
            n++;
            // Publish before the callback may throw, so the record is not delivered twice.
            this.#consPos = cons;
            fn(this.data, off + HDR_SZ, size);
          }
          this.#consPos = cons;
          if (++since >= PUBLISH_EVERY) {
            Atomics.store(this.#cons, 0, BigInt(cons));
            since = 0;
          }
        }
      }
      return n;
    } finally {
      Atomics.store(this.#cons, 0, BigInt(this.#consPos));
    }
  }

  /** Drain what is there; `fn` gets a view valid only during the call. */
  consume(fn: (record: Uint8Array) => void, max = Infinity): number {
    return this.consumeRaw((d, o, l) => fn(d.subarray(o, o + l)), max);
  }

  /**
   * Drain what is there into copies. All records of one call share one copied buffer (a
   * single memcpy of the consumed span: the data area is mapped twice, so the span is
   * contiguous), each returned as a view of its own bytes.
   */
  readBatch(max = Infinity): Uint8Array[] {
    this.#check();
    const d32 = this.#data32, mask = this.#mask;
    const start = this.#consPos;
    const offs: number[] = [];
    const lens: number[] = [];
    let cons = start;
    const prod = Number(Atomics.load(this.#prod, 0));
    // The span copied at once is at most the buffer size (the double mapping covers it).
    while (cons < prod && offs.length < max && cons - start < this.size) {
      const len = Atomics.load(d32, (cons & mask) >> 2);
      if (len & BUSY_BIT) break;
      const size = len & ~(BUSY_BIT | DISCARD_BIT);
      const rec = cons - start + HDR_SZ;
      const next = cons + ((size + HDR_SZ + 7) & ~7);
      if (next - start > this.size) break;
      cons = next;
      if (len & DISCARD_BIT) {
        this.#discarded++;
        continue;
      }
      offs.push(rec);
      lens.push(size);
    }
    if (cons === start) return [];
    const from = start & mask;
    const copy = this.data.slice(from, from + (cons - start));
    this.#consPos = cons;
    Atomics.store(this.#cons, 0, BigInt(cons));
    const out = new Array<Uint8Array>(offs.length);
    for (let i = 0; i < offs.length; i++) {
      out[i] = copy.subarray(offs[i]!, offs[i]! + lens[i]!);
      this.#bytes += lens[i]!;
    }
    this.#records += offs.length;
    return out;
  }

  /** Resolves when the buffer has data (or at once if it has), or when the reader closes. */
  wait(): Promise<void> {
    this.#check();
    if (this.available() > 0) return Promise.resolve();
    this.#watch ??= this.map.sys.watchReadable(this.map.fd, () => this.#onReadable());
    return new Promise((resolve) => {
      const prev = this.#wake;
      this.#wake = () => {
        prev?.();
        resolve();
      };
    });
  }

  #onReadable(): void {
    // One-shot: a level-triggered watch left running while nobody waits would spin.
    this.#watch?.close();
    this.#watch = undefined;
    const w = this.#wake;
    this.#wake = undefined;
    w?.();
  }

  /** Copies of records, in order, as they arrive; ends when the reader is closed. */
  async *batches(max = 4096): AsyncGenerator<Uint8Array[]> {
    while (!this.#closed) {
      const batch = this.readBatch(max);
      if (batch.length > 0) yield batch;
      else await this.wait();
    }
  }

  /**
   * Records one by one. A hand-written iterator rather than an async generator: records
   * already read are handed out from the current batch with no generator machinery, which
   * roughly halves the cost per record.
   */
  [Symbol.asyncIterator](): AsyncIterator<Uint8Array> {
    let batch: Uint8Array[] = [];
    let i = 0;
    const done: IteratorResult<Uint8Array> = { value: undefined, done: true };
    const next = async (): Promise<IteratorResult<Uint8Array>> => {
      while (i >= batch.length) {
        if (this.#closed) return done;
        batch = this.readBatch(4096);
        i = 0;
        if (batch.length === 0) await this.wait();
      }
      return { value: batch[i++]!, done: false };
    };
    return {
      next: () => (i < batch.length ? Promise.resolve({ value: batch[i++]!, done: false }) : next()),
      return: () => Promise.resolve(done),
    };
  }

  /** Records lost by producers (0n when no lost map was given). */
  lost(): bigint {
    const m = this.#lostMap;
    if (!m) return 0n;
    const v = m.lookup(new Uint8Array(m.keySize));
    return v ? new DataView(v.buffer).getBigUint64(0, true) : 0n;
  }

  stats(): RingBufStats {
    return { records: this.#records, bytes: this.#bytes, discarded: this.#discarded, lost: this.lost() };
  }

  get closed(): boolean {
    return this.#closed;
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#onReadable(); // release a pending wait(): iterators end
    this.map.sys.munmap(this.#consAddr, this.#page);
    this.map.sys.munmap(this.#prodAddr, this.#page + 2 * this.size);
  }

  [Symbol.dispose](): void {
    this.close();
  }
}
