import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { requires } from "../../helpers/kernel.ts";
import { Call, Helper, LoadMapPtr, Mov, R2, R3, Return } from "../../../src/bpf/asm/index.ts";
import { createMap, encodeValue, loadProgram, struct, sumPerCpu, u32, u64, UpdateFlag, type MapTypeName } from "../../../src/bpf/index.ts";
import { ErrorCode, isKmlibError } from "../../../src/errors.ts";

const key = (n: number) => encodeValue(u32, n);
const val = (n: bigint) => encodeValue(u64, n);

// One shared suite run against every key/value map type (hono's common-case pattern).
const kinds: { type: MapTypeName; array: boolean; perCpu: boolean }[] = [
  { type: "ARRAY", array: true, perCpu: false },
  { type: "HASH", array: false, perCpu: false },
  { type: "LRU_HASH", array: false, perCpu: false },
  { type: "PERCPU_ARRAY", array: true, perCpu: true },
  { type: "PERCPU_HASH", array: false, perCpu: true },
  { type: "LRU_PERCPU_HASH", array: false, perCpu: true },
];

for (const kind of kinds) {
  describe(`${kind.type} map`, () => {
    test("update, lookup, delete, iterate", (t) => {
      if (!requires(t, "bpf")) return;
      using m = createMap({ name: `t_${kind.type.toLowerCase()}`, type: kind.type, keySize: 4, valueSize: 8, maxEntries: 16 });
      assert.equal(m.perCpu, kind.perCpu);
      assert.equal(m.info().typeName, kind.type);
      if (kind.perCpu) {
        assert.equal(m.valueBytes, 8 * m.cpus);
        const tm = m.typedPerCpu(u32, u64);
        tm.set(3, Array.from({ length: m.cpus }, (_, i) => BigInt(i + 10)));
        assert.deepEqual(tm.get(3), Array.from({ length: m.cpus }, (_, i) => BigInt(i + 10)));
        assert.equal(sumPerCpu(tm.get(3)!), Array.from({ length: m.cpus }, (_, i) => BigInt(i + 10)).reduce((a, b) => a + b));
        tm.set(5, 7n);
        assert.deepEqual(tm.get(5), Array(m.cpus).fill(7n));
        assert.deepEqual(m.lookupPerCpu(key(5))!.map((b) => b[0]), Array(m.cpus).fill(7));
      } else {
        const tm = m.typed(u32, u64);
        tm.set(3, 1234n);
        tm.set(5, (1n << 64n) - 1n);
        assert.equal(tm.get(3), 1234n);
        assert.equal(tm.get(5), (1n << 64n) - 1n);
        assert.deepEqual(m.lookup(key(3)), val(1234n));
      }
      if (kind.array) {
        assert.ok(m.lookup(key(15)), "array elements always exist");
        assert.equal(m.lookup(key(16)), undefined);
        assert.equal([...m.keys()].length, 16);
        assert.throws(() => m.delete(key(3)), (e) => isKmlibError(e, ErrorCode.Syscall) && /EINVAL/.test(e.message));
      } else {
        assert.equal(m.lookup(key(4)), undefined);
        assert.deepEqual([...m.keys()].map((k) => k[0]).sort(), [3, 5]);
        assert.equal([...m.entries()].length, 2);
        assert.equal(m.delete(key(3)), true);
        assert.equal(m.delete(key(3)), false);
        assert.equal(m.lookup(key(3)), undefined);
      }
    });

    test("batch update, lookup and delete", (t) => {
      if (!requires(t, "bpf")) return;
      using m = createMap({ name: "t_batch", type: kind.type, keySize: 4, valueSize: 8, maxEntries: 64 });
      const n = 40;
      const keys = Array.from({ length: n }, (_, i) => key(i));
      const values = keys.map((_, i) => {
        const b = new Uint8Array(m.valueBytes);
        for (let c = 0; c < m.cpus; c++) b.set(val(BigInt(i * 100 + c)), c * 8);
        return b;
      });
      assert.equal(m.updateBatch(keys, values), n);
      const got = m.lookupBatch(7); // several syscalls
      const byKey = new Map(got.keys.map((k, i) => [new DataView(k.buffer).getUint32(0, true), got.values[i]!]));
      for (let i = 0; i < n; i++) assert.deepEqual(byKey.get(i), values[i], `key ${i}`);
      assert.equal(got.keys.length, kind.array ? 64 : n);
      if (!kind.array) {
        assert.equal(m.deleteBatch(keys.slice(0, 10)), 10);
        assert.equal(m.lookupBatch().keys.length, n - 10);
        const drained = m.lookupAndDeleteBatch(8);
        assert.equal(drained.keys.length, n - 10);
        assert.equal([...m.keys()].length, 0);
      }
    });
  });
}

test("typed maps check codec sizes against the map, naming both", (t) => {
  if (!requires(t, "bpf")) return;
  using m = createMap({ name: "t_sizes", type: "HASH", keySize: 4, valueSize: 8, maxEntries: 4 });
  assert.throws(() => m.typed(u64, u64), (e) => isKmlibError(e, ErrorCode.InvalidArgument) && /key codec u64 is 8 bytes, the map's keys are 4 bytes/.test(e.message));
  assert.throws(() => m.typed(u32, u32), (e) => isKmlibError(e, ErrorCode.InvalidArgument) && /value codec u32 is 4 bytes, the map's values are 8 bytes/.test(e.message));
  assert.throws(() => m.typedPerCpu(u32, u64), (e) => isKmlibError(e, ErrorCode.InvalidArgument) && /not per-CPU/.test(e.message));
  assert.throws(() => m.lookup(new Uint8Array(3)), (e) => isKmlibError(e, ErrorCode.InvalidArgument) && /key must be 4 bytes, got 3/.test(e.message));
  assert.throws(() => m.update(key(1), new Uint8Array(9)), (e) => isKmlibError(e, ErrorCode.InvalidArgument) && /value must be 8 bytes, got 9/.test(e.message));
  assert.throws(() => m.typed(u32, u64).set(1, -1n), (e) => isKmlibError(e, ErrorCode.InvalidArgument) && /invalid uint64: -1n/.test(e.message));
});

test("struct values written in user space read back field by field", (t) => {
  if (!requires(t, "bpf")) return;
  const Flow = struct({ packets: u64, bytes: u64, proto: u32 });
  using m = createMap({ name: "t_struct", type: "HASH", keySize: 4, valueSize: Flow.size, maxEntries: 4 });
  const tm = m.typed(u32, Flow);
  tm.set(1, { packets: 3n, bytes: 180n, proto: 17 });
  assert.deepEqual(tm.get(1), { packets: 3n, bytes: 180n, proto: 17 });
  assert.deepEqual(tm.getAll(), [[1, { packets: 3n, bytes: 180n, proto: 17 }]]);
});

test("update flags, a full hash map and a closed map are clear errors", (t) => {
  if (!requires(t, "bpf")) return;
  const m = createMap({ name: "t_full", type: "HASH", keySize: 4, valueSize: 8, maxEntries: 2 });
  const tm = m.typed(u32, u64);
  tm.set(1, 1n, UpdateFlag.NOEXIST);
  assert.throws(() => tm.set(1, 2n, UpdateFlag.NOEXIST), (e) => isKmlibError(e, ErrorCode.Syscall) && /EEXIST/.test(e.message));
  assert.throws(() => tm.set(9, 2n, UpdateFlag.EXIST), (e) => isKmlibError(e, ErrorCode.Syscall) && /ENOENT/.test(e.message));
  tm.set(2, 2n);
  assert.throws(() => tm.set(3, 3n), (e) => isKmlibError(e, ErrorCode.Syscall) && /full/.test(e.message));
  m.close();
  assert.throws(() => tm.get(1), (e) => isKmlibError(e, ErrorCode.Closed) && /t_full/.test(e.message));
});

test("a PROG_ARRAY drives tail calls", (t) => {
  if (!requires(t, "bpf")) return;
  using jmp = createMap({ name: "t_jmp", type: "PROG_ARRAY", keySize: 4, valueSize: 4, maxEntries: 2 });
  using target = loadProgram({ name: "tail_target", type: "XDP", instructions: [Return(3)] });
  // r1 (ctx) is still set on entry; tail_call(ctx, jmp, 0) does not return on success.
  using entry = loadProgram({
    name: "tail_entry",
    type: "XDP",
    instructions: [LoadMapPtr(R2, "jmp"), Mov.imm(R3, 0), Call(Helper.tail_call), Return(1)],
    maps: { jmp },
  });
  const pkt = new Uint8Array(64);
  assert.equal(entry.testRun({ data: pkt }).retval, 1, "empty slot: falls through");
  jmp.setProgram(0, target);
  assert.equal(entry.testRun({ data: pkt }).retval, 3, "tail-called");
});

test("a ring buffer map is created with a page-multiple size", (t) => {
  if (!requires(t, "bpf")) return;
  using rb = createMap({ name: "t_rb", type: "RINGBUF", keySize: 0, valueSize: 0, maxEntries: 1 << 16 });
  assert.equal(rb.info().typeName, "RINGBUF");
  assert.throws(() => createMap({ name: "t_rb_bad", type: "RINGBUF", keySize: 0, valueSize: 0, maxEntries: 1000 }), (e) => isKmlibError(e, ErrorCode.Syscall) && /EINVAL/.test(e.message) && /RINGBUF/.test(e.message));
});
