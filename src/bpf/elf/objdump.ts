/**
 * @module bpf/elf/objdump
 * A BPF object's program sections printed as `llvm-objdump -d` (and, with relocations,
 * `-dr`) prints them: the file line, then per executable section `Disassembly of section
 * NAME:` followed by the listing of `bpf/asm/disasm`.
 */
import { ErrorCode, KmlibError } from "../../errors.ts";
import { type DisasmItem, type DisasmOptions, disassembleItems, renderItem } from "../asm/disasm.ts";
import type { ProgramRelocation, ProgramSection } from "./object.ts";

export interface ObjdumpOptions {
  /** The file name printed on the first line (llvm-objdump prints the path it was given). */
  readonly file?: string;
  /** Only these sections (llvm-objdump `-j`). Unknown names are a `KMLIB_NOT_FOUND` error. */
  readonly sections?: readonly string[];
  /** `--mattr=+alu32` decoding (w registers in 32-bit loads, stores and atomics). */
  readonly alu32?: boolean;
  /** Print relocations under their instructions (`-r`). */
  readonly relocations?: boolean;
  /** Print zero runs instead of `...` (`-z`). */
  readonly zeroes?: boolean;
}

/** The value column llvm-objdump prints for a relocation: target name and any addend. */
export function relocationValue(r: ProgramRelocation): string {
  if (r.addend === undefined || r.addend === 0n) return r.symbol;
  const a = r.addend < 0n ? -r.addend : r.addend;
  return `${r.symbol}${r.addend < 0n ? "-" : "+"}0x${a.toString(16)}`;
}

export function selectSections(programs: readonly ProgramSection[], names?: readonly string[]): ProgramSection[] {
  if (names === undefined || names.length === 0) return [...programs];
  for (const n of names) {
    if (!programs.some((p) => p.name === n)) {
      const known = programs.map((p) => p.name).join(", ") || "none";
      throw new KmlibError(ErrorCode.NotFound, `no program section named "${n}" (program sections: ${known})`);
    }
  }
  return programs.filter((p) => names.includes(p.name));
}

/** The disassembly of one program section, as items. */
export function sectionItems(p: ProgramSection, options: ObjdumpOptions = {}): DisasmItem[] {
  const opts: DisasmOptions = {
    section: p.name,
    symbols: p.symbols.map((s) => ({ name: s.name, offset: s.offset, type: s.type })),
    alu32: options.alu32 ?? false,
    zeroes: options.zeroes ?? false,
    ...(options.relocations ? { relocations: p.relocations.map((r) => ({ offset: r.offset, type: r.typeName, value: relocationValue(r) })) } : {}),
  };
  return disassembleItems(p.bytes, opts);
}

/** The whole `llvm-objdump -d FILE` text for a BPF object's program sections. */
export function objdump(programs: readonly ProgramSection[], options: ObjdumpOptions = {}): string {
  let out = `\n${options.file ?? "<object>"}:\tfile format elf64-bpf\n`;
  for (const p of selectSections(programs, options.sections)) {
    out += `\nDisassembly of section ${p.name}:\n`;
    for (const it of sectionItems(p, options)) out += renderItem(it) + "\n";
  }
  return out;
}
