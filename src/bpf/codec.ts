/**
 * @module bpf/codec
 * Typed key/value codecs for maps: fixed-size, little-endian, range-checked on every write
 * (`invalid uint32: X`), 64-bit values as bigint. `struct` lays fields out as a C compiler
 * would for the same declaration (natural alignment, tail padding), so a value written by
 * an eBPF program reads back field by field.
 */
import { ErrorCode, KmlibError } from "../errors.ts";

export interface Codec<T> {
  /** For messages: "u32", "struct { a: u32, b: u64 }". */
  readonly name: string;
  readonly size: number;
  readonly align: number;
  encode(value: T, view: DataView, offset: number): void;
  decode(view: DataView, offset: number): T;
}

export type CodecValue<C> = C extends Codec<infer T> ? T : never;

function invalid(what: string, v: unknown): never {
  throw new KmlibError(ErrorCode.InvalidArgument, `invalid ${what}: ${typeof v === "bigint" ? `${v}n` : String(v)}`);
}

function int(name: string, size: 1 | 2 | 4, signed: boolean): Codec<number> {
  const min = signed ? -(2 ** (size * 8 - 1)) : 0;
  const max = signed ? 2 ** (size * 8 - 1) - 1 : 2 ** (size * 8) - 1;
  const what = `${signed ? "int" : "uint"}${size * 8}`;
  const set = {
    1: signed ? (d: DataView, o: number, v: number) => d.setInt8(o, v) : (d: DataView, o: number, v: number) => d.setUint8(o, v),
    2: signed ? (d: DataView, o: number, v: number) => d.setInt16(o, v, true) : (d: DataView, o: number, v: number) => d.setUint16(o, v, true),
    4: signed ? (d: DataView, o: number, v: number) => d.setInt32(o, v, true) : (d: DataView, o: number, v: number) => d.setUint32(o, v, true),
  }[size];
  const get = {
    1: signed ? (d: DataView, o: number) => d.getInt8(o) : (d: DataView, o: number) => d.getUint8(o),
    2: signed ? (d: DataView, o: number) => d.getInt16(o, true) : (d: DataView, o: number) => d.getUint16(o, true),
    4: signed ? (d: DataView, o: number) => d.getInt32(o, true) : (d: DataView, o: number) => d.getUint32(o, true),
  }[size];
  return {
    name,
    size,
    align: size,
    encode(v, d, o) {
      if (typeof v !== "number" || !Number.isInteger(v) || v < min || v > max) invalid(what, v);
      set(d, o, v);
    },
    decode: get,
  };
}

function int64(name: string, signed: boolean): Codec<bigint> {
  const min = signed ? -(1n << 63n) : 0n;
  const max = signed ? (1n << 63n) - 1n : (1n << 64n) - 1n;
  const what = signed ? "int64" : "uint64";
  return {
    name,
    size: 8,
    align: 8,
    encode(v, d, o) {
      if (typeof v !== "bigint" || v < min || v > max) invalid(what, v);
      if (signed) d.setBigInt64(o, v, true);
      else d.setBigUint64(o, v, true);
    },
    decode: signed ? (d, o) => d.getBigInt64(o, true) : (d, o) => d.getBigUint64(o, true),
  };
}

export const u8 = int("u8", 1, false);
export const u16 = int("u16", 2, false);
export const u32 = int("u32", 4, false);
export const i8 = int("i8", 1, true);
export const i16 = int("i16", 2, true);
export const i32 = int("i32", 4, true);
export const u64 = int64("u64", false);
export const i64 = int64("i64", true);

/** A fixed-length byte array (char[n], __u8[n], an address...). */
export function bytes(n: number): Codec<Uint8Array> {
  if (!Number.isInteger(n) || n <= 0) invalid("byte array length", n);
  return {
    name: `u8[${n}]`,
    size: n,
    align: 1,
    encode(v, d, o) {
      if (!(v instanceof Uint8Array) || v.length !== n) invalid(`u8[${n}] (length ${v instanceof Uint8Array ? v.length : typeof v})`, v instanceof Uint8Array ? `[${v.length} bytes]` : v);
      new Uint8Array(d.buffer, d.byteOffset + o, n).set(v);
    },
    decode: (d, o) => new Uint8Array(d.buffer.slice(d.byteOffset + o, d.byteOffset + o + n)),
  };
}

/** A fixed-length array of another codec, laid out back to back. */
export function array<T>(of: Codec<T>, n: number): Codec<T[]> {
  if (!Number.isInteger(n) || n <= 0) invalid("array length", n);
  const stride = of.size;
  return {
    name: `${of.name}[${n}]`,
    size: stride * n,
    align: of.align,
    encode(v, d, o) {
      if (!Array.isArray(v) || v.length !== n) invalid(`${of.name}[${n}] (length ${Array.isArray(v) ? v.length : typeof v})`, Array.isArray(v) ? `[${v.length} items]` : v);
      for (let i = 0; i < n; i++) of.encode(v[i]!, d, o + i * stride);
    },
    decode(d, o) {
      const out: T[] = [];
      for (let i = 0; i < n; i++) out.push(of.decode(d, o + i * stride));
      return out;
    },
  };
}

type StructValue<F extends Record<string, Codec<unknown>>> = { [K in keyof F]: CodecValue<F[K]> };

/**
 * A C struct: fields in declaration order at natural alignment, the size rounded up to the
 * largest alignment (`packed: true` for `__attribute__((packed))`). Padding bytes are zero.
 */
export function struct<F extends Record<string, Codec<unknown>>>(fields: F, opts: { packed?: boolean } = {}): Codec<StructValue<F>> & { readonly offsets: Readonly<Record<keyof F, number>> } {
  let off = 0;
  let align = 1;
  const layout: [string, Codec<unknown>, number][] = [];
  for (const [name, c] of Object.entries(fields)) {
    const a = opts.packed ? 1 : c.align;
    off = Math.ceil(off / a) * a;
    layout.push([name, c, off]);
    off += c.size;
    align = Math.max(align, a);
  }
  const size = Math.ceil(off / align) * align;
  const offsets = Object.fromEntries(layout.map(([n, , o]) => [n, o])) as Record<keyof F, number>;
  return {
    name: `struct { ${layout.map(([n, c]) => `${n}: ${c.name}`).join(", ")} }`,
    size,
    align,
    offsets,
    encode(v, d, o) {
      if (typeof v !== "object" || v === null) invalid("struct value", v);
      new Uint8Array(d.buffer, d.byteOffset + o, size).fill(0);
      for (const [n, c, fo] of layout) {
        if (!(n in v)) throw new KmlibError(ErrorCode.InvalidArgument, `struct value lacks field "${n}"`);
        c.encode((v as Record<string, unknown>)[n], d, o + fo);
      }
    },
    decode(d, o) {
      const out: Record<string, unknown> = {};
      for (const [n, c, fo] of layout) out[n] = c.decode(d, o + fo);
      return out as StructValue<F>;
    },
  };
}

/** Encode one value into a fresh buffer of exactly `codec.size` bytes. */
export function encodeValue<T>(codec: Codec<T>, v: T): Uint8Array {
  const b = new Uint8Array(codec.size);
  codec.encode(v, new DataView(b.buffer), 0);
  return b;
}

export function decodeValue<T>(codec: Codec<T>, b: Uint8Array): T {
  if (b.length !== codec.size) throw new KmlibError(ErrorCode.InvalidArgument, `${codec.name} is ${codec.size} bytes, got ${b.length}`);
  return codec.decode(new DataView(b.buffer, b.byteOffset, b.byteLength), 0);
}
