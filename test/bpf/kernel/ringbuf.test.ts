import { test } from "node:test";
import assert from "node:assert/strict";
import { requires } from "../../helpers/kernel.ts";
import { Add, AtomicAdd, LoadMapValue, Mov, R10, R2, R7, R8, Return, StoreImm, StoreMem } from "../../../src/bpf/asm/index.ts";
import { RingBuffer, createMap, loadProgram, XdpAction, type BpfMap, type Program } from "../../../src/bpf/index.ts";

const RECORD = 64;

/** XDP producer: a 64-byte record whose first u64 is a global sequence number. */
function producer(rb: RingBuffer, seq: BpfMap): Program {
  const fill = Array.from({ length: 7 }, (_, i) => StoreImm("DW", R10, -56 + i * 8, 0x1111 * (i + 1)));
  return loadProgram({
    name: "rb_producer",
    type: "XDP",
    instructions: [
      LoadMapValue(R7, "seq", 0),
      Mov.imm(R8, 1),
      AtomicAdd("DW", R7, 0, R8, true), // r8 = old value
      StoreMem("DW", R10, -64, R8),
      fill,
      Mov.reg(R2, R10),
      Add.imm(R2, -64),
      rb.output({ data: R2, size: RECORD }),
      Return(XdpAction.DROP),
    ],
    maps: { ...rb.maps, seq },
  });
}

const seqOf = (r: Uint8Array) => Number(new DataView(r.buffer, r.byteOffset).getBigUint64(0, true));

test("records from a producer program arrive in order, whole, with none lost", (t) => {
  if (!requires(t, "bpf")) return;
  using rb = new RingBuffer({ name: "t_rb", size: 1 << 20 });
  using seq = createMap({ name: "t_seq", type: "ARRAY", keySize: 4, valueSize: 8, maxEntries: 1 });
  using prog = producer(rb, seq);
  using reader = rb.reader();
  const n = 5000;
  prog.testRun({ data: new Uint8Array(64), repeat: n });
  const recs = reader.readBatch();
  assert.equal(recs.length, n);
  recs.forEach((r, i) => {
    assert.equal(r.length, RECORD);
    assert.equal(seqOf(r), i);
    assert.equal(new DataView(r.buffer, r.byteOffset, r.byteLength).getUint32(8, true), 0x1111);
  });
  assert.deepEqual(reader.stats(), { records: n, bytes: n * RECORD, discarded: 0, lost: 0n });
  assert.equal(reader.available(), 0);
});

test("records lost to a full buffer are counted, and delivered + lost = produced", (t) => {
  if (!requires(t, "bpf")) return;
  using rb = new RingBuffer({ name: "t_rb_small", size: 4096 });
  using seq = createMap({ name: "t_seq", type: "ARRAY", keySize: 4, valueSize: 8, maxEntries: 1 });
  using prog = producer(rb, seq);
  using reader = rb.reader();
  const n = 1000;
  prog.testRun({ data: new Uint8Array(64), repeat: n });
  const got = reader.readBatch();
  const lost = reader.lost();
  assert.ok(got.length > 0 && got.length < n, `delivered ${got.length}`);
  assert.equal(got.length, Math.floor(4096 / (RECORD + 8)));
  assert.equal(BigInt(got.length) + lost, BigInt(n));
  assert.equal(rb.lost(), lost);
  // Space is free again: the next run delivers its records.
  prog.testRun({ data: new Uint8Array(64), repeat: 10 });
  const more = reader.readBatch();
  assert.equal(more.length, 10);
  assert.equal(seqOf(more[0]!), n, "sequence continues after the lost ones");
});

test("the async iterator delivers records while a producer runs on another thread", async (t) => {
  if (!requires(t, "bpf")) return;
  // 16 MiB holds the whole burst (233k records of 72 bytes), so nothing may be lost even
  // though test-run produces faster than a for-await loop consumes.
  using rb = new RingBuffer({ name: "t_rb_async", size: 1 << 24 });
  using seq = createMap({ name: "t_seq", type: "ARRAY", keySize: 4, valueSize: 8, maxEntries: 1 });
  using prog = producer(rb, seq);
  const reader = rb.reader();
  const n = 200_000;
  let count = 0;
  let next = 0;
  let ordered = true;
  const consumer = (async () => {
    for await (const r of reader) {
      const s = seqOf(r);
      if (s !== next) ordered = false;
      next = s + 1;
      count++;
    }
  })();
  await prog.testRunAsync({ data: new Uint8Array(64), repeat: n });
  // Let the consumer drain the rest, then stop it.
  const deadline = Date.now() + 10_000;
  while (BigInt(count) + reader.lost() < BigInt(n) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 5));
  reader.close();
  await consumer;
  assert.equal(rb.lost(), 0n);
  assert.equal(count, n);
  assert.ok(ordered, "records in sequence order, none missing");
  assert.throws(() => reader.readBatch(), /closed/);
});
