/**
 * The instruction set as the kernel documents it: the set of valid opcodes equals the
 * opcode registry of Documentation/bpf/standardization/instruction-set.rst (RFC 9669), and
 * every reserved field, bad width, unknown operation or register is an invalid encoding,
 * reported with its slot.
 */
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import {
  type Instruction, type Register, assemble, checkEncoding, classify, decode, encode, encodingProblem, lift,
  Add, Exit, JEq, Ja, LoadImm64, Mov, R0, R1, label,
} from "../../../src/bpf/asm/index.ts";
import { ErrorCode, isKmlibError } from "../../../src/errors.ts";

/**
 * The opcode registry (RFC 9669, Appendix A), plus the sign-extending loads BPF_MEMSX
 * (0x81, 0x89, 0x91) of the kernel's document and the 8- and 16-bit atomics that exist for
 * load-acquire and store-release (0xcb, 0xd3; kernel 6.15) and may_goto (0xe5; kernel 6.9).
 * 0x00 (the second half of lddw) is not an instruction of its own.
 */
const REGISTRY = `
04 05 06 07 0c 0f 14 15 16 17 18 1c 1d 1e 1f 20 24 25 26 27 28 2c 2d 2e 2f 30 34 35 36 37 3c 3d 3e 3f
40 44 45 46 47 48 4c 4d 4e 4f 50 54 55 56 57 5c 5d 5e 5f 61 62 63 64 65 66 67 69 6a 6b 6c 6d 6e 6f
71 72 73 74 75 76 77 79 7a 7b 7c 7d 7e 7f 81 84 85 87 89 91 94 95 97 9c 9f a4 a5 a6 a7 ac ad ae af
b4 b5 b6 b7 bc bd be bf c3 c4 c5 c6 c7 cb cc cd ce cf d3 d4 d5 d6 d7 db dc dd de e5`
  .trim()
  .split(/\s+/)
  .map((h) => parseInt(h, 16));

const ins = (op: number, dst: number, src: number, off: number, imm: number): Instruction => ({ op, dst: dst as Register, src, off, imm });

/** Whether any choice of the other fields makes `op` a valid instruction. */
function opcodeValid(op: number): boolean {
  for (const dst of [0, 1]) {
    for (const src of [0, 1, 2]) {
      for (const off of [0, 1, 8, 16, 32]) {
        for (const imm of [0, 1, 16, 32, 64, 0x41, 0xe1, 0xf1, 0x100]) if (classify(ins(op, dst, src, off, imm)).kind !== "invalid") return true;
      }
    }
  }
  return false;
}

describe("opcodes", () => {
  test("the valid opcodes are exactly the documented ones", () => {
    const valid = Array.from({ length: 256 }, (_, op) => op).filter(opcodeValid);
    const fmt = (xs: number[]) => xs.map((x) => x.toString(16).padStart(2, "0")).join(" ");
    assert.deepEqual(fmt(valid), fmt([...REGISTRY].sort((a, b) => a - b)));
  });

  test("every documented opcode classifies as the kind its number says", () => {
    assert.deepEqual(classify(ins(0x3c, 1, 2, 1, 0)), { kind: "alu", wide: false, op: "div", operand: "reg", signed: true });
    assert.deepEqual(classify(ins(0xbf, 1, 2, 32, 0)), { kind: "movsx", wide: true, bits: 32 });
    assert.deepEqual(classify(ins(0xdc, 1, 0, 0, 16)), { kind: "end", order: "be", bits: 16 });
    assert.deepEqual(classify(ins(0xd4, 1, 0, 0, 64)), { kind: "end", order: "le", bits: 64 });
    assert.deepEqual(classify(ins(0xd7, 1, 0, 0, 32)), { kind: "end", order: "swap", bits: 32 });
    assert.deepEqual(classify(ins(0x06, 0, 0, 0, -7)), { kind: "gotol" });
    assert.deepEqual(classify(ins(0x85, 0, 2, 3, 99)), { kind: "call", target: "kfunc" });
    assert.deepEqual(classify(ins(0x91, 1, 2, -4, 0)), { kind: "ldx", size: "B", signed: true });
    assert.deepEqual(classify(ins(0xc3, 1, 2, 0, 0xa1)), { kind: "atomic", size: "W", op: "xor", fetch: true });
    assert.deepEqual(classify(ins(0xdb, 1, 2, 0, 0xf1)), { kind: "atomic", size: "DW", op: "cmpxchg", fetch: true });
    assert.deepEqual(classify(ins(0xd3, 0, 10, -1, 0x100)), { kind: "load_acquire", size: "B" });
    assert.deepEqual(classify(ins(0xdb, 10, 1, -8, 0x110)), { kind: "store_release", size: "DW" });
    assert.deepEqual(classify({ op: 0x18, dst: 1, src: 2, off: 0, imm: 3, imm64: (8n << 32n) | 3n }), { kind: "lddw", pseudo: 2 });
  });
});

describe("invalid encodings are typed errors naming the slot", () => {
  const cases: Array<[string, Instruction, RegExp]> = [
    ["unknown ALU operation", ins(0xe7, 1, 0, 0, 0), /unknown ALU operation/],
    ["unknown jump operation", ins(0xf5, 0, 0, 0, 0), /unknown jump operation/],
    ["may_goto with a src", ins(0xe5, 0, 1, 2, 0), /may_goto uses reserved fields/],
    ["may_goto in JMP32", ins(0xe6, 0, 0, 2, 0), /may_goto in the JMP32 class/],
    ["src register with an immediate", ins(0x07, 1, 3, 0, 5), /src register r3 with an immediate/],
    ["immediate with a register operand", ins(0x0f, 1, 3, 0, 5), /immediate 5 with a register operand/],
    ["offset on add", ins(0x07, 1, 0, 1, 5), /add with offset 1/],
    ["signed division with offset 2", ins(0x3f, 1, 2, 2, 0), /div with offset 2/],
    ["32-bit movsx from 32 bits", ins(0xbc, 1, 2, 32, 0), /mov with offset 32/],
    ["movsx from an immediate", ins(0xb7, 1, 0, 8, 0), /mov with offset 8/],
    ["byte swap of 17 bits", ins(0xd4, 1, 0, 0, 17), /byte swap width 17/],
    ["bswap with source bit", ins(0xdf, 1, 0, 0, 16), /ALU64 byte swap/],
    ["byte swap with a src register", ins(0xdc, 1, 2, 0, 16), /byte swap with non-zero src/],
    ["neg with a register source", ins(0x8f, 1, 2, 0, 0), /neg uses reserved fields/],
    ["goto with an immediate", ins(0x05, 0, 0, 3, 1), /goto with a non-zero immediate/],
    ["gotol with an offset", ins(0x06, 0, 0, 3, 1), /gotol with a non-zero offset/],
    ["goto with a dst register", ins(0x05, 2, 0, 3, 0), /goto uses reserved fields/],
    ["call in JMP32", ins(0x86, 0, 0, 0, 1), /call in the JMP32 class/],
    ["call through a register", ins(0x8d, 0, 1, 0, 0), /call uses reserved fields/],
    ["call with pseudo source 3", ins(0x85, 0, 3, 0, 1), /unknown pseudo source 3/],
    ["helper call with an offset", ins(0x85, 0, 0, 1, 1), /call with a non-zero offset/],
    ["exit with an immediate", ins(0x95, 0, 0, 0, 1), /exit uses reserved fields/],
    ["exit in JMP32", ins(0x96, 0, 0, 0, 0), /exit in the JMP32 class/],
    ["lddw with an offset", { op: 0x18, dst: 1, src: 0, off: 2, imm: 0, imm64: 0n }, /lddw with a non-zero offset/],
    ["lddw pseudo 7", { op: 0x18, dst: 1, src: 7, off: 0, imm: 0, imm64: 0n }, /unknown pseudo source 7/],
    ["map fd with a second immediate", { op: 0x18, dst: 1, src: 1, off: 0, imm: 3, imm64: (1n << 32n) | 3n }, /second immediate/],
    ["ld_abs with a dst", ins(0x20, 1, 0, 0, 4), /legacy packet load uses reserved fields/],
    ["ld_abs double word", ins(0x38, 0, 0, 0, 4), /unknown LD instruction/],
    ["load with an immediate", ins(0x61, 1, 2, 0, 1), /load with a non-zero immediate/],
    ["sign-extending 64-bit load", ins(0x99, 1, 2, 0, 0), /unknown LDX mode/],
    ["store of an immediate with a src", ins(0x62, 1, 2, 0, 1), /non-zero src/],
    ["store with an immediate", ins(0x63, 1, 2, 0, 1), /store with a non-zero immediate/],
    ["atomic add on a byte", ins(0xd3, 1, 2, 0, 0), /atomic operation 0x0 of size B \(only load-acquire and store-release\)/],
    ["load-acquire 0x101", ins(0xdb, 1, 2, 0, 0x101), /unknown atomic operation 0x101/],
    ["atomic operation 0x10", ins(0xdb, 1, 2, 0, 0x10), /unknown atomic operation 0x10/],
    ["src register r12", ins(0x0f, 1, 12, 0, 0), /src register r12 does not exist/],
  ];
  for (const [what, bad, reason] of cases) {
    test(what, () => {
      assert.ok(encodingProblem(bad) !== undefined);
      // A valid lddw and mov before it: the bad one is at slot 3.
      const prog = [LoadImm64(R1, 1n), Mov.imm(R0, 0), bad, Exit()];
      const decoded = decode(encode(prog));
      assert.throws(() => checkEncoding(decoded), (e) => isKmlibError(e, ErrorCode.InvalidEncoding) && /slot 3:/.test(e.message) && reason.test(e.message));
      assert.throws(() => assemble(prog), (e) => isKmlibError(e, ErrorCode.InvalidInstruction) && /instruction 2/.test(e.message) && reason.test(e.message));
      assert.throws(() => lift(decoded), (e) => isKmlibError(e, ErrorCode.InvalidEncoding) && /slot 3/.test(e.message));
    });
  }

  test("decode refuses bytes that are not whole instructions", () => {
    assert.throws(() => decode(new Uint8Array(12)), (e) => isKmlibError(e, ErrorCode.InvalidEncoding) && /multiple of 8/.test(e.message));
    const lddw = encode([LoadImm64(R1, 5n)]);
    assert.throws(() => decode(lddw.subarray(0, 8)), (e) => isKmlibError(e, ErrorCode.InvalidEncoding) && /lddw truncated/.test(e.message));
    const bad = lddw.slice();
    bad[8] = 0x07;
    assert.throws(() => decode(bad), (e) => isKmlibError(e, ErrorCode.InvalidEncoding) && /slot 1/.test(e.message));
    const reg = encode([Exit()]);
    reg[1] = 0x0b;
    assert.throws(() => decode(reg), (e) => isKmlibError(e, ErrorCode.InvalidEncoding) && /dst register 11/.test(e.message));
  });
});

describe("assembler errors name the instruction", () => {
  test("unknown label", () => {
    assert.throws(() => assemble([Mov.imm(R0, 0), JEq.imm(R0, 1, "nowhere"), Exit()]), (e) => isKmlibError(e, ErrorCode.UnknownLabel) && /instruction 1: unknown label "nowhere"/.test(e.message));
  });
  test("a label past the last instruction", () => {
    assert.throws(() => assemble([Ja("end"), Exit(), label("end")]), (e) => isKmlibError(e, ErrorCode.JumpOutOfRange) && /instruction 0/.test(e.message));
  });
  test("a jump beyond the 16-bit offset", () => {
    const body = Array.from({ length: 33000 }, () => Add.imm(R0, 1));
    assert.throws(() => assemble([label("top"), ...body, JEq.imm(R0, 0, "top"), Exit()]), (e) => isKmlibError(e, ErrorCode.JumpOutOfRange) && /instruction 33000:/.test(e.message) && /-33001 slots/.test(e.message));
  });
  test("lifting a branch that leaves the program", () => {
    const out = decode(encode([{ ...Ja("x"), off: 5 }, Exit()]));
    assert.throws(() => lift(out), (e) => isKmlibError(e, ErrorCode.JumpOutOfRange) && /slot 0: target slot 6 is outside the program/.test(e.message));
    const mid = decode(encode([{ ...Ja("x"), off: 1 }, LoadImm64(R1, 1n), Exit()]));
    assert.throws(() => lift(mid), (e) => isKmlibError(e, ErrorCode.JumpOutOfRange) && /inside an lddw/.test(e.message));
  });
});
