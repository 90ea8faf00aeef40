import { test } from "node:test";
import assert from "node:assert/strict";
import { requires } from "../../helpers/kernel.ts";
import { Exit, JGT, LoadMem, Mov, Add, R0, R1, R2, R3, R4, R5, Return, StoreImm, label, Ja } from "../../../src/bpf/asm/index.ts";
import { VerifierError, enableStats, loadProgram, XdpAction } from "../../../src/bpf/index.ts";
import { ErrorCode, isKmlibError } from "../../../src/errors.ts";

/** XDP: write 0xab into the first packet byte (bounds-checked), then return `verdict`. */
const markFirstByte = (verdict: number) => [
  LoadMem("W", R2, R1, 0), // data
  LoadMem("W", R3, R1, 4), // data_end
  Mov.reg(R4, R2),
  Add.imm(R4, 1),
  JGT.reg(R4, R3, "out"),
  StoreImm("B", R2, 0, 0xab),
  label("out"),
  Return(verdict),
];

test("XDP program loads and test-runs: verdict, output packet, ns per run", (t) => {
  if (!requires(t, "bpf")) return;
  for (const verdict of [XdpAction.DROP, XdpAction.PASS, XdpAction.TX]) {
    using p = loadProgram({ name: "mark", type: "XDP", instructions: markFirstByte(verdict) });
    const pkt = new Uint8Array(64).fill(7);
    const r = p.testRun({ data: pkt, repeat: 1000 });
    assert.equal(r.retval, verdict);
    assert.equal(r.data.length, 64);
    assert.equal(r.data[0], 0xab);
    assert.equal(r.data[1], 7);
    assert.equal(pkt[0], 7, "input untouched");
    assert.ok(r.nsPerRun > 0 && r.nsPerRun < 100_000, `ns per run ${r.nsPerRun}`);
  }
});

test("program info reports id, tag, sizes and (with stats on) run counts", (t) => {
  if (!requires(t, "bpf")) return;
  using p = loadProgram({ name: "info_me", type: "XDP", instructions: markFirstByte(XdpAction.PASS) });
  const i = p.info();
  assert.ok(i.id > 0);
  assert.equal(i.name, "info_me");
  assert.equal(i.typeName, "XDP");
  assert.match(i.tag, /^[0-9a-f]{16}$/);
  assert.equal(i.xlatedSize, 8 * 8);
  assert.ok(i.jitedSize > 0);
  assert.equal(i.verifiedInsns > 0, true);
  {
    using _stats = enableStats();
    p.testRun({ data: new Uint8Array(64), repeat: 500 });
    const after = p.info();
    assert.ok(after.runCount >= 500n, `runCount ${after.runCount}`);
    assert.ok(after.runTimeNs > 0n);
  }
});

test("SOCKET_FILTER, SCHED_CLS and SYSCALL programs load and run", (t) => {
  if (!requires(t, "bpf")) return;
  using sf = loadProgram({ name: "sf", type: "SOCKET_FILTER", instructions: [Return(0xffff)] });
  assert.equal(sf.testRun({ data: new Uint8Array(64) }).retval, 0xffff);
  using cls = loadProgram({ name: "cls", type: "SCHED_CLS", instructions: [Return(2)] });
  assert.equal(cls.testRun({ data: new Uint8Array(64) }).retval, 2);
  // SYSCALL: r0 = first u32 of the context + 1
  using sc = loadProgram({ name: "sc", type: "SYSCALL", instructions: [LoadMem("W", R0, R1, 0), Add.imm(R0, 1), Exit()], flags: 1 << 4 });
  const ctx = new Uint8Array([41, 0, 0, 0]);
  const r = sc.testRun({ ctx });
  assert.equal(r.retval, 42);
  assert.deepEqual([...r.ctx!], [41, 0, 0, 0]);
});

test("a verifier rejection is a VerifierError with the whole log and a short message", (t) => {
  if (!requires(t, "bpf")) return;
  // Many valid instructions, then a read of an uninitialised register.
  const filler = Array.from({ length: 30 }, (_, i) => Mov.imm(R2, i));
  try {
    loadProgram({ name: "bad", type: "XDP", instructions: [filler, Mov.reg(R0, R5), Exit()] });
    assert.fail("loaded");
  } catch (e) {
    assert.ok(e instanceof VerifierError);
    assert.equal(e.code, ErrorCode.Verifier);
    assert.match(e.log, /R5 !read_ok/);
    assert.match(e.message, /R5 !read_ok/);
    assert.match(e.message, /\(\d+ lines omitted\)/);
    assert.ok(e.log.split("\n").length > e.message.split("\n").length);
  }
});

test("a log larger than the first buffer is retried with a larger one (ENOSPC)", (t) => {
  if (!requires(t, "bpf")) return;
  const body = [Mov.imm(R0, 0), label("top"), Add.imm(R0, 1), JGT.imm(R0, 50, "out"), Ja("top"), label("out"), Exit()];
  using p = loadProgram({ name: "chatty", type: "XDP", instructions: body }, { logLevel: 2, logSize: 128 });
  assert.ok(p.verifierLog.length > 128, `log ${p.verifierLog.length} bytes`);
  assert.match(p.verifierLog, /processed \d+ insns/);
});

test("a closed program throws KMLIB_CLOSED; close is idempotent", (t) => {
  if (!requires(t, "bpf")) return;
  const p = loadProgram({ name: "closeme", type: "XDP", instructions: [Return(2)] });
  p.close();
  p.close();
  assert.equal(p.closed, true);
  assert.throws(() => p.testRun({ data: new Uint8Array(64) }), (e) => isKmlibError(e, ErrorCode.Closed) && /closeme/.test(e.message));
});

test("XDP live frames mode reports frames per second", (t) => {
  if (!requires(t, "bpf")) return;
  using p = loadProgram({ name: "live", type: "XDP", instructions: [Return(XdpAction.DROP)] });
  const r = p.testRunLive({ data: new Uint8Array(64), repeat: 20_000 });
  assert.equal(r.frames, 20_000);
  assert.ok(r.framesPerSecond > 1000, `fps ${r.framesPerSecond}`);
});
