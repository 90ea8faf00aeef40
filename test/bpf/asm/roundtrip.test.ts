/**
 * assemble -> disassemble -> assemble, byte for byte: every DSL builder, random programs of
 * every instruction form, and every section of every clang-built fixture. The way back goes
 * through `lift` (decoded instructions to DSL builders with labels), and through its
 * TypeScript `source`, evaluated, so the printed DSL is right as well.
 */
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import * as asm from "../../../src/bpf/asm/index.ts";
import { type AsmItem, type Instruction, assemble, decode, disassemble, encode, formatListing, lift, slots } from "../../../src/bpf/asm/index.ts";
import { readBpfObject, sectionInstructions } from "../../../src/bpf/elf/index.ts";
import { ErrorCode, isKmlibError } from "../../../src/errors.ts";
import { missing, requires } from "../../helpers/kernel.ts";
import { allBuilders } from "./builders.ts";
import { FORMS, randomInstruction } from "./gen.ts";
import { type Compiled, compileFixtures, rng, tempDir } from "./toolchain.ts";

/** Evaluate lifted DSL source with the asm module in scope. */
function evalSource(source: string): AsmItem[] {
  const names = Object.keys(asm).filter((k) => /^[A-Za-z_$][\w$]*$/.test(k));
  const fn = new Function(...names, `return [\n${source}];`) as (...a: unknown[]) => AsmItem[];
  return fn(...names.map((k) => (asm as Record<string, unknown>)[k]));
}

function roundTrip(raw: Uint8Array, what: string): void {
  const bytes = Uint8Array.from(raw);
  const back = lift(decode(bytes));
  assert.deepEqual(assemble(back.items).bytes, bytes, `${what}: lift -> assemble`);
  assert.deepEqual(assemble(evalSource(back.source)).bytes, bytes, `${what}: lifted source -> assemble`);
}

describe("round trips", () => {
  test("every DSL builder: assemble -> disassemble -> assemble", () => {
    const samples = allBuilders();
    assert.ok(samples.length >= 50, `${samples.length} builders`);
    for (const s of samples) {
      const a = assemble(s.program);
      const text = disassemble(a.bytes);
      const lines = text.split("\n").filter((l) => /^ *\d+:\t/.test(l));
      assert.equal(lines.length, a.instructions.length, `${s.name}: one line per instruction`);
      assert.doesNotMatch(text, /<unknown>/, s.name);
      roundTrip(a.bytes, s.name);
      // From the assembled instructions, map names and labels survive too.
      const again = assemble(lift(a.instructions).items);
      assert.deepEqual(again.bytes, a.bytes, s.name);
      assert.deepEqual(again.relocations, a.relocations, `${s.name}: relocations`);
      assert.ok(formatListing(a.instructions).split("\n").length > a.instructions.length, s.name);
    }
  });

  test("random programs of every form, with branches to random instructions", () => {
    const r = rng(20260722);
    for (let round = 0; round < 20; round++) {
      const insns: Instruction[] = [];
      for (let i = 0; i < 300; i++) insns.push(randomInstruction(r, r.pick(FORMS)));
      const starts: number[] = [];
      let slot = 0;
      for (const ins of insns) {
        starts.push(slot);
        slot += slots(ins);
      }
      // Point every branch, local call and function address at some instruction.
      const fixed = insns.map((ins, i): Instruction => {
        const k = asm.classify(ins);
        const delta = r.pick(starts) - (starts[i]! + 1);
        if (k.kind === "ja" || k.kind === "jcond" || k.kind === "may_goto") return { ...ins, off: delta };
        if (k.kind === "gotol" || (k.kind === "call" && k.target === "local")) return { ...ins, imm: delta };
        if (k.kind === "lddw" && k.pseudo === asm.PseudoLd.FUNC) return { ...ins, imm: delta, imm64: BigInt(delta >>> 0) };
        return ins;
      });
      roundTrip(encode(fixed), `round ${round}`);
    }
  });
});

describe("round trips of clang's objects", () => {
  const tools = missing("clang") === undefined;
  const tmp = tempDir("kmlib-rt-");
  let compiled: Compiled[] = [];
  before(async () => {
    if (tools) compiled = await compileFixtures(tmp.path);
  });
  after(() => tmp.dispose());

  test("every section of every fixture lifts and reassembles to the same bytes", (t) => {
    if (!requires(t, "clang", "llvm-objdump")) return;
    let sections = 0;
    for (const c of compiled) {
      for (const p of readBpfObject(readFileSync(c.path)).programs) {
        // A section that calls static functions of .text is not a whole program until linked:
        // its `call N` points past its end, and lift says so, naming a relocated call's slot.
        const outside = p.relocations.filter((r) => r.kind === "call" && r.symbol === ".text").map((r) => r.slot);
        if (outside.length > 0) {
          assert.throws(() => lift(decode(Uint8Array.from(p.bytes))), (e) =>
            isKmlibError(e, ErrorCode.JumpOutOfRange) && outside.some((s) => e.message.startsWith(`slot ${s}: target slot`)));
          continue;
        }
        roundTrip(p.bytes, `${c.name}-${c.cpu} ${p.name}`);
        // With the object's symbols, map relocations and relocated calls the listing names them.
        const { instructions, externalRefs } = sectionInstructions(p);
        const listing = formatListing(instructions, externalRefs);
        for (const s of p.symbols) assert.ok(listing.includes(`${s.name}:`), `${c.name} ${p.name}: ${s.name}`);
        sections++;
      }
    }
    assert.ok(sections >= 25, `${sections} sections`);
  });
});
