/**
 * @module bpf/typed-map
 * Typed views of a `BpfMap` (aya style: maps start untyped and become typed on request).
 * The codec sizes are checked against the map's key/value sizes once, with an error naming
 * the expected and actual size; after that keys and values are JS values. Per-CPU maps get
 * `PerCpuMap`, whose values are arrays with one entry per possible CPU. A typed view shares
 * the map's fd: closing either closes the map.
 */
import { ErrorCode, KmlibError } from "../errors.ts";
import type { Codec } from "./codec.ts";
import type { BpfMap } from "./map.ts";
import { MapType, UpdateFlag, nameOf } from "./types.ts";

function checkSizes(map: BpfMap, key: Codec<unknown>, value: Codec<unknown>): void {
  if (key.size !== map.keySize) {
    throw new KmlibError(ErrorCode.InvalidArgument, `${map.describe()}: key codec ${key.name} is ${key.size} bytes, the map's keys are ${map.keySize} bytes`);
  }
  if (value.size !== map.valueSize) {
    throw new KmlibError(ErrorCode.InvalidArgument, `${map.describe()}: value codec ${value.name} is ${value.size} bytes, the map's values are ${map.valueSize} bytes`);
  }
}

abstract class TypedBase<K, V> {
  readonly map: BpfMap;
  readonly keyCodec: Codec<K>;
  readonly valueCodec: Codec<V>;
  // Scratch buffers: a lookup encodes and decodes without allocating a key or value buffer.
  protected readonly keyBuf: Uint8Array;
  protected readonly keyView: DataView;
  protected readonly valBuf: Uint8Array;
  protected readonly valView: DataView;

  constructor(map: BpfMap, key: Codec<K>, value: Codec<V>) {
    checkSizes(map, key as Codec<unknown>, value as Codec<unknown>);
    this.map = map;
    this.keyCodec = key;
    this.valueCodec = value;
    this.keyBuf = new Uint8Array(map.keySize);
    this.keyView = new DataView(this.keyBuf.buffer);
    this.valBuf = new Uint8Array(map.valueBytes);
    this.valView = new DataView(this.valBuf.buffer);
  }

  get fd(): number {
    return this.map.fd;
  }

  protected encodeKey(k: K): Uint8Array {
    this.keyCodec.encode(k, this.keyView, 0);
    return this.keyBuf;
  }

  protected decodeKey(b: Uint8Array): K {
    return this.keyCodec.decode(new DataView(b.buffer, b.byteOffset, b.byteLength), 0);
  }

  delete(k: K): boolean {
    return this.map.delete(this.encodeKey(k));
  }

  *keys(): Generator<K> {
    for (const k of this.map.keys()) yield this.decodeKey(k);
  }

  close(): void {
    this.map.close();
  }

  [Symbol.dispose](): void {
    this.map.close();
  }
}

/** A map with typed keys and values. */
export class TypedMap<K, V> extends TypedBase<K, V> {
  constructor(map: BpfMap, key: Codec<K>, value: Codec<V>) {
    if (map.perCpu) throw new KmlibError(ErrorCode.InvalidArgument, `${map.describe()} is ${nameOf(MapType, map.type)}: use typedPerCpu()`);
    super(map, key, value);
  }

  get(k: K): V | undefined {
    if (!this.map.lookupInto(this.encodeKey(k), this.valBuf)) return undefined;
    return this.valueCodec.decode(this.valView, 0);
  }

  set(k: K, v: V, flags: number = UpdateFlag.ANY): void {
    this.valueCodec.encode(v, this.valView, 0);
    this.map.update(this.encodeKey(k), this.valBuf, flags);
  }

  *entries(): Generator<[K, V]> {
    for (const [k, v] of this.map.entries()) yield [this.decodeKey(k), this.valueCodec.decode(new DataView(v.buffer), 0)];
  }

  [Symbol.iterator](): Generator<[K, V]> {
    return this.entries();
  }

  /** All elements through batch lookups. */
  getAll(chunk?: number): [K, V][] {
    const { keys, values } = this.map.lookupBatch(chunk);
    return keys.map((k, i) => [this.decodeKey(k), this.valueCodec.decode(new DataView(values[i]!.buffer), 0)]);
  }

  /** Many elements in one syscall. */
  setAll(entries: readonly (readonly [K, V])[], flags: number = UpdateFlag.ANY): number {
    const ks = entries.map(([k]) => this.encodeKey(k).slice());
    const vs = entries.map(([, v]) => {
      const b = new Uint8Array(this.map.valueSize);
      this.valueCodec.encode(v, new DataView(b.buffer), 0);
      return b;
    });
    return this.map.updateBatch(ks, vs, flags);
  }

  deleteAll(keys: readonly K[]): number {
    return this.map.deleteBatch(keys.map((k) => this.encodeKey(k).slice()));
  }
}

/** A per-CPU map with typed keys; values are one per possible CPU. */
export class PerCpuMap<K, V> extends TypedBase<K, V> {
  readonly #stride: number;

  constructor(map: BpfMap, key: Codec<K>, value: Codec<V>) {
    if (!map.perCpu) throw new KmlibError(ErrorCode.InvalidArgument, `${map.describe()} is ${nameOf(MapType, map.type)}, not per-CPU: use typed()`);
    super(map, key, value);
    this.#stride = map.valueBytes / map.cpus;
  }

  get cpus(): number {
    return this.map.cpus;
  }

  #decodeAll(view: DataView): V[] {
    return Array.from({ length: this.map.cpus }, (_, i) => this.valueCodec.decode(view, i * this.#stride));
  }

  get(k: K): V[] | undefined {
    if (!this.map.lookupInto(this.encodeKey(k), this.valBuf)) return undefined;
    return this.#decodeAll(this.valView);
  }

  /** One value per CPU, or the same value on every CPU. */
  set(k: K, v: V | readonly V[], flags: number = UpdateFlag.ANY): void {
    const all = Array.isArray(v) ? (v as readonly V[]) : Array.from({ length: this.map.cpus }, () => v as V);
    if (all.length !== this.map.cpus) throw new KmlibError(ErrorCode.InvalidArgument, `${this.map.describe()}: needs ${this.map.cpus} per-CPU values, got ${all.length}`);
    this.valBuf.fill(0);
    all.forEach((x, i) => this.valueCodec.encode(x, this.valView, i * this.#stride));
    this.map.update(this.encodeKey(k), this.valBuf, flags);
  }

  *entries(): Generator<[K, V[]]> {
    for (const [k, v] of this.map.entries()) yield [this.decodeKey(k), this.#decodeAll(new DataView(v.buffer))];
  }

  [Symbol.iterator](): Generator<[K, V[]]> {
    return this.entries();
  }

  getAll(chunk?: number): [K, V[]][] {
    const { keys, values } = this.map.lookupBatch(chunk);
    return keys.map((k, i) => [this.decodeKey(k), this.#decodeAll(new DataView(values[i]!.buffer))]);
  }
}

/** Sum of per-CPU counters (number or bigint values). */
export function sumPerCpu(values: readonly number[]): number;
export function sumPerCpu(values: readonly bigint[]): bigint;
export function sumPerCpu(values: readonly (number | bigint)[]): number | bigint {
  if (values.length > 0 && typeof values[0] === "bigint") return (values as bigint[]).reduce((a, b) => a + b, 0n);
  return (values as number[]).reduce((a, b) => a + b, 0);
}
