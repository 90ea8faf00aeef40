/**
 * Every instruction form with random fields (seeded), and every DSL builder, disassembled by
 * kmlib and by llvm-objdump from the same bytes (wrapped into an object by clang's
 * assembler) and compared line by line, including branch-target annotations that point
 * outside the section. Forms LLVM 14 cannot decode (cpu v4, stores of an immediate) are
 * checked against the syntax of newer LLVM instead.
 */
import { after, describe, test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { requires } from "../../helpers/kernel.ts";
import {
  type Instruction, encode, formatInstruction, disassembleItems, checkEncoding, decode,
} from "../../../src/bpf/asm/index.ts";
import { objdump, readBpfObject } from "../../../src/bpf/elf/index.ts";
import { FORMS, llvm14Knows, randomInstruction } from "./gen.ts";
import { allBuilders } from "./builders.ts";
import { llvmObjdump, objectFromBytes, rng, tempDir } from "./toolchain.ts";

const tmp = tempDir("kmlib-enc-");
after(() => tmp.dispose());

async function compareWithLlvm(name: string, insns: readonly Instruction[], alu32: boolean): Promise<void> {
  const bytes = encode(insns);
  checkEncoding(decode(bytes));
  const obj = await objectFromBytes(tmp.path, name, bytes);
  const theirs = (await llvmObjdump(["-d", ...(alu32 ? ["--mattr=+alu32"] : []), obj])).split("\n");
  const ours = objdump(readBpfObject(readFileSync(obj)).programs, { file: obj, alu32 }).split("\n");
  assert.equal(ours.length, theirs.length, `${name}: line count`);
  let slot = 0;
  const bySlot = new Map<number, Instruction>();
  for (const ins of insns) {
    bySlot.set(slot, ins);
    slot += ins.op === 0x18 ? 2 : 1;
  }
  let compared = 0;
  for (let i = 0; i < ours.length; i++) {
    const m = /^ {0,7}(\d+):\t/.exec(ours[i]!);
    const ins = m ? bySlot.get(Number(m[1])) : undefined;
    if (ins !== undefined && !llvm14Knows(ins, alu32)) {
      // LLVM 14 prints <unknown> or misreads these; the slot and bytes must still agree.
      const lead = (l: string) => l.split("\t").slice(0, 2).join("\t");
      assert.equal(lead(theirs[i]!), lead(ours[i]!), `${name}, line ${i + 1}`);
      assert.notEqual(theirs[i], ours[i], `${name}, line ${i + 1}: LLVM 14 was not expected to know this`);
      continue;
    }
    assert.equal(ours[i], theirs[i], `${name}, line ${i + 1}`);
    if (ins !== undefined) compared++;
  }
  assert.ok(compared > 0, `${name}: compared some instructions`);
}

describe("instruction forms against llvm-objdump", () => {
  for (const alu32 of [false, true]) {
    test(`random instructions of every form${alu32 ? " (alu32)" : ""}`, async (t) => {
      if (!requires(t, "clang", "llvm-objdump")) return;
      const r = rng(alu32 ? 0xa1a32 : 0xbeef);
      const insns: Instruction[] = [];
      for (let i = 0; i < 2500; i++) insns.push(randomInstruction(r, FORMS[i % FORMS.length]!));
      await compareWithLlvm(`random-${alu32}`, insns, alu32);
    });
  }

  test("every DSL builder", async (t) => {
    if (!requires(t, "clang", "llvm-objdump")) return;
    const insns = allBuilders().flatMap((b) => b.instructions);
    await compareWithLlvm("builders", insns, false);
    await compareWithLlvm("builders-alu32", insns, true);
  });

  test("invalid encodings: LLVM 14 and kmlib both print <unknown>", async (t) => {
    if (!requires(t, "clang", "llvm-objdump")) return;
    // Encodings whose reserved fields are part of LLVM's decoding tables too.
    const bad = [
      "d401000011000000", // le17
      "95000000ffffffff", // exit with an immediate
      "f500000000000000", // JMP opcode 0xf
      "0e00000000000000", // JMP32 | JA | X
      "8f00000000000000", // ALU64 | NEG | X
    ];
    const bytes = Uint8Array.from(bad.join("").match(/../g)!, (h) => parseInt(h, 16));
    const obj = await objectFromBytes(tmp.path, "bad", bytes);
    const theirs = await llvmObjdump(["-d", obj]);
    const ours = objdump(readBpfObject(readFileSync(obj)).programs, { file: obj });
    assert.equal(ours, theirs);
    assert.equal(ours.match(/<unknown>/g)?.length, bad.length);
  });
});

describe("zero runs, odd sizes and misaligned bytes, as llvm-objdump walks them", () => {
  test("`...` for 8 or more zero bytes, skipped in fours; 1-byte <unknown> at the end", async (t) => {
    if (!requires(t, "clang", "llvm-objdump")) return;
    const hex = [
      "b700000001000000", "00".repeat(16), "9500000000000000", "00".repeat(12), "b701000002000000", "95000000000000000000", "00".repeat(4),
      "b7020000030000009500000000000000", "010203",
    ].join("");
    const bytes = Uint8Array.from(hex.match(/../g)!, (h) => parseInt(h, 16));
    const obj = await objectFromBytes(tmp.path, "zeroes", bytes);
    for (const args of [["-d"], ["-d", "-z"]]) {
      const theirs = await llvmObjdump([...args, obj]);
      const ours = objdump(readBpfObject(readFileSync(obj)).programs, { file: obj, zeroes: args.includes("-z") });
      assert.equal(ours, theirs, args.join(" "));
      assert.match(ours, args.includes("-z") ? /<unknown>/ : /\t\t\.\.\./);
    }
  });
});

describe("what LLVM 14 lacks (cpu v4, immediate stores, load-acquire, may_goto, mod, jset): the syntax of newer LLVM", () => {
  const cases: Array<[string, string]> = [
    ["3f12010000000000", "r2 s/= r1"],
    ["3401010005000000", "w1 s/= 5"],
    ["9f12010000000000", "r2 s%= r1"],
    ["9401010005000000", "w1 s%= 5"],
    ["bf12080000000000", "r2 = (s8)r1"],
    ["bf12100000000000", "r2 = (s16)r1"],
    ["bf12200000000000", "r2 = (s32)r1"],
    ["bc12080000000000", "w2 = (s8)w1"],
    ["bc12100000000000", "w2 = (s16)w1"],
    ["d701000010000000", "r1 = bswap16 r1"],
    ["d701000020000000", "r1 = bswap32 r1"],
    ["d701000040000000", "r1 = bswap64 r1"],
    ["0600000005000000", "gotol +5"],
    ["06000000fbffffff", "gotol -5"],
    ["8112040000000000", "r2 = *(s32 *)(r1 + 4)"],
    ["8912fcff00000000", "r2 = *(s16 *)(r1 - 4)"],
    ["9112000000000000", "r2 = *(s8 *)(r1 + 0)"],
    ["620af8ff07000000", "*(u32 *)(r10 - 8) = 7"],
    ["7a01000000000080", "*(u64 *)(r1 + 0) = -2147483648"],
    ["d3a0ffff00010000", "w0 = load_acquire((u8 *)(r10 - 1))"],
    ["db21080000010000", "r1 = load_acquire((u64 *)(r2 + 8))"],
    ["d31affff10010000", "store_release((u8 *)(r10 - 1), w1)"],
    ["db21000010010000", "store_release((u64 *)(r1 + 0), r2)"],
    ["e500040000000000", "may_goto +4"],
    ["9f12000000000000", "r2 %= r1"],
    ["9401000007000000", "w1 %= 7"],
    ["4d12030000000000", "if r2 & r1 goto +3"],
    ["4601fdff01000000", "if w1 & 1 goto -3"],
  ];
  for (const [hex, text] of cases) {
    test(`${hex} -> ${text}`, () => {
      const bytes = Uint8Array.from(hex.match(/../g)!, (h) => parseInt(h, 16));
      const [ins] = decode(bytes);
      assert.equal(formatInstruction(ins!), text);
      const items = disassembleItems(bytes);
      assert.equal(items[0]!.kind === "insn" && items[0]!.text, text);
    });
  }
});
