import { test } from "node:test";
import assert from "node:assert/strict";
import {
  Add, Exit, Ja, JaLong, JEq, LoadImm64, LoadMapPtr, Mov, R0, R1, R2, assemble, decode, encode, label, CallLocal, Call, Helper,
} from "../../src/bpf/asm/index.ts";
import { isKmlibError, ErrorCode } from "../../src/errors.ts";

test("encodes mov/exit as the kernel expects", () => {
  const { bytes } = assemble([Mov.imm(R0, 2), Exit()]);
  assert.deepEqual([...bytes], [0xb7, 0, 0, 0, 2, 0, 0, 0, 0x95, 0, 0, 0, 0, 0, 0, 0]);
});

test("resolves forward and backward labels, counting lddw as two slots", () => {
  const a = assemble([
    label("top"),
    JEq.imm(R1, 0, "out"),
    LoadImm64(R2, 0x1_0000_0002n),
    Add.reg(R0, R2),
    Ja("top"),
    label("out"),
    Exit(),
  ]);
  assert.equal(a.instructions[0]!.off, 4); // skips lddw(2) + add + ja
  assert.equal(a.instructions[3]!.off, -5);
  assert.equal(a.labels.get("out"), 5);
  const back = decode(a.bytes);
  assert.equal(back[1]!.imm64, 0x1_0000_0002n);
  assert.deepEqual(encode(back), a.bytes);
});

test("gotol and local calls carry their offset in imm", () => {
  const a = assemble([CallLocal("f"), JaLong("end"), label("f"), Mov.imm(R0, 1), Exit(), label("end"), Exit()]);
  assert.equal(a.instructions[0]!.imm, 1);
  assert.equal(a.instructions[1]!.imm, 2);
  assert.equal(a.instructions[1]!.off, 0);
});

test("unknown and duplicate labels are typed errors naming the instruction", () => {
  assert.throws(() => assemble([Mov.imm(R0, 0), JEq.imm(R0, 1, "nowhere"), Exit()]), (e) =>
    isKmlibError(e, ErrorCode.UnknownLabel) && /instruction 1.*"nowhere"/.test(e.message));
  assert.throws(() => assemble([label("a"), Exit(), label("a"), Exit()]), (e) => isKmlibError(e, ErrorCode.DuplicateLabel));
});

test("a jump beyond 16 bits is refused", () => {
  const body = Array.from({ length: 40000 }, () => Mov.imm(R0, 0));
  assert.throws(() => assemble([Ja("end"), ...body, label("end"), Exit()]), (e) => isKmlibError(e, ErrorCode.JumpOutOfRange));
  const ok = assemble([JaLong("end"), ...body, label("end"), Exit()]);
  assert.equal(ok.instructions[0]!.imm, 40000);
});

test("invalid fields are refused with the instruction index", () => {
  assert.throws(() => assemble([Exit(), Mov.imm(R0, 2 ** 31)]), (e) => isKmlibError(e, ErrorCode.InvalidInstruction) && /instruction 1/.test(e.message));
  assert.throws(() => decode(new Uint8Array(12)), (e) => isKmlibError(e, ErrorCode.InvalidEncoding));
  assert.throws(() => decode(new Uint8Array([0x18, 0, 0, 0, 0, 0, 0, 0])), (e) => isKmlibError(e, ErrorCode.InvalidEncoding));
});

test("map references become relocations", () => {
  const a = assemble([Mov.imm(R0, 0), LoadMapPtr(R1, "counters"), Call(Helper.map_lookup_elem), Exit()]);
  assert.deepEqual(a.relocations, [{ index: 1, slot: 1, map: "counters" }]);
  assert.equal(a.bytes[1 * 8 + 1]! >> 4, 1); // BPF_PSEUDO_MAP_FD
});
