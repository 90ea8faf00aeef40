import { test, describe } from "node:test";
import assert from "node:assert/strict";
import { Class, Mode as AsmMode, Size, JumpOp, classOf, jumpOpOf, Helper, label, Mov, Exit, R0, type Instruction } from "../../src/bpf/asm/index.ts";
import { buildNetguardProgram, buildThresholdModel, buildModelProgram, MapName } from "../../src/subsystems/netguard/program.ts";
import { FEATURES, FEATURE_NAMES, NUM_FEATURES, featureIndex } from "../../src/subsystems/netguard/features.ts";
import { RECORD_SIZE, Scratch, FlowState, Counter, NUM_SOURCES } from "../../src/subsystems/netguard/layout.ts";
import { ControlOffset, decodeControl, defaultControl, encodeControl, Mode } from "../../src/subsystems/netguard/control.ts";
import { thresholdModelFn } from "../../src/subsystems/netguard/gen/model.ts";
import { modelResult } from "../../src/subsystems/netguard/reference/datapath.ts";
import { isKmlibError, ErrorCode } from "../../src/errors.ts";

const stores = (insns: readonly Instruction[], base: number, size: keyof typeof Size) =>
  insns.filter((i) => i.op === (Class.STX | AsmMode.MEM | Size[size]) && i.dst === base).map((i) => i.off);
const helperCalls = (insns: readonly Instruction[]) =>
  insns.filter((i) => classOf(i.op) === Class.JMP && jumpOpOf(i.op) === JumpOp.CALL && i.src === 0).map((i) => i.imm);

describe("feature contract", () => {
  test("names are unique, units given, and the record holds exactly the vector", () => {
    assert.equal(new Set(FEATURE_NAMES).size, NUM_FEATURES);
    for (const f of FEATURES) assert.ok(f.unit && f.description.length > 10, f.name);
    assert.equal(RECORD_SIZE, Scratch.FEATURES + 8 * NUM_FEATURES);
    assert.ok(RECORD_SIZE <= Scratch.ALLOW_KEY);
  });

  test("no address is a feature", () => {
    for (const n of FEATURE_NAMES) assert.doesNotMatch(n, /addr|ip|src_|saddr|daddr|mac/);
  });

  test("the main program writes every feature slot exactly once, in order, as 64-bit values", () => {
    const p = buildNetguardProgram();
    const offs = stores(p.main.assembled.instructions, 9, "DW").filter((o) => o >= Scratch.FEATURES && o < RECORD_SIZE);
    assert.deepEqual(offs, FEATURES.map((_, i) => Scratch.FEATURES + 8 * i));
  });
});

describe("generator", () => {
  for (const attach of ["xdp", "tc"] as const) {
    test(`${attach}: main, decide and a model assemble; every map reference is a declared map`, () => {
      const p = buildNetguardProgram({ attach });
      const declared = new Set(p.maps.map((m) => m.name));
      for (const prog of [p.main, p.decide, buildThresholdModel(attach, { feature: "syn", threshold: 10 })]) {
        assert.ok(prog.assembled.instructions.length > 10);
        for (const r of prog.assembled.relocations) assert.ok(declared.has(r.map as MapName), `${prog.name}: ${r.map}`);
        assert.equal(prog.type, attach === "xdp" ? "XDP" : "SCHED_CLS");
      }
      assert.equal(p.main.assembled.labels.size > 0, true);
    });
  }

  test("xdp and tc differ only in context offsets and verdict codes", () => {
    const x = buildNetguardProgram({ attach: "xdp" }).main.assembled.instructions;
    const t = buildNetguardProgram({ attach: "tc" }).main.assembled.instructions;
    assert.equal(x.length, t.length);
    const diffs = x.map((ins, i) => [ins, t[i]!] as const).filter(([a, b]) => a.op !== b.op || a.off !== b.off || a.imm !== b.imm);
    assert.ok(diffs.length > 0);
    for (const [a, b] of diffs) {
      const ctxLoad = a.op === (Class.LDX | AsmMode.MEM | Size.W) && a.src === 6;
      const verdict = a.op === (Class.ALU64 | 0xb0) && a.dst === 0;
      assert.ok(ctxLoad || verdict, `unexpected difference ${JSON.stringify(a)} vs ${JSON.stringify(b)}`);
    }
  });

  test("the hot path calls the clock once and no helper it does not need", () => {
    const p = buildNetguardProgram();
    const calls = helperCalls(p.main.assembled.instructions);
    assert.equal(calls.filter((c) => c === Helper.ktime_get_ns).length, 1);
    const allowed = new Set<number>([Helper.map_lookup_elem, Helper.map_update_elem, Helper.ktime_get_ns, Helper.tail_call]);
    for (const c of calls) assert.ok(allowed.has(c), `helper ${c}`);
    const decide = helperCalls(p.decide.assembled.instructions);
    assert.ok(decide.includes(Helper.ringbuf_output) && decide.includes(Helper.get_prandom_u32));
  });

  test("map specs match the layouts", () => {
    const maps = Object.fromEntries(buildNetguardProgram({ flowEntries: 1000, ringBytes: 1 << 16 }).maps.map((m) => [m.name, m]));
    assert.equal(maps[MapName.FLOWS]!.valueSize, FlowState.SIZE);
    assert.equal(maps[MapName.FLOWS]!.maxEntries, 1000);
    assert.equal(maps[MapName.FLOWS]!.type, "LRU_HASH");
    assert.equal(maps[MapName.STATS]!.valueSize, Counter.COUNT * 8);
    assert.equal(maps[MapName.CONTROL]!.valueSize, ControlOffset.SIZE);
    assert.equal(maps[MapName.EVENTS]!.maxEntries, 1 << 16);
    assert.equal(maps[MapName.ALLOW]!.type, "LPM_TRIE");
    assert.ok(Counter.OPINIONS >= Counter.DECISIONS + 2 * NUM_SOURCES);
  });

  test("options are checked: unknown keys, bad sizes, bad attach points", () => {
    const bad = (o: object) => assert.throws(() => buildNetguardProgram(o), (e) => isKmlibError(e, ErrorCode.InvalidArgument));
    bad({ flowEntrys: 5 });
    bad({ flowEntries: 0 });
    bad({ ringBytes: 5000 });
    bad({ attach: "socket" });
  });

  test("model bodies with colliding labels are refused by the assembler", () => {
    const body = (name: string) => [label(name), Mov.imm(R0, 0), Exit()];
    assert.ok(buildModelProgram("xdp", body("m_start")).assembled.labels.has("m_start"));
    assert.throws(() => buildModelProgram("xdp", body("ng_model_entry")), (e) => isKmlibError(e, ErrorCode.DuplicateLabel));
  });
});

describe("model ABI and control", () => {
  test("the threshold stand-in's TypeScript twin answers class | confidence << 16", () => {
    const fn = thresholdModelFn({ feature: "syn", threshold: 3, confidence: 700 });
    const x = new Array<bigint>(NUM_FEATURES).fill(0n);
    assert.deepEqual(modelResult(fn(x)), { verdict: 0, conf: 700 });
    x[featureIndex("syn")] = 4n;
    assert.deepEqual(modelResult(fn(x)), { verdict: 1, conf: 700 });
    assert.deepEqual(modelResult((5000 << 16) | 7), { verdict: 1, conf: 1000 }, "confidence clamps, any class but 0 is an attack");
  });

  test("control round-trips and rejects out-of-range fields", () => {
    const c = { ...defaultControl(), mode: Mode.COLLABORATION, generation: 9, heartbeatNs: 123n, sampleRate: 65536 };
    assert.deepEqual(decodeControl(encodeControl(c)), c);
    assert.throws(() => encodeControl({ ...c, confThreshold: 1001 }), /confThreshold/);
    assert.throws(() => encodeControl({ ...c, sampleRate: 70000 }), /sampleRate/);
    const raw = encodeControl(c);
    raw[ControlOffset.MODE] = 9;
    assert.equal(decodeControl(raw).mode, Mode.EMERGENCY, "an unknown mode reads as emergency, as in the data path");
  });
});
