/**
 * @module bpf/elf/object
 * A BPF object file seen as programs: its executable sections (`xdp`, `tc`, `.text`...), the
 * symbols in each (functions and clang's `LBB` labels) and each relocation, classified —
 * a map reference (`lddw` of a symbol in `maps`/`.maps`), global data (`.data`, `.bss`,
 * `.rodata*`), a bpf-to-bpf call or function address, or something else.
 */
import { ErrorCode, KmlibError } from "../../errors.ts";
import { type Instruction, decode, slots } from "../asm/instruction.ts";
import { EM_BPF, SHN_LORESERVE, SectionFlag, SectionType, SymbolType, bpfRelocName } from "./constants.ts";
import { type ElfFile, type ElfSection, type ElfSymbol, readElf } from "./reader.ts";

export interface ProgramSymbol {
  readonly name: string;
  /** Byte offset in the section. */
  readonly offset: number;
  readonly size: number;
  /** STT_* */
  readonly type: number;
  /** STB_* */
  readonly bind: number;
}

export type RelocationKind = "map" | "data" | "call" | "func" | "other";

export interface ProgramRelocation {
  /** Byte offset of the patched instruction in the section. */
  readonly offset: number;
  /** Its slot (8-byte unit). */
  readonly slot: number;
  readonly type: number;
  /** `R_BPF_64_64`, `R_BPF_64_32`... */
  readonly typeName: string;
  /** The symbol's name, or its section's name for a section symbol (`*ABS*` for none). */
  readonly symbol: string;
  /** Name of the section the symbol lives in, when it has one. */
  readonly symbolSection?: string;
  readonly kind: RelocationKind;
  readonly addend?: bigint;
  /**
   * For calls and function addresses: the function called. Against a section symbol clang
   * leaves the callee's place in `imm` (slot = imm + 1), as libbpf reads it.
   */
  readonly function?: string;
}

export interface ProgramSection {
  readonly index: number;
  readonly name: string;
  readonly bytes: Uint8Array;
  readonly symbols: readonly ProgramSymbol[];
  readonly relocations: readonly ProgramRelocation[];
}

export interface BpfObject {
  readonly elf: ElfFile;
  /** Executable sections with code, in section-table order. */
  readonly programs: readonly ProgramSection[];
  /** Contents of the `license` section, when there is one. */
  readonly license?: string;
}

const isExecutable = (s: ElfSection) => (s.flags & BigInt(SectionFlag.EXECINSTR)) !== 0n && s.type !== SectionType.NOBITS;
const isMapSection = (name: string) => name === "maps" || name === ".maps" || name.startsWith("maps/");
const isDataSection = (name: string) => /^\.(data|bss|rodata|kconfig)(\.|$)/.test(name);

/** The name llvm-objdump gives a relocation's target. */
function relocationTargetName(elf: ElfFile, sym: ElfSymbol | undefined): string {
  if (sym === undefined || sym.index === 0) return "*ABS*";
  if (sym.type === SymbolType.SECTION) return elf.sections[sym.shndx]?.name ?? sym.name;
  return sym.name;
}

/** Program sections of a parsed ELF file (only sections with code). */
export function programSections(elf: ElfFile): ProgramSection[] {
  if (elf.header.machine !== EM_BPF) {
    throw new KmlibError(ErrorCode.InvalidElf, `invalid ELF: not a BPF object (e_machine ${elf.header.machine}, expected ${EM_BPF})`);
  }
  return elf.sections
    .filter((s) => isExecutable(s) && s.size > 0)
    .map((sec) => {
      const symbols = elf.symbols
        .filter((sym) => sym.shndx === sec.index && sym.type !== SymbolType.SECTION && sym.index !== 0)
        .map((sym) => ({ name: sym.name, offset: Number(sym.value), size: Number(sym.size), type: sym.type, bind: sym.bind }));
      const relocations = elf.relocations
        .filter((r) => r.target === sec.index)
        .flatMap((r) => r.entries)
        .map((r): ProgramRelocation => {
          const sym = r.symbol === 0 ? undefined : elf.symbols[r.symbol];
          const home = sym !== undefined && sym.shndx !== 0 && sym.shndx < SHN_LORESERVE ? elf.sections[sym.shndx] : undefined;
          const op = sec.data[r.offset];
          let kind: RelocationKind = "other";
          if (home !== undefined) {
            if (isMapSection(home.name)) kind = "map";
            else if (isDataSection(home.name)) kind = "data";
            else if (isExecutable(home)) kind = op === 0x85 ? "call" : "func";
          }
          let fn: string | undefined;
          if ((kind === "call" || kind === "func") && sym !== undefined) {
            if (sym.type !== SymbolType.SECTION) fn = sym.name;
            else if (r.offset + 8 <= sec.data.length) {
              const at = Number(sym.value) + (new DataView(sec.data.buffer, sec.data.byteOffset + r.offset + 4, 4).getInt32(0, true) + 1) * 8;
              fn = elf.symbols.find((f) => f.shndx === sym.shndx && f.type === SymbolType.FUNC && Number(f.value) === at)?.name;
            }
          }
          return {
            offset: r.offset, slot: Math.floor(r.offset / 8), type: r.type, typeName: bpfRelocName(r.type),
            symbol: relocationTargetName(elf, sym), kind, ...(fn === undefined ? {} : { function: fn }),
            ...(home === undefined ? {} : { symbolSection: home.name }), ...(r.addend === undefined ? {} : { addend: r.addend }),
          };
        })
        .sort((a, b) => a.offset - b.offset);
      return { index: sec.index, name: sec.name, bytes: sec.data, symbols, relocations };
    });
}

/** Read a BPF object file's programs. Throws `KMLIB_INVALID_ELF` on malformed input. */
export function readBpfObject(bytes: Uint8Array): BpfObject {
  const elf = readElf(bytes);
  const programs = programSections(elf);
  const lic = elf.sections.find((s) => s.name === "license");
  if (lic === undefined) return { elf, programs };
  const end = lic.data.indexOf(0);
  return { elf, programs, license: new TextDecoder().decode(end < 0 ? lic.data : lic.data.subarray(0, end)) };
}

export interface SectionInstructions {
  /** The decoded instructions, each carrying the symbol that starts at it and the map it loads. */
  readonly instructions: readonly Instruction[];
  /** Relocated bpf-to-bpf calls and function addresses: instruction index to the function named. */
  readonly externalRefs: ReadonlyMap<number, string>;
}

/**
 * Decode a program section strictly (`KMLIB_INVALID_ENCODING` on bad bytes) and attach what
 * the object knows: function symbols (preferred) or labels as `symbol`, map relocations as
 * `mapRef`, and relocated calls as external references (see `lift`).
 */
export function sectionInstructions(p: ProgramSection): SectionInstructions {
  const raw = decode(p.bytes);
  const byOffset = new Map<number, ProgramSymbol>();
  for (const s of p.symbols) {
    const cur = byOffset.get(s.offset);
    if (cur === undefined || (s.type === SymbolType.FUNC && cur.type !== SymbolType.FUNC)) byOffset.set(s.offset, s);
  }
  const relocs = new Map(p.relocations.map((r) => [r.offset, r]));
  const externalRefs = new Map<number, string>();
  let offset = 0;
  const instructions = raw.map((ins, i) => {
    const sym = byOffset.get(offset);
    const r = relocs.get(offset);
    offset += slots(ins) * 8;
    let out: Instruction = sym === undefined ? ins : { ...ins, symbol: sym.name };
    if (r?.kind === "map") out = { ...out, mapRef: r.symbol };
    if (r?.kind === "call" || r?.kind === "func") externalRefs.set(i, r.function ?? r.symbol);
    return out;
  });
  return { instructions, externalRefs };
}
