/**
 * The ELF reader: a hand-built BPF object read back field by field (no clang needed), every
 * kind of malformed input refused with KMLIB_INVALID_ELF, and clang's objects read exactly as
 * llvm-objdump reads their section table, symbol table and relocations.
 */
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { Exit, JEq, LoadImm64, Mov, R0, R1, R2, encode, label, assemble } from "../../../src/bpf/asm/index.ts";
import {
  BpfReloc, SHN_ABS, SectionFlag, SectionType, SymbolBind, SymbolType, objdump, readBpfObject, readElf, relocationValue, sectionInstructions,
} from "../../../src/bpf/elf/index.ts";
import { ErrorCode, isKmlibError } from "../../../src/errors.ts";
import { missing, requires } from "../../helpers/kernel.ts";
import { buildElf } from "./elf-builder.ts";
import { type Compiled, compileFixtures, llvmObjdump, tempDir } from "./toolchain.ts";

const AX = SectionFlag.ALLOC | SectionFlag.EXECINSTR;
const WA = SectionFlag.ALLOC | SectionFlag.WRITE;

/** An object like clang's: a static function in .text, a program calling it, a map and global data. */
function sampleObject(machine = 247): Uint8Array {
  const text = encode([Mov.imm(R0, 1), Exit()]);
  const xdp = assemble([
    LoadImm64(R1, 0n), // slot 0: map `counters` (relocation)
    LoadImm64(R2, 0n), // slot 2: .data (relocation)
    { op: 0x85, dst: 0, src: 1, off: 0, imm: -1 }, // slot 4: call sub (relocation against .text)
    JEq.imm(R0, 0, "LBB0_1"), // slot 5
    Mov.imm(R0, 2), // slot 6
    label("LBB0_1"),
    Exit(), // slot 7
  ]).bytes;
  return buildElf({
    machine,
    sections: [
      { name: ".text", type: SectionType.PROGBITS, flags: AX, data: text },
      { name: "xdp", type: SectionType.PROGBITS, flags: AX, data: xdp },
      { name: "maps", type: SectionType.PROGBITS, flags: WA, data: new Uint8Array(20) },
      { name: "license", type: SectionType.PROGBITS, flags: WA, data: new TextEncoder().encode("GPL\0") },
      { name: ".data", type: SectionType.PROGBITS, flags: WA, data: new Uint8Array(8) },
    ],
    symbols: [
      { name: "x.c", type: SymbolType.FILE, shndx: SHN_ABS },
      { name: "", type: SymbolType.SECTION, shndx: 1 },
      { name: "", type: SymbolType.SECTION, shndx: 5 },
      { name: "sub", type: SymbolType.FUNC, shndx: 1, size: 16 },
      { name: "LBB0_1", shndx: 2, value: 56 },
      { name: "prog", type: SymbolType.FUNC, bind: SymbolBind.GLOBAL, shndx: 2, size: 64 },
      { name: "counters", type: SymbolType.OBJECT, bind: SymbolBind.GLOBAL, shndx: 3, size: 20 },
    ],
    relocations: [
      { section: 2, offset: 0, type: BpfReloc.R_BPF_64_64, symbol: 7 },
      { section: 2, offset: 16, type: BpfReloc.R_BPF_64_64, symbol: 3 },
      { section: 2, offset: 32, type: BpfReloc.R_BPF_64_32, symbol: 2 },
    ],
  });
}

describe("reading a BPF object", () => {
  test("sections, symbols and relocations", () => {
    const elf = readElf(sampleObject());
    assert.equal(elf.header.machine, 247);
    assert.deepEqual(elf.sections.map((s) => s.name), ["", ".text", "xdp", "maps", "license", ".data", ".symtab", ".strtab", ".relxdp", ".shstrtab"]);
    assert.equal(elf.sections[2]!.size, 64);
    assert.deepEqual(elf.symbols.map((s) => s.name), ["", "x.c", "", "", "sub", "LBB0_1", "prog", "counters"]);
    const prog = elf.symbols[6]!;
    assert.equal(prog.type, SymbolType.FUNC);
    assert.equal(prog.bind, SymbolBind.GLOBAL);
    assert.equal(prog.size, 64n);
    assert.equal(elf.relocations.length, 1);
    assert.equal(elf.relocations[0]!.target, 2);
    assert.deepEqual(elf.relocations[0]!.entries.map((r) => [r.offset, r.type, r.symbol]), [[0, 1, 7], [16, 1, 3], [32, 10, 2]]);
  });

  test("program sections classify their relocations", () => {
    const obj = readBpfObject(sampleObject());
    assert.equal(obj.license, "GPL");
    assert.deepEqual(obj.programs.map((p) => p.name), [".text", "xdp"]);
    const xdp = obj.programs[1]!;
    assert.deepEqual(xdp.symbols.map((s) => [s.name, s.offset]), [["LBB0_1", 56], ["prog", 0]]);
    assert.deepEqual(
      xdp.relocations.map((r) => [r.slot, r.typeName, r.kind, r.symbol, r.function]),
      [[0, "R_BPF_64_64", "map", "counters", undefined], [2, "R_BPF_64_64", "data", ".data", undefined], [4, "R_BPF_64_32", "call", ".text", "sub"]],
    );
    const { instructions, externalRefs } = sectionInstructions(xdp);
    assert.equal(instructions[0]!.mapRef, "counters");
    assert.equal(instructions[0]!.symbol, "prog");
    assert.equal(externalRefs.get(2), "sub");
  });

  test("objdump prints it as llvm-objdump -dr would", () => {
    const text = objdump(readBpfObject(sampleObject()).programs, { file: "x.o", relocations: true });
    const lines = text.split("\n");
    assert.deepEqual(lines.slice(0, 4), ["", "x.o:\tfile format elf64-bpf", "", "Disassembly of section .text:"]);
    assert.ok(lines.includes("0000000000000000 <sub>:"));
    assert.ok(lines.includes("0000000000000038 <LBB0_1>:"));
    assert.ok(lines.includes("       5:\t15 00 01 00 00 00 00 00\tif r0 == 0 goto +1 <LBB0_1>"));
    assert.ok(lines.includes("\t\t0000000000000000:  R_BPF_64_64\tcounters"));
    assert.ok(lines.includes("\t\t0000000000000020:  R_BPF_64_32\t.text"));
    assert.ok(lines.includes("       4:\t85 10 00 00 ff ff ff ff\tcall -1"));
  });
});

describe("malformed objects are KMLIB_INVALID_ELF", () => {
  const good = sampleObject();
  const elf = readElf(good);
  const shoff = Number(new DataView(good.buffer).getBigUint64(40, true));
  const shdr = (i: number) => shoff + i * 64;
  const symtab = elf.sections.find((s) => s.type === SectionType.SYMTAB)!;
  const mutate = (f: (b: Uint8Array, dv: DataView) => void): Uint8Array => {
    const b = good.slice();
    f(b, new DataView(b.buffer));
    return b;
  };
  const cases: Array<[string, Uint8Array, RegExp]> = [
    ["empty file", new Uint8Array(0), /bad magic/],
    ["bad magic", mutate((b) => (b[1] = 0x46)), /bad magic/],
    ["only the magic", good.subarray(0, 4), /truncated identification/],
    ["32-bit class", mutate((b) => (b[4] = 1)), /not ELFCLASS64/],
    ["big-endian", mutate((b) => (b[5] = 2)), /not little-endian/],
    ["truncated header", good.subarray(0, 40), /truncated header \(40 of 64 bytes\)/],
    ["section header entry size", mutate((_, dv) => dv.setUint16(58, 40, true)), /section header entry size 40/],
    ["section table cut off", good.subarray(0, shoff + 64), /section header table .* past the end of the file/],
    ["section data past the end", mutate((_, dv) => dv.setBigUint64(shdr(2) + 32, 1n << 20n, true)), /section 2 \(1048576 bytes at offset \d+\) is past the end/],
    ["name table index", mutate((_, dv) => dv.setUint16(62, 99, true)), /section name table index 99 is out of range/],
    ["section name offset", mutate((_, dv) => dv.setUint32(shdr(3), 1 << 20, true)), /section 3: name offset 1048576 is outside its string table/],
    ["symbol entry size", mutate((_, dv) => dv.setBigUint64(shdr(symtab.index) + 56, 16n, true)), /symbol table entry size 16/],
    ["symbol name offset", mutate((b, dv) => dv.setUint32(symtab.offset + 24, 1 << 20, true)), /symbol 1: name offset 1048576/],
    ["symbol section index", mutate((b, dv) => dv.setUint16(symtab.offset + 4 * 24 + 6, 200, true)), /symbol 4: section index 200 is out of range/],
    ["relocation symbol", mutate((b, dv) => dv.setUint32(elf.relocations[0]!.section.offset + 12, 99, true)), /names symbol 99, beyond the symbol table/],
    ["relocated section", mutate((b, dv) => dv.setUint32(shdr(elf.relocations[0]!.section.index) + 44, 77, true)), /applies to section 77, which does not exist/],
  ];
  for (const [what, bytes, reason] of cases) {
    test(what, () => {
      assert.throws(() => readElf(bytes), (e) => isKmlibError(e, ErrorCode.InvalidElf) && reason.test(e.message) && e.message.startsWith("invalid ELF: "));
    });
  }

  test("an object for another machine", () => {
    assert.doesNotThrow(() => readElf(sampleObject(62)));
    assert.throws(() => readBpfObject(sampleObject(62)), (e) => isKmlibError(e, ErrorCode.InvalidElf) && /not a BPF object \(e_machine 62/.test(e.message));
  });
});

describe("clang's objects read as llvm-objdump reads them", () => {
  const tools = missing("clang", "llvm-objdump") === undefined;
  const tmp = tempDir("kmlib-elf-");
  let compiled: Compiled[] = [];
  before(async () => {
    if (tools) compiled = await compileFixtures(tmp.path, (_, cpu) => cpu.startsWith("v3"));
  });
  after(() => tmp.dispose());

  test("section headers (-h), symbols (-t) and relocations (-r)", async (t) => {
    if (!requires(t, "clang", "llvm-objdump")) return;
    for (const c of compiled) {
      const elf = readElf(readFileSync(c.path));
      const out = await llvmObjdump(["-h", "-t", "-r", c.path]);
      const heads = [...out.matchAll(/^ *(\d+) (\S*) +([0-9a-f]{8}) [0-9a-f]{16}/gm)].map((m) => [Number(m[1]), m[2], parseInt(m[3]!, 16)]);
      assert.ok(heads.length >= 5, `${c.name}: parsed ${heads.length} section headers`);
      assert.deepEqual(heads, elf.sections.map((s) => [s.index, s.name, s.size]), `${c.name}: sections`);

      const syms = [...out.matchAll(/^([0-9a-f]{16}) (.{7}) (\S+)\t([0-9a-f]{16}) (.*)$/gm)].map((m) => [BigInt(`0x${m[1]}`), m[2]![0], m[3], BigInt(`0x${m[4]}`), m[5]]);
      assert.ok(syms.length >= 2, `${c.name}: parsed ${syms.length} symbols`);
      const secName = (i: number) => (i === SHN_ABS ? "*ABS*" : i === 0 ? "*UND*" : elf.sections[i]!.name);
      const bindChar = ["l", "g", "w"];
      assert.deepEqual(
        syms,
        elf.symbols.slice(1).map((s) => [s.value, bindChar[s.bind], secName(s.shndx), s.size, s.type === SymbolType.SECTION ? secName(s.shndx) : s.name]),
        `${c.name}: symbols`,
      );

      const relocs: string[] = [];
      for (const m of out.matchAll(/^RELOCATION RECORDS FOR \[(.*)\]:\nOFFSET +TYPE +VALUE\n((?:[0-9a-f]{16} .*\n)*)/gm)) {
        for (const line of m[2]!.trim().split("\n")) relocs.push(`${m[1]} ${line.replace(/ +/g, " ")}`);
      }
      if (c.name !== "legacy") assert.ok(relocs.length > 0, `${c.name}: parsed relocations`);
      const ours = readBpfObject(readFileSync(c.path)).programs.flatMap((p) =>
        p.relocations.map((r) => `${p.name} ${r.offset.toString(16).padStart(16, "0")} ${r.typeName} ${relocationValue(r)}`));
      // llvm-objdump also lists relocations of non-code sections (BTF, debug info); compare the code's.
      assert.deepEqual(ours, relocs.filter((l) => ours.some((o) => o.split(" ")[0] === l.split(" ")[0])), `${c.name}: relocations`);
    }
  });
});
