/**
 * @module bpf/elf/reader
 * A reader for ELF64 little-endian objects, written from the System V gABI: the header, the
 * section table, the symbol table and the relocation sections. Enough for BPF objects made by
 * clang; nothing is executed or mapped. Every offset is bounds-checked, and a malformed file
 * is a `KMLIB_INVALID_ELF` error that says what is wrong and where.
 */
import { ErrorCode, KmlibError } from "../../errors.ts";
import {
  ELF64_EHDR_SIZE, ELF64_REL_SIZE, ELF64_RELA_SIZE, ELF64_SHDR_SIZE, ELF64_SYM_SIZE, ELF_MAGIC, ELFCLASS64, ELFDATA2LSB,
  SHN_LORESERVE, SHN_XINDEX, SectionType,
} from "./constants.ts";

export interface ElfHeader {
  readonly type: number;
  readonly machine: number;
  readonly version: number;
  readonly entry: bigint;
  readonly flags: number;
  readonly shstrndx: number;
}

export interface ElfSection {
  readonly index: number;
  readonly name: string;
  readonly type: number;
  readonly flags: bigint;
  readonly addr: bigint;
  readonly offset: number;
  readonly size: number;
  readonly link: number;
  readonly info: number;
  readonly addralign: bigint;
  readonly entsize: number;
  /** The section's bytes (empty for NOBITS). A view into the file, not a copy. */
  readonly data: Uint8Array;
}

export interface ElfSymbol {
  /** Index in the symbol table (0 is the null symbol). */
  readonly index: number;
  readonly name: string;
  readonly value: bigint;
  readonly size: bigint;
  /** STT_* (low 4 bits of st_info). */
  readonly type: number;
  /** STB_* (high 4 bits of st_info). */
  readonly bind: number;
  readonly visibility: number;
  /** Section index, or a special index (SHN_ABS, SHN_COMMON, SHN_UNDEF). */
  readonly shndx: number;
}

export interface ElfRelocation {
  /** Byte offset in the section the relocation applies to. */
  readonly offset: number;
  readonly type: number;
  /** Index of the symbol in the symbol table. */
  readonly symbol: number;
  /** For RELA sections only. */
  readonly addend?: bigint;
}

export interface ElfRelocationSection {
  /** The REL/RELA section itself. */
  readonly section: ElfSection;
  /** Index of the section the relocations apply to (sh_info). */
  readonly target: number;
  readonly entries: readonly ElfRelocation[];
}

export interface ElfFile {
  readonly header: ElfHeader;
  readonly sections: readonly ElfSection[];
  /** The static symbol table (empty when the object has none). */
  readonly symbols: readonly ElfSymbol[];
  readonly relocations: readonly ElfRelocationSection[];
}

function invalid(msg: string): never {
  throw new KmlibError(ErrorCode.InvalidElf, `invalid ELF: ${msg}`);
}

/** True when the bytes start with the ELF magic number. */
export function isElf(bytes: Uint8Array): boolean {
  return bytes.length >= 4 && ELF_MAGIC.every((b, i) => bytes[i] === b);
}

/** A u64 field that must fit a JavaScript number to be used as an offset or size. */
function offsetField(v: bigint, what: string): number {
  if (v > BigInt(Number.MAX_SAFE_INTEGER)) invalid(`${what} ${v} is too large`);
  return Number(v);
}

function cString(strtab: Uint8Array, at: number, what: string): string {
  if (at >= strtab.length) {
    if (at === 0 && strtab.length === 0) return "";
    invalid(`${what}: name offset ${at} is outside its string table (${strtab.length} bytes)`);
  }
  const end = strtab.indexOf(0, at);
  if (end < 0) invalid(`${what}: name at offset ${at} is not NUL-terminated`);
  return new TextDecoder().decode(strtab.subarray(at, end));
}

/** Parse an ELF64 little-endian object. Throws `KMLIB_INVALID_ELF` on malformed input. */
export function readElf(bytes: Uint8Array): ElfFile {
  if (bytes.length < 4 || !isElf(bytes)) invalid("bad magic (not an ELF file)");
  if (bytes.length < 16) invalid(`truncated identification (${bytes.length} bytes)`);
  if (bytes[4] !== ELFCLASS64) invalid(`class ${bytes[4]} is not ELFCLASS64`);
  if (bytes[5] !== ELFDATA2LSB) invalid(`data encoding ${bytes[5]} is not little-endian`);
  if (bytes.length < ELF64_EHDR_SIZE) invalid(`truncated header (${bytes.length} of ${ELF64_EHDR_SIZE} bytes)`);
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const u16 = (o: number) => dv.getUint16(o, true);
  const u32 = (o: number) => dv.getUint32(o, true);
  const u64 = (o: number) => dv.getBigUint64(o, true);

  const shoff = offsetField(u64(40), "section header offset");
  const shentsize = u16(58);
  let shnum = u16(60);
  let shstrndx = u16(62);
  const header: Omit<ElfHeader, "shstrndx"> = { type: u16(16), machine: u16(18), version: u32(20), entry: u64(24), flags: u32(48) };
  if (u16(52) !== ELF64_EHDR_SIZE) invalid(`header size ${u16(52)} (expected ${ELF64_EHDR_SIZE})`);

  const sectionHeaderAt = (i: number) => {
    const o = shoff + i * shentsize;
    if (o + ELF64_SHDR_SIZE > bytes.length) invalid(`section header ${i} at offset ${o} is past the end of the file (${bytes.length} bytes)`);
    return o;
  };
  if (shoff !== 0) {
    if (shentsize !== ELF64_SHDR_SIZE) invalid(`section header entry size ${shentsize} (expected ${ELF64_SHDR_SIZE})`);
    // Extended numbering: the real counts live in section 0.
    if (shnum === 0) shnum = offsetField(u64(sectionHeaderAt(0) + 32), "section count");
    if (shstrndx === SHN_XINDEX) shstrndx = u32(sectionHeaderAt(0) + 40);
    if (shoff + shnum * ELF64_SHDR_SIZE > bytes.length) {
      invalid(`section header table (${shnum} entries at offset ${shoff}) is past the end of the file (${bytes.length} bytes)`);
    }
  } else {
    shnum = 0;
  }

  const raw = Array.from({ length: shnum }, (_, i) => {
    const o = sectionHeaderAt(i);
    const type = u32(o + 4);
    const offset = offsetField(u64(o + 24), `section ${i} offset`);
    const size = offsetField(u64(o + 32), `section ${i} size`);
    if (type !== SectionType.NOBITS && type !== SectionType.NULL && offset + size > bytes.length) {
      invalid(`section ${i} (${size} bytes at offset ${offset}) is past the end of the file (${bytes.length} bytes)`);
    }
    return {
      index: i, nameOffset: u32(o), type, flags: u64(o + 8), addr: u64(o + 16), offset, size, link: u32(o + 40), info: u32(o + 44),
      addralign: u64(o + 48), entsize: offsetField(u64(o + 56), `section ${i} entry size`),
      data: type === SectionType.NOBITS || type === SectionType.NULL ? new Uint8Array(0) : bytes.subarray(offset, offset + size),
    };
  });
  if (shnum > 0 && shstrndx >= shnum) invalid(`section name table index ${shstrndx} is out of range (${shnum} sections)`);
  const shstr = shnum > 0 ? raw[shstrndx]!.data : new Uint8Array(0);
  const sections: ElfSection[] = raw.map(({ nameOffset, ...s }) => ({ ...s, name: cString(shstr, nameOffset, `section ${s.index}`) }));

  const symbols = readSymbols(sections);
  const relocations = sections
    .filter((s) => s.type === SectionType.REL || s.type === SectionType.RELA)
    .map((s) => readRelocations(s, sections.length, symbols.length));
  return { header: { ...header, shstrndx }, sections, symbols, relocations };
}

function readSymbols(sections: readonly ElfSection[]): ElfSymbol[] {
  const symtab = sections.find((s) => s.type === SectionType.SYMTAB);
  if (symtab === undefined) return [];
  if (symtab.entsize !== ELF64_SYM_SIZE) invalid(`symbol table entry size ${symtab.entsize} (expected ${ELF64_SYM_SIZE})`);
  if (symtab.size % ELF64_SYM_SIZE !== 0) invalid(`symbol table size ${symtab.size} is not a multiple of ${ELF64_SYM_SIZE}`);
  const strtab = sections[symtab.link];
  if (strtab === undefined || strtab.type !== SectionType.STRTAB) invalid(`symbol table links to section ${symtab.link}, not a string table`);
  const xindex = sections.find((s) => s.type === SectionType.SYMTAB_SHNDX && s.link === symtab.index);
  const xdv = xindex && new DataView(xindex.data.buffer, xindex.data.byteOffset, xindex.data.byteLength);
  const dv = new DataView(symtab.data.buffer, symtab.data.byteOffset, symtab.data.byteLength);
  const out: ElfSymbol[] = [];
  for (let i = 0; i < symtab.size / ELF64_SYM_SIZE; i++) {
    const o = i * ELF64_SYM_SIZE;
    const info = dv.getUint8(o + 4);
    let shndx = dv.getUint16(o + 6, true);
    if (shndx === SHN_XINDEX && xdv !== undefined) {
      if ((i + 1) * 4 > xdv.byteLength) invalid(`symbol ${i}: extended section index past the end of its table`);
      shndx = xdv.getUint32(i * 4, true);
    }
    if (shndx !== 0 && shndx < SHN_LORESERVE && shndx >= sections.length) invalid(`symbol ${i}: section index ${shndx} is out of range`);
    out.push({
      index: i, name: cString(strtab.data, dv.getUint32(o, true), `symbol ${i}`), value: dv.getBigUint64(o + 8, true),
      size: dv.getBigUint64(o + 16, true), type: info & 0xf, bind: info >> 4, visibility: dv.getUint8(o + 5) & 0x3, shndx,
    });
  }
  return out;
}

function readRelocations(sec: ElfSection, nsections: number, nsymbols: number): ElfRelocationSection {
  const rela = sec.type === SectionType.RELA;
  const entsize = rela ? ELF64_RELA_SIZE : ELF64_REL_SIZE;
  if (sec.entsize !== 0 && sec.entsize !== entsize) invalid(`section ${sec.index} (${sec.name}): relocation entry size ${sec.entsize} (expected ${entsize})`);
  if (sec.size % entsize !== 0) invalid(`section ${sec.index} (${sec.name}): size ${sec.size} is not a multiple of ${entsize}`);
  if (sec.info >= nsections) invalid(`section ${sec.index} (${sec.name}): applies to section ${sec.info}, which does not exist`);
  const dv = new DataView(sec.data.buffer, sec.data.byteOffset, sec.data.byteLength);
  const entries: ElfRelocation[] = [];
  for (let o = 0; o < sec.size; o += entsize) {
    const info = dv.getBigUint64(o + 8, true);
    const symbol = Number(info >> 32n);
    if (symbol >= nsymbols && symbol !== 0) invalid(`section ${sec.index} (${sec.name}): relocation at ${o / entsize} names symbol ${symbol}, beyond the symbol table`);
    entries.push({
      offset: offsetField(dv.getBigUint64(o, true), "relocation offset"),
      type: Number(info & 0xffffffffn),
      symbol,
      ...(rela ? { addend: dv.getBigInt64(o + 16, true) } : {}),
    });
  }
  return { section: sec, target: sec.info, entries };
}
