/**
 * @module bpf/map
 * Maps: a `MapSpec` is plain data; `createMap` makes the kernel object and returns a
 * `BpfMap` holding its fd. Maps are untyped (keys and values are `Uint8Array`s of exactly
 * keySize/valueSize bytes) until `typed(keyCodec, valueCodec)` is asked for, which checks
 * the codec sizes against the map's. Per-CPU maps hold one value per possible CPU, each
 * padded to 8 bytes (`lookupPerCpu`/`updatePerCpu`). Iteration walks get_next_key; batch
 * operations move many elements per syscall. Needs CAP_BPF.
 */
import { ErrorCode, KmlibError } from "../errors.ts";
import { check, sysError, SyscallError } from "./errors.ts";
import { FdObject } from "./fd.ts";
import { mapInfo, type MapInfo } from "./info.ts";
import { checkU32, enumValue, rejectUnknown } from "./options.ts";
import { openPinned, pinObject } from "./pin.ts";
import { bpfSys, type BatchFlags, type BpfSys } from "./sys/index.ts";
import type { Codec } from "./codec.ts";
import { PerCpuMap, TypedMap } from "./typed-map.ts";
import { BPF_OBJ_NAME_LEN, MapType, UpdateFlag, nameOf, type MapTypeName } from "./types.ts";

export interface MapSpec {
  readonly name: string;
  readonly type: MapTypeName | number;
  /** 0 for ring buffers. */
  readonly keySize: number;
  /** 0 for ring buffers; per CPU for per-CPU maps. */
  readonly valueSize: number;
  /** Ring buffers: the data size in bytes (a power of two, multiple of the page size). */
  readonly maxEntries: number;
  /** BPF_F_* (see MapFlag). */
  readonly flags?: number;
  readonly numaNode?: number;
  /** For map-in-map types: a template inner map. */
  readonly innerMap?: { readonly fd: number };
}

export interface MapOptions {
  readonly sys?: BpfSys;
}

const specKeys = ["name", "type", "keySize", "valueSize", "maxEntries", "flags", "numaNode", "innerMap"];
const ENOENT = 2, E2BIG = 7;
const PER_CPU: readonly number[] = [MapType.PERCPU_ARRAY, MapType.PERCPU_HASH, MapType.LRU_PERCPU_HASH];

export function isPerCpu(type: number): boolean {
  return PER_CPU.includes(type);
}

/** Create a map in the kernel. */
export function createMap(spec: MapSpec, opts: MapOptions = {}): BpfMap {
  rejectUnknown(spec, specKeys, `map spec "${spec.name}"`);
  rejectUnknown(opts, ["sys"], "map options");
  const sys = opts.sys ?? bpfSys();
  const type = enumValue(MapType, spec.type, "map type");
  const name = spec.name.replace(/[^A-Za-z0-9_.]/g, "_").slice(0, BPF_OBJ_NAME_LEN - 1);
  const flags = checkU32(spec.flags ?? 0, "map flags");
  const args = {
    type, name,
    keySize: checkU32(spec.keySize, "keySize"),
    valueSize: checkU32(spec.valueSize, "valueSize"),
    maxEntries: checkU32(spec.maxEntries, "maxEntries"),
    flags,
    innerMapFd: spec.innerMap?.fd ?? 0,
    numaNode: checkU32(spec.numaNode ?? 0, "numaNode"),
    mapExtra: 0n,
    ifindex: 0,
  };
  const fd = sys.mapCreate(args);
  if (fd < 0) {
    const detail = `${nameOf(MapType, type)} key ${spec.keySize} B, value ${spec.valueSize} B, ${spec.maxEntries} entries, flags 0x${flags.toString(16)}`;
    throw sysError(`create map "${spec.name}"`, fd, ["bpf"], detail);
  }
  return new BpfMap(fd, { name: spec.name, type, keySize: args.keySize, valueSize: args.valueSize, maxEntries: args.maxEntries, flags }, sys);
}

interface MapShape {
  readonly name: string;
  readonly type: number;
  readonly keySize: number;
  readonly valueSize: number;
  readonly maxEntries: number;
  readonly flags: number;
}

export interface BatchResult {
  readonly keys: Uint8Array[];
  readonly values: Uint8Array[];
}

/** A map in the kernel, untyped: keys and values are byte arrays. */
export class BpfMap extends FdObject implements MapShape {
  readonly name: string;
  readonly type: number;
  readonly keySize: number;
  readonly valueSize: number;
  readonly maxEntries: number;
  readonly flags: number;
  /** Possible CPUs (per-CPU maps hold one value each). */
  readonly cpus: number;
  /** Bytes of one element's value as the syscall sees it (all CPUs for per-CPU maps). */
  readonly valueBytes: number;
  readonly #stride: number;

  constructor(fd: number, shape: MapShape, sys: BpfSys = bpfSys()) {
    super(fd, sys);
    this.name = shape.name;
    this.type = shape.type;
    this.keySize = shape.keySize;
    this.valueSize = shape.valueSize;
    this.maxEntries = shape.maxEntries;
    this.flags = shape.flags;
    const perCpu = isPerCpu(shape.type);
    this.cpus = perCpu ? sys.numPossibleCpus() : 1;
    this.#stride = perCpu ? Math.ceil(shape.valueSize / 8) * 8 : shape.valueSize;
    this.valueBytes = this.#stride * this.cpus;
  }

  describe(): string {
    return `map "${this.name}"`;
  }

  get perCpu(): boolean {
    return isPerCpu(this.type);
  }

  info(): MapInfo {
    return mapInfo(this.fd, this.sys, this.describe());
  }

  #checkKey(key: Uint8Array): void {
    if (!(key instanceof Uint8Array) || key.length !== this.keySize) {
      throw new KmlibError(ErrorCode.InvalidArgument, `${this.describe()}: key must be ${this.keySize} bytes, got ${key instanceof Uint8Array ? key.length : typeof key}`);
    }
  }

  #checkValue(value: Uint8Array, size = this.valueBytes): void {
    if (!(value instanceof Uint8Array) || value.length !== size) {
      const per = this.perCpu ? ` (${this.cpus} CPUs x ${this.#stride} bytes; use updatePerCpu)` : "";
      throw new KmlibError(ErrorCode.InvalidArgument, `${this.describe()}: value must be ${size} bytes${per}, got ${value instanceof Uint8Array ? value.length : typeof value}`);
    }
  }

  /** The value (all CPUs' values back to back for per-CPU maps), or undefined. */
  lookup(key: Uint8Array): Uint8Array | undefined {
    const out = new Uint8Array(this.valueBytes);
    return this.lookupInto(key, out) ? out : undefined;
  }

  /** Allocation-free lookup: fills `out`; false when the key is absent. */
  lookupInto(key: Uint8Array, out: Uint8Array, flags = 0n): boolean {
    this.#checkKey(key);
    this.#checkValue(out);
    const r = this.sys.mapLookup(this.fd, key, out, flags);
    if (r === -ENOENT) return false;
    check(`lookup in ${this.describe()}`, r);
    return true;
  }

  /** Insert or replace (flags: UpdateFlag.ANY / NOEXIST / EXIST). */
  update(key: Uint8Array, value: Uint8Array, flags: number = UpdateFlag.ANY): void {
    this.#checkKey(key);
    this.#checkValue(value);
    const r = this.sys.mapUpdate(this.fd, key, value, BigInt(flags));
    if (r === -E2BIG) throw new SyscallError(`update ${this.describe()}`, E2BIG, `the map is full (${this.maxEntries} entries)`);
    check(`update ${this.describe()}`, r);
  }

  /** False when the key was absent. Array maps refuse deletion (EINVAL). */
  delete(key: Uint8Array): boolean {
    this.#checkKey(key);
    const r = this.sys.mapDelete(this.fd, key);
    if (r === -ENOENT) return false;
    check(`delete from ${this.describe()}`, r);
    return true;
  }

  /** Remove and return (hash, LRU hash, queue, stack). */
  lookupAndDelete(key: Uint8Array): Uint8Array | undefined {
    this.#checkKey(key);
    const out = new Uint8Array(this.valueBytes);
    const r = this.sys.mapLookupAndDelete(this.fd, this.keySize === 0 ? null : key, out);
    if (r === -ENOENT) return undefined;
    check(`lookup-and-delete in ${this.describe()}`, r);
    return out;
  }

  /** Per-CPU maps: one value per possible CPU. */
  lookupPerCpu(key: Uint8Array): Uint8Array[] | undefined {
    this.#requirePerCpu("lookupPerCpu");
    const all = this.lookup(key);
    if (!all) return undefined;
    return Array.from({ length: this.cpus }, (_, i) => all.slice(i * this.#stride, i * this.#stride + this.valueSize));
  }

  /** Per-CPU maps: set each CPU's value (`values.length` must be the CPU count). */
  updatePerCpu(key: Uint8Array, values: readonly Uint8Array[], flags: number = UpdateFlag.ANY): void {
    this.#requirePerCpu("updatePerCpu");
    if (values.length !== this.cpus) throw new KmlibError(ErrorCode.InvalidArgument, `${this.describe()}: needs ${this.cpus} per-CPU values, got ${values.length}`);
    const all = new Uint8Array(this.valueBytes);
    values.forEach((v, i) => {
      this.#checkValue(v, this.valueSize);
      all.set(v, i * this.#stride);
    });
    this.update(key, all, flags);
  }

  #requirePerCpu(what: string): void {
    if (!this.perCpu) throw new KmlibError(ErrorCode.InvalidArgument, `${this.describe()}: ${what} needs a per-CPU map, this is ${nameOf(MapType, this.type)}`);
  }

  /** Keys in kernel order (get_next_key). A synchronous iterator; safe to delete while walking. */
  *keys(): Generator<Uint8Array> {
    let prev: Uint8Array | null = null;
    for (;;) {
      const next = new Uint8Array(this.keySize);
      const r = this.sys.mapGetNextKey(this.fd, prev, next);
      if (r === -ENOENT) return;
      check(`iterate ${this.describe()}`, r);
      yield next;
      prev = next;
    }
  }

  /** [key, value] pairs; elements deleted meanwhile are skipped. */
  *entries(): Generator<[Uint8Array, Uint8Array]> {
    for (const k of this.keys()) {
      const v = this.lookup(k);
      if (v) yield [k, v];
    }
  }

  [Symbol.iterator](): Generator<[Uint8Array, Uint8Array]> {
    return this.entries();
  }

  /** Every element via BPF_MAP_LOOKUP_BATCH (`chunk` elements per syscall). */
  lookupBatch(chunk = 256, flags: BatchFlags = { elemFlags: 0n, flags: 0n }): BatchResult {
    return this.#batchRead(false, chunk, flags);
  }

  /** Every element, removing each (BPF_MAP_LOOKUP_AND_DELETE_BATCH; hash maps). */
  lookupAndDeleteBatch(chunk = 256, flags: BatchFlags = { elemFlags: 0n, flags: 0n }): BatchResult {
    return this.#batchRead(true, chunk, flags);
  }

  #batchRead(del: boolean, chunk: number, f: BatchFlags): BatchResult {
    checkU32(chunk, "batch size");
    const tokenSize = Math.max(this.keySize, 8);
    let inB: Uint8Array | null = null;
    const outB = new Uint8Array(tokenSize);
    const keys = new Uint8Array(this.keySize * chunk);
    const values = new Uint8Array(this.valueBytes * chunk);
    const count = new Uint32Array(1);
    const res: BatchResult = { keys: [], values: [] };
    for (;;) {
      count[0] = chunk;
      const r = del
        ? this.sys.mapLookupAndDeleteBatch(this.fd, inB, outB, keys, values, count, f)
        : this.sys.mapLookupBatch(this.fd, inB, outB, keys, values, count, f);
      if (r < 0 && r !== -ENOENT) throw sysError(`batch ${del ? "lookup-and-delete" : "lookup"} in ${this.describe()}`, r);
      const n = count[0]!;
      for (let i = 0; i < n; i++) {
        res.keys.push(keys.slice(i * this.keySize, (i + 1) * this.keySize));
        res.values.push(values.slice(i * this.valueBytes, (i + 1) * this.valueBytes));
      }
      if (r === -ENOENT) return res;
      inB ??= new Uint8Array(tokenSize);
      inB.set(outB);
    }
  }

  /** Update many elements in one syscall; returns how many were written. */
  updateBatch(keys: readonly Uint8Array[], values: readonly Uint8Array[], flags: number = UpdateFlag.ANY): number {
    if (keys.length !== values.length) throw new KmlibError(ErrorCode.InvalidArgument, `${this.describe()}: ${keys.length} keys but ${values.length} values`);
    if (keys.length === 0) return 0;
    const kb = new Uint8Array(this.keySize * keys.length);
    const vb = new Uint8Array(this.valueBytes * keys.length);
    keys.forEach((k, i) => (this.#checkKey(k), kb.set(k, i * this.keySize)));
    values.forEach((v, i) => (this.#checkValue(v), vb.set(v, i * this.valueBytes)));
    const count = new Uint32Array([keys.length]);
    check(`batch update ${this.describe()} (${count[0]} of ${keys.length} written)`, this.sys.mapUpdateBatch(this.fd, kb, vb, count, { elemFlags: BigInt(flags), flags: 0n }));
    return count[0]!;
  }

  /** Delete many elements in one syscall; returns how many were deleted (absent keys fail with ENOENT). */
  deleteBatch(keys: readonly Uint8Array[]): number {
    if (keys.length === 0) return 0;
    const kb = new Uint8Array(this.keySize * keys.length);
    keys.forEach((k, i) => (this.#checkKey(k), kb.set(k, i * this.keySize)));
    const count = new Uint32Array([keys.length]);
    check(`batch delete from ${this.describe()}`, this.sys.mapDeleteBatch(this.fd, kb, count, { elemFlags: 0n, flags: 0n }));
    return count[0]!;
  }

  /** Make the map read-only for user space (programs may still write). */
  freeze(): void {
    check(`freeze ${this.describe()}`, this.sys.mapFreeze(this.fd));
  }

  /** Program arrays: put `prog` at `index` for tail calls. */
  setProgram(index: number, prog: { readonly fd: number }): void {
    if (this.type !== MapType.PROG_ARRAY) throw new KmlibError(ErrorCode.InvalidArgument, `${this.describe()} is not a PROG_ARRAY`);
    const k = new Uint8Array(4), v = new Uint8Array(4);
    new DataView(k.buffer).setUint32(0, checkU32(index, "index"), true);
    new DataView(v.buffer).setUint32(0, prog.fd, true);
    this.update(k, v);
  }

  /** Pin under bpffs (relative paths under /sys/fs/bpf/kmlib/); returns the path. */
  pin(path: string): string {
    return pinObject(this, path);
  }

  /** A typed view; the codec sizes must match the map's key and value sizes. */
  typed<K, V>(key: Codec<K>, value: Codec<V>): TypedMap<K, V> {
    return new TypedMap(this, key, value);
  }

  /** A typed view of a per-CPU map (values: one per possible CPU). */
  typedPerCpu<K, V>(key: Codec<K>, value: Codec<V>): PerCpuMap<K, V> {
    return new PerCpuMap(this, key, value);
  }
}

/** Wrap a map fd this process owns; closes it if it is no map. */
export function mapFromFd(fd: number, sys: BpfSys = bpfSys()): BpfMap {
  try {
    const i = mapInfo(fd, sys);
    return new BpfMap(fd, { name: i.name, type: i.type, keySize: i.keySize, valueSize: i.valueSize, maxEntries: i.maxEntries, flags: i.flags }, sys);
  } catch (e) {
    sys.close(fd);
    throw e;
  }
}

/** Open a map pinned at `path` (relative: under /sys/fs/bpf/kmlib/). */
export function mapFromPin(path: string, sys: BpfSys = bpfSys()): BpfMap {
  return mapFromFd(openPinned(path, sys), sys);
}

/** Open a map by its kernel id (needs CAP_SYS_ADMIN). */
export function mapFromId(id: number, sys: BpfSys = bpfSys()): BpfMap {
  const fd = sys.getFdById("map", checkU32(id, "map id"));
  if (fd === -ENOENT) throw new KmlibError(ErrorCode.NotFound, `no map with id ${id}`);
  return mapFromFd(check(`open map id ${id}`, fd, ["sys_admin"]), sys);
}
