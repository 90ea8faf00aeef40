import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { requires } from "../../helpers/kernel.ts";
import { createMap, loadProgram, unpin, u32, u64, Return } from "../../../src/bpf/index.ts";

const main = fileURLToPath(new URL("../../../src/cli/main.ts", import.meta.url));
const kmlib = (...args: string[]) => spawnSync(process.execPath, ["--import", "tsx", main, ...args], { encoding: "utf8", timeout: 30_000 });

test("kmlib bpf prog list / map list / map dump show what is loaded", (t) => {
  if (!requires(t, "bpf")) return;
  const dir = `test-cli-${process.pid}`;
  try {
    using m = createMap({ name: "cli_dump", type: "HASH", keySize: 4, valueSize: 8, maxEntries: 8 });
    const tm = m.typed(u32, u64);
    tm.set(7, 700n);
    tm.set(9, 900n);
    m.pin(`${dir}/m`);
    using p = loadProgram({ name: "cli_prog", type: "XDP", instructions: [Return(2)] });
    const progs = kmlib("bpf", "prog", "list", "--json");
    assert.equal(progs.status, 0, progs.stderr);
    const mine = (JSON.parse(progs.stdout) as { id: number; name: string; type: string }[]).find((x) => x.id === p.info().id);
    assert.deepEqual({ name: mine?.name, type: mine?.type }, { name: "cli_prog", type: "XDP" });
    const maps = kmlib("bpf", "map", "list");
    assert.match(maps.stdout, new RegExp(`^${m.info().id}\\s+HASH\\s+cli_dump\\s+4\\s+8\\s+8`, "m"));
    for (const ref of [`${dir}/m`, String(m.info().id)]) {
      const dump = kmlib("bpf", "map", "dump", ref, "--key", "u32", "--value", "u64", "--json");
      assert.equal(dump.status, 0, dump.stderr);
      const entries = (JSON.parse(dump.stdout) as { entries: { key: number; value: string }[] }).entries.sort((a, b) => a.key - b.key);
      assert.deepEqual(entries, [{ key: 7, value: "700" }, { key: 9, value: "900" }]);
    }
    const bad = kmlib("bpf", "map", "dump", `${dir}/m`, "--key", "u64");
    assert.equal(bad.status, 1);
    assert.match(bad.stderr, /kmlib: KMLIB_INVALID_ARGUMENT: key type u64 is 8 bytes, the map's keys are 4 bytes/);
    const missing = kmlib("bpf", "map", "dump", "999999999");
    assert.match(missing.stderr, /KMLIB_NOT_FOUND: no map with id 999999999/);
  } finally {
    unpin(dir);
  }
});
