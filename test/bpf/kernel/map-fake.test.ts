import { test } from "node:test";
import assert from "node:assert/strict";
import { FakeBpfSys, createMap, u32, u64 } from "../../../src/bpf/index.ts";
import type { MapCreateArgs } from "../../../src/bpf/sys/index.ts";
import { ErrorCode, isKmlibError } from "../../../src/errors.ts";

const hashSpec = { name: "h", type: "HASH", keySize: 4, valueSize: 8, maxEntries: 4 } as const;

test("map creation passes the spec through and names the map in errors", () => {
  const sys = new FakeBpfSys().answer("mapCreate", 7, -22);
  using m = createMap(hashSpec, { sys });
  const args = sys.callsOf("mapCreate")[0]![0] as MapCreateArgs;
  assert.deepEqual([args.type, args.name, args.keySize, args.valueSize, args.maxEntries], [1, "h", 4, 8, 4]);
  assert.equal(m.fd, 7);
  assert.throws(() => createMap({ ...hashSpec, name: "second" }, { sys }), (e) => isKmlibError(e, ErrorCode.Syscall) && /"second"/.test(e.message) && /EINVAL/.test(e.message) && /HASH key 4 B/.test(e.message));
});

test("a key of the wrong size never reaches the kernel", () => {
  const sys = new FakeBpfSys().answer("mapCreate", 7);
  using m = createMap(hashSpec, { sys });
  assert.throws(() => m.update(new Uint8Array(8), new Uint8Array(8)), (e) => isKmlibError(e, ErrorCode.InvalidArgument) && /key must be 4 bytes, got 8/.test(e.message));
  assert.equal(sys.callsOf("mapUpdate").length, 0);
});

test("E2BIG on update reads as a full map; ENOENT on lookup as absent", () => {
  const sys = new FakeBpfSys().answer("mapCreate", 7).on("mapUpdate", () => -7).on("mapLookup", () => -2);
  using m = createMap(hashSpec, { sys });
  assert.throws(() => m.typed(u32, u64).set(1, 1n), (e) => isKmlibError(e, ErrorCode.Syscall) && /map is full \(4 entries\)/.test(e.message));
  assert.equal(m.typed(u32, u64).get(1), undefined);
});

test("batch lookup follows the kernel's batch token until ENOENT", () => {
  const sys = new FakeBpfSys().answer("mapCreate", 7);
  const all = [1, 2, 3, 4, 5];
  let pos = 0;
  sys.on("mapLookupBatch", (_fd, inB, outB, keys, values, count) => {
    assert.equal(inB === null, pos === 0, "first call starts from the beginning");
    if (inB) assert.equal(new DataView(inB.buffer).getUint32(0, true), pos, "token passed back");
    const n = Math.min(count[0]!, all.length - pos);
    for (let i = 0; i < n; i++) {
      new DataView(keys.buffer).setUint32(i * 4, all[pos + i]!, true);
      new DataView(values.buffer).setBigUint64(i * 8, BigInt(all[pos + i]! * 10), true);
    }
    pos += n;
    new DataView(outB.buffer).setUint32(0, pos, true);
    count[0] = n;
    return pos >= all.length ? -2 : 0;
  });
  using m = createMap(hashSpec, { sys });
  assert.deepEqual(m.typed(u32, u64).getAll(2), [[1, 10n], [2, 20n], [3, 30n], [4, 40n], [5, 50n]]);
  assert.equal(sys.callsOf("mapLookupBatch").length, 3);
});

test("iteration walks get_next_key from a null key until ENOENT", () => {
  const keys = [5, 9];
  const sys = new FakeBpfSys().answer("mapCreate", 7).on("mapGetNextKey", (_fd, key, next) => {
    const i = key === null ? 0 : keys.indexOf(new DataView(key.buffer).getUint32(0, true)) + 1;
    if (i >= keys.length) return -2;
    new DataView(next.buffer).setUint32(0, keys[i]!, true);
    return 0;
  });
  using m = createMap(hashSpec, { sys });
  assert.deepEqual([...m.typed(u32, u64).keys()], [5, 9]);
});

test("closing releases the fd once, and later use is KMLIB_CLOSED", () => {
  const sys = new FakeBpfSys().answer("mapCreate", 7);
  const m = createMap(hashSpec, { sys });
  m.close();
  m.close();
  assert.deepEqual(sys.callsOf("close"), [[7]]);
  assert.throws(() => m.lookup(new Uint8Array(4)), (e) => isKmlibError(e, ErrorCode.Closed) && /map "h" is closed/.test(e.message));
});
