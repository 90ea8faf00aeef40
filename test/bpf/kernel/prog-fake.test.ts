import { test } from "node:test";
import assert from "node:assert/strict";
import { LoadMapPtr, R1, Return } from "../../../src/bpf/asm/index.ts";
import { FakeBpfSys, PermissionError, VerifierError, loadProgram, summarizeLog } from "../../../src/bpf/index.ts";
import type { ProgLoadArgs } from "../../../src/bpf/sys/index.ts";
import { ErrorCode, isKmlibError } from "../../../src/errors.ts";

function writeLog(a: ProgLoadArgs, text: string): void {
  const bytes = new TextEncoder().encode(text);
  a.logBuf!.set(bytes.subarray(0, a.logBuf!.length - 1));
}

test("a full verifier log (ENOSPC) is retried with a bigger buffer at log level 1", () => {
  const sys = new FakeBpfSys();
  sys.answer("progLoad", -28, (a) => (writeLog(a, "all good\n"), 9));
  using p = loadProgram({ name: "x", type: "XDP", instructions: [Return(2)] }, { sys, logSize: 1024 });
  const loads = sys.callsOf("progLoad").map((c) => c[0] as ProgLoadArgs);
  assert.equal(loads.length, 2);
  assert.equal(loads[0]!.logLevel, 0);
  assert.equal(loads[1]!.logLevel, 1);
  assert.ok(loads[1]!.logBuf!.length > loads[0]!.logBuf!.length);
  assert.equal(p.fd, 9);
  assert.equal(p.verifierLog, "all good\n");
});

test("the log stops growing at maxLogSize and the error says it is truncated", () => {
  const sys = new FakeBpfSys().on("progLoad", (a) => (writeLog(a, "0: r0 = r5\nR5 !read_ok\n"), -28));
  assert.throws(
    () => loadProgram({ name: "x", type: "XDP", instructions: [Return(2)] }, { sys, logSize: 64, maxLogSize: 4096 }),
    (e) => e instanceof VerifierError && e.truncated && /truncated/.test(e.message),
  );
  assert.ok(sys.callsOf("progLoad").length <= 5);
});

test("EPERM with an empty log is a PermissionError, not a verifier error", () => {
  const sys = new FakeBpfSys().on("progLoad", () => -1);
  assert.throws(() => loadProgram({ name: "x", type: "XDP", instructions: [Return(2)] }, { sys }), (e) => isKmlibError(e, ErrorCode.Permission) && /CAP_NET_ADMIN/.test(e.message));
});

test("PermissionError names the capabilities the process lacks", () => {
  const e = new PermissionError("load XDP program", 1, ["bpf", "net_admin"], 0n);
  assert.deepEqual(e.missing, ["CAP_BPF", "CAP_NET_ADMIN"]);
  assert.match(e.message, /needs CAP_BPF and CAP_NET_ADMIN \(or CAP_SYS_ADMIN\)/);
  assert.match(e.message, /lacks CAP_BPF, CAP_NET_ADMIN/);
  const ok = new PermissionError("load", 1, ["bpf"], (1n << 39n) | (1n << 21n));
  assert.deepEqual(ok.missing, []);
  assert.match(ok.message, /RLIMIT_MEMLOCK/);
  assert.match(ok.message, /lockdown/);
});

test("verifier log summary keeps the last useful lines and counts the rest", () => {
  const log = "a\nb\nc\nd\ne: bad thing\nprocessed 5 insns (limit 1000000)\n\n";
  assert.deepEqual(summarizeLog(log, 2), { summary: ["d", "e: bad thing"], omitted: 3 });
  const err = new VerifierError("p", 13, log, false, 2);
  assert.match(err.message, /e: bad thing/);
  assert.match(err.message, /\(3 lines omitted\)/);
  assert.doesNotMatch(err.message, /processed/);
});

test("map relocations are patched with the map's fd; a missing map is named", () => {
  const sys = new FakeBpfSys().on("progLoad", () => 5);
  using _p = loadProgram({ name: "m", type: "XDP", instructions: [LoadMapPtr(R1, "counts"), Return(2)], maps: { counts: 42 } }, { sys });
  const insns = (sys.callsOf("progLoad")[0]![0] as ProgLoadArgs).insns;
  assert.equal(new DataView(insns.buffer).getInt32(4, true), 42);
  assert.throws(() => loadProgram({ name: "m", type: "XDP", instructions: [LoadMapPtr(R1, "nope"), Return(2)], maps: { counts: 42 } }, { sys }), (e) => isKmlibError(e, ErrorCode.NotFound) && /"nope"/.test(e.message) && /counts/.test(e.message));
});

test("unknown spec or option keys are rejected", () => {
  const sys = new FakeBpfSys();
  const spec = { name: "x", type: "XDP", instructions: [Return(2)], licence: "GPL" } as unknown as Parameters<typeof loadProgram>[0];
  assert.throws(() => loadProgram(spec, { sys }), (e) => isKmlibError(e, ErrorCode.InvalidArgument) && /licence/.test(e.message));
  assert.throws(() => loadProgram({ name: "x", type: "NOPE" as "XDP", instructions: [Return(2)] }, { sys }), (e) => isKmlibError(e, ErrorCode.InvalidArgument));
});
