import { test } from "node:test";
import assert from "node:assert/strict";
import { BpfMap, FakeBpfSys, MapType, RingBufReader } from "../../../src/bpf/index.ts";
import { ErrorCode, isKmlibError } from "../../../src/errors.ts";

const PAGE = 4096, SIZE = 4096;
const BUSY = 1 << 31, DISCARD = 1 << 30;

/** A fake kernel ring buffer: consumer page, producer page + data mapped twice. */
function fakeRing() {
  const sys = new FakeBpfSys();
  const consBuf = new ArrayBuffer(PAGE);
  const prodBuf = new ArrayBuffer(PAGE + 2 * SIZE);
  sys.answer("mmap", { addr: 1n, err: 0 }, { addr: 2n, err: 0 });
  sys.on("view", (addr) => (addr === 1n ? consBuf : prodBuf));
  sys.on("munmap", () => 0);
  const map = new BpfMap(3, { name: "rb", type: MapType.RINGBUF, keySize: 0, valueSize: 0, maxEntries: SIZE, flags: 0 }, sys);
  const prod = new BigInt64Array(prodBuf, 0, 1);
  const cons = new BigInt64Array(consBuf, 0, 1);
  const data = new DataView(prodBuf, PAGE);
  let pos = 0;
  /** Write a record as the kernel does (into both mappings of the data area). */
  const put = (payload: number[], flags = 0) => {
    const write = (off: number, fn: (o: number) => void) => {
      fn(off % SIZE);
      fn((off % SIZE) + SIZE);
    };
    write(pos, (o) => data.setUint32(o, payload.length | flags, true));
    payload.forEach((b, i) => write(pos + 8 + i, (o) => data.setUint8(o, b)));
    const at = pos;
    pos += (payload.length + 8 + 7) & ~7;
    prod[0] = BigInt(pos);
    return at;
  };
  const clearBusy = (at: number, len: number) => {
    data.setUint32(at % SIZE, len, true);
    data.setUint32((at % SIZE) + SIZE, len, true);
  };
  return { sys, map, put, clearBusy, cons };
}

test("reads records, skips discarded ones and publishes the consumer position", () => {
  const { map, put, cons } = fakeRing();
  using r = new RingBufReader(map);
  put([1, 2, 3]);
  put([9, 9], DISCARD);
  put([4, 5, 6, 7, 8, 9, 10, 11, 12]);
  const got = r.readBatch();
  assert.deepEqual(got.map((x) => [...x]), [[1, 2, 3], [4, 5, 6, 7, 8, 9, 10, 11, 12]]);
  assert.equal(Number(cons[0]), 16 + 16 + 24);
  assert.deepEqual({ ...r.stats(), lost: 0n }, { records: 2, bytes: 12, discarded: 1, lost: 0n });
});

test("stops at a record still being written (busy bit) and resumes once it is committed", () => {
  const { map, put, clearBusy } = fakeRing();
  using r = new RingBufReader(map);
  put([1]);
  const at = put([2, 2], BUSY);
  put([3]);
  assert.deepEqual(r.readBatch().map((x) => [...x]), [[1]]);
  assert.equal(r.readBatch().length, 0);
  clearBusy(at, 2);
  assert.deepEqual(r.readBatch().map((x) => [...x]), [[2, 2], [3]]);
});

test("records that wrap around the end of the data area come out whole", () => {
  const { map, put } = fakeRing();
  using r = new RingBufReader(map);
  const big = Array.from({ length: 4000 }, (_, i) => i & 0xff);
  put(big);
  assert.equal(r.readBatch()[0]!.length, 4000);
  const wrapping = Array.from({ length: 200 }, (_, i) => (i * 7) & 0xff);
  put(wrapping); // starts at 4008, ends past 4096
  const got = r.readBatch();
  assert.deepEqual([...got[0]!], wrapping);
  assert.equal(r.consumeRaw(() => assert.fail("nothing left")), 0);
});

test("a closed reader throws KMLIB_CLOSED and unmaps once", () => {
  const { sys, map } = fakeRing();
  const r = new RingBufReader(map);
  r.close();
  r.close();
  assert.equal(sys.callsOf("munmap").length, 2);
  assert.throws(() => r.readBatch(), (e) => isKmlibError(e, ErrorCode.Closed));
});
