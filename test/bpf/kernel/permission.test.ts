import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { requires } from "../../helpers/kernel.ts";
import { ErrorCode } from "../../../src/errors.ts";

const child = fileURLToPath(new URL("./fixtures/no-caps.ts", import.meta.url));

test("without capabilities, bpf operations fail with KMLIB_PERMISSION naming what is missing", (t) => {
  if (!requires(t, "bpf")) return;
  // Same uid (root), but no capabilities at all: an empty bounding set leaves root nothing.
  const r = spawnSync("setpriv", ["--inh-caps=-all", "--ambient-caps=-all", "--bounding-set=-all", process.execPath, "--import", "tsx", child], {
    encoding: "utf8",
    timeout: 30_000,
  });
  assert.equal(r.status, 0, r.stderr);
  const results = Object.fromEntries(r.stdout.trim().split("\n").map((l) => JSON.parse(l) as { what: string; code?: string; message?: string }).map((x) => [x.what, x]));
  for (const what of ["map", "xdp", "stats"]) {
    assert.equal(results[what]?.code, ErrorCode.Permission, `${what}: ${JSON.stringify(results[what])}`);
    assert.match(results[what]!.message!, /EPERM/);
    assert.match(results[what]!.message!, /lacks/);
  }
  assert.match(results.map!.message!, /needs CAP_BPF \(or CAP_SYS_ADMIN\)/);
  assert.match(results.xdp!.message!, /needs CAP_BPF and CAP_NET_ADMIN/);
  assert.match(results.xdp!.message!, /lacks CAP_BPF, CAP_NET_ADMIN/);
  assert.match(results.stats!.message!, /CAP_SYS_ADMIN/);
  t.diagnostic(results.xdp!.message!);
});
