import { test } from "node:test";
import assert from "node:assert/strict";
import { array, bytes, decodeValue, encodeValue, i16, i32, i64, i8, struct, u16, u32, u64, u8 } from "../../../src/bpf/index.ts";
import { ErrorCode, isKmlibError } from "../../../src/errors.ts";

test("integers encode little-endian and round-trip at their limits", () => {
  assert.deepEqual([...encodeValue(u32, 0x01020304)], [4, 3, 2, 1]);
  assert.deepEqual([...encodeValue(u16, 0xbeef)], [0xef, 0xbe]);
  assert.deepEqual([...encodeValue(i16, -2)], [0xfe, 0xff]);
  for (const [c, vals] of [[u8, [0, 255]], [i8, [-128, 127]], [u16, [0, 65535]], [i16, [-32768, 32767]], [u32, [0, 2 ** 32 - 1]], [i32, [-(2 ** 31), 2 ** 31 - 1]]] as const) {
    for (const v of vals) assert.equal(decodeValue(c, encodeValue(c, v)), v);
  }
  assert.equal(decodeValue(u64, encodeValue(u64, (1n << 64n) - 1n)), (1n << 64n) - 1n);
  assert.equal(decodeValue(i64, encodeValue(i64, -(1n << 63n))), -(1n << 63n));
});

test("out-of-range and wrongly typed values are refused with the codec's name", () => {
  const bad: [Parameters<typeof encodeValue>[0], unknown, RegExp][] = [
    [u32, -1, /invalid uint32: -1/],
    [u32, 2 ** 32, /invalid uint32: 4294967296/],
    [u8, 1.5, /invalid uint8: 1.5/],
    [i8, 128, /invalid int8: 128/],
    [u64, -1n, /invalid uint64: -1n/],
    [u64, 5, /invalid uint64: 5/],
    [i64, 1n << 63n, /invalid int64/],
    [bytes(4), new Uint8Array(3), /u8\[4\] \(length 3\)/],
  ];
  for (const [c, v, re] of bad) {
    assert.throws(() => encodeValue(c, v as never), (e) => isKmlibError(e, ErrorCode.InvalidArgument) && re.test(e.message), `${c.name} ${String(v)}`);
  }
});

test("structs follow C layout: natural alignment and tail padding", () => {
  const s = struct({ a: u8, b: u32, c: u16, d: u64, e: bytes(3) });
  assert.deepEqual(s.offsets, { a: 0, b: 4, c: 8, d: 16, e: 24 });
  assert.equal(s.size, 32);
  assert.equal(s.align, 8);
  const v = { a: 1, b: 0x11223344, c: 7, d: 99n, e: new Uint8Array([9, 8, 7]) };
  const enc = encodeValue(s, v);
  assert.equal(enc[4], 0x44);
  assert.deepEqual(decodeValue(s, enc), v);
  const packed = struct({ a: u8, b: u32 }, { packed: true });
  assert.equal(packed.size, 5);
  assert.throws(() => encodeValue(s, { a: 1 } as never), (e) => isKmlibError(e, ErrorCode.InvalidArgument) && /lacks field "b"/.test(e.message));
});

test("arrays of codecs", () => {
  const a = array(u16, 3);
  assert.equal(a.size, 6);
  assert.deepEqual(decodeValue(a, encodeValue(a, [1, 2, 3])), [1, 2, 3]);
  assert.throws(() => encodeValue(a, [1, 2]), (e) => isKmlibError(e, ErrorCode.InvalidArgument));
});
