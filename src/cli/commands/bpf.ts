/**
 * @module cli/commands/bpf
 * `kmlib bpf ...`: the eBPF toolkit on the command line. `kmlib bpf disasm FILE` prints an
 * object's program sections (or a file of raw instructions) the way `llvm-objdump -d` does,
 * or as a cilium-style listing, or as kmlib DSL source.
 */
import { readFileSync } from "node:fs";
import { Command, Option } from "commander";
import { ErrorCode, KmlibError } from "../../errors.ts";
import { type DisasmItem, decode, disassembleItems, formatListing, lift, renderItem } from "../../bpf/asm/index.ts";
import {
  type ProgramSection, isElf, objdump, readBpfObject, relocationValue, sectionInstructions, sectionItems, selectSections,
} from "../../bpf/elf/index.ts";

type Style = "llvm" | "cilium" | "dsl";

interface DisasmFlags {
  section?: string[];
  raw?: boolean;
  hex?: boolean;
  json?: boolean;
  alu32?: boolean;
  reloc?: boolean;
  zeroes?: boolean;
  style: Style;
}

const hexBytes = (b: Uint8Array) => Array.from(b, (x) => x.toString(16).padStart(2, "0")).join(" ");

function itemJson(it: DisasmItem): Record<string, unknown> {
  switch (it.kind) {
    case "insn":
      return {
        kind: it.kind, slot: it.slot, offset: it.offset, bytes: hexBytes(it.bytes), text: it.text,
        ...(it.target === undefined ? {} : { target: Number(BigInt.asIntN(64, it.target)) }),
        ...(it.targetName === undefined ? {} : { targetName: it.targetName }),
      };
    default:
      return { ...it };
  }
}

function readInput(file: string, hex: boolean): Uint8Array {
  let bytes: Uint8Array;
  try {
    bytes = readFileSync(file);
  } catch (e) {
    throw new KmlibError(ErrorCode.NotFound, `cannot read ${file}: ${(e as Error).message}`, { cause: e });
  }
  if (!hex) return bytes;
  const text = new TextDecoder().decode(bytes).replace(/0x/gi, "").replace(/[\s,]+/g, "");
  if (!/^([0-9a-fA-F]{2})*$/.test(text)) throw new KmlibError(ErrorCode.InvalidEncoding, `${file}: not hex text (pairs of hex digits)`);
  return Uint8Array.from(text.match(/../g) ?? [], (h) => parseInt(h, 16));
}

function printRaw(file: string, bytes: Uint8Array, o: DisasmFlags): void {
  if (o.json) {
    const items = disassembleItems(bytes, { alu32: o.alu32 ?? false, zeroes: o.zeroes ?? false });
    process.stdout.write(JSON.stringify({ file, format: "raw", sections: [{ name: null, size: bytes.length, items: items.map(itemJson) }] }, null, 2) + "\n");
  } else if (o.style === "cilium") {
    process.stdout.write(formatListing(decode(bytes)));
  } else if (o.style === "dsl") {
    process.stdout.write(lift(decode(bytes)).source);
  } else {
    for (const it of disassembleItems(bytes, { alu32: o.alu32 ?? false, zeroes: o.zeroes ?? false })) process.stdout.write(renderItem(it) + "\n");
  }
}

function sectionJson(p: ProgramSection, o: DisasmFlags): Record<string, unknown> {
  return {
    name: p.name, index: p.index, size: p.bytes.length,
    symbols: p.symbols.map((s) => ({ name: s.name, offset: s.offset, slot: s.offset / 8, size: s.size, type: s.type, bind: s.bind })),
    relocations: p.relocations.map((r) => ({
      offset: r.offset, slot: r.slot, type: r.typeName, kind: r.kind, symbol: r.symbol, value: relocationValue(r),
      ...(r.symbolSection === undefined ? {} : { symbolSection: r.symbolSection }),
    })),
    items: sectionItems(p, { alu32: o.alu32 ?? false, relocations: o.reloc ?? false, zeroes: o.zeroes ?? false }).map(itemJson),
  };
}

function printElf(file: string, bytes: Uint8Array, o: DisasmFlags): void {
  const obj = readBpfObject(bytes);
  const programs = selectSections(obj.programs, o.section);
  if (o.json) {
    const out = { file, format: "elf64-bpf", ...(obj.license === undefined ? {} : { license: obj.license }), sections: programs.map((p) => sectionJson(p, o)) };
    process.stdout.write(JSON.stringify(out, null, 2) + "\n");
    return;
  }
  if (o.style === "llvm") {
    process.stdout.write(objdump(programs, { file, alu32: o.alu32 ?? false, relocations: o.reloc ?? false, zeroes: o.zeroes ?? false }));
    return;
  }
  for (const p of programs) {
    const { instructions, externalRefs } = sectionInstructions(p);
    process.stdout.write(`${o.style === "dsl" ? "// " : ""}section ${p.name}:\n`);
    process.stdout.write(o.style === "dsl" ? lift(instructions, { externalRefs }).source : formatListing(instructions, externalRefs));
    process.stdout.write("\n");
  }
}

export function register(program: Command): void {
  const bpf = program.command("bpf").description("the eBPF toolkit: disassemble objects and instructions");

  bpf
    .command("disasm")
    .description("disassemble a BPF ELF object's program sections, or raw instructions, as llvm-objdump -d prints them")
    .argument("<file>", "a BPF object (clang -target bpf -c), or raw little-endian instruction bytes")
    .option("--section <name>", "only this program section (e.g. xdp, tc, .text); repeat for more", (v: string, prev: string[] = []) => [...prev, v])
    .option("--raw", "read FILE as raw instruction bytes even if it looks like ELF")
    .option("--hex", "read FILE as hex text (e.g. `b7 00 00 00 02 00 00 00 95 00 ...`); implies --raw")
    .option("--alu32", "decode 32-bit loads, stores and atomics with w registers, as llvm-objdump --mattr=+alu32 (code built with -mcpu=v3)")
    .option("-r, --reloc", "print relocations under their instructions, as llvm-objdump -dr")
    .option("-z, --zeroes", "print runs of zero bytes instead of '...'")
    .addOption(new Option("--style <style>", "llvm: llvm-objdump text; cilium: listing for humans; dsl: kmlib DSL source").choices(["llvm", "cilium", "dsl"]).default("llvm"))
    .option("--json", "print sections, symbols, relocations and instructions as JSON")
    .addHelpText(
      "after",
      `
The llvm style matches llvm-objdump (LLVM 14) line for line. Instructions LLVM 14 cannot
decode (cpu v4: sdiv/smod, movsx, bswap, gotol, sign-extending loads; stores of an
immediate; load-acquire/store-release; may_goto; mod; jset) are printed in the syntax of newer LLVM. Bytes that are no valid
instruction print as <unknown>.

Examples:
  kmlib bpf disasm prog.o
  kmlib bpf disasm prog.o --section xdp -r
  kmlib bpf disasm prog.o --style dsl
  kmlib bpf disasm insns.bin --raw --json`,
    )
    .action((file: string, o: DisasmFlags) => {
      // A reader that stops early (`| head`) is not an error.
      process.stdout.on("error", (e: NodeJS.ErrnoException) => {
        if (e.code === "EPIPE") process.exit(0);
        throw e;
      });
      const bytes = readInput(file, o.hex ?? false);
      if (o.raw || o.hex || !isElf(bytes)) {
        if (o.section !== undefined) throw new KmlibError(ErrorCode.InvalidArgument, "--section applies to ELF objects, not raw instructions");
        printRaw(file, bytes, o);
      } else {
        printElf(file, bytes, o);
      }
    });
}
