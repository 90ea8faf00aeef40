/**
 * @module test/bpf/asm/elf-builder
 * A tiny ELF64 little-endian relocatable-object writer for the reader's tests, so they do not
 * depend on clang: sections, a symbol table (with its string table) and REL sections are laid
 * out after the header, the section header table last.
 */
export interface BuildSection {
  readonly name: string;
  readonly type: number;
  readonly flags?: number;
  readonly data?: Uint8Array;
  readonly link?: number;
  readonly info?: number;
  readonly entsize?: number;
}

export interface BuildSymbol {
  readonly name: string;
  readonly value?: number;
  readonly size?: number;
  /** STT_* */
  readonly type?: number;
  /** STB_* */
  readonly bind?: number;
  readonly shndx: number;
}

export interface BuildRelocation {
  /** Index (in `sections`, counting from 1) of the section patched. */
  readonly section: number;
  readonly offset: number;
  readonly type: number;
  /** Index into `symbols`, counting the null symbol as 0 (so the first given symbol is 1). */
  readonly symbol: number;
}

export interface BuildOptions {
  readonly machine?: number;
  readonly sections: readonly BuildSection[];
  readonly symbols?: readonly BuildSymbol[];
  readonly relocations?: readonly BuildRelocation[];
}

const SHT = { PROGBITS: 1, SYMTAB: 2, STRTAB: 3, REL: 9 } as const;

function strtab(names: readonly string[]): { bytes: Uint8Array; offsets: number[] } {
  const enc = new TextEncoder();
  const parts: number[] = [0];
  const offsets = names.map((n) => {
    if (n === "") return 0;
    const at = parts.length;
    parts.push(...enc.encode(n), 0);
    return at;
  });
  return { bytes: Uint8Array.from(parts), offsets };
}

/** Build the object. Section indices: the given sections are 1..n; symtab, strtab, rels, shstrtab follow. */
export function buildElf(o: BuildOptions): Uint8Array {
  const sections: BuildSection[] = [...o.sections];
  const nGiven = sections.length;
  const symbols = o.symbols ?? [];
  const symIndex = nGiven + 1;
  const strIndex = nGiven + 2;
  if (symbols.length > 0 || (o.relocations?.length ?? 0) > 0) {
    const names = strtab(symbols.map((s) => s.name));
    const sym = new Uint8Array((symbols.length + 1) * 24);
    const dv = new DataView(sym.buffer);
    const locals = symbols.filter((s) => (s.bind ?? 0) === 0).length;
    symbols.forEach((s, i) => {
      const p = (i + 1) * 24;
      dv.setUint32(p, names.offsets[i]!, true);
      dv.setUint8(p + 4, ((s.bind ?? 0) << 4) | (s.type ?? 0));
      dv.setUint16(p + 6, s.shndx, true);
      dv.setBigUint64(p + 8, BigInt(s.value ?? 0), true);
      dv.setBigUint64(p + 16, BigInt(s.size ?? 0), true);
    });
    sections.push({ name: ".symtab", type: SHT.SYMTAB, data: sym, link: strIndex, info: locals + 1, entsize: 24 });
    sections.push({ name: ".strtab", type: SHT.STRTAB, data: names.bytes });
  }
  const bySection = new Map<number, BuildRelocation[]>();
  for (const r of o.relocations ?? []) bySection.set(r.section, [...(bySection.get(r.section) ?? []), r]);
  for (const [target, rels] of bySection) {
    const data = new Uint8Array(rels.length * 16);
    const dv = new DataView(data.buffer);
    rels.forEach((r, i) => {
      dv.setBigUint64(i * 16, BigInt(r.offset), true);
      dv.setBigUint64(i * 16 + 8, (BigInt(r.symbol) << 32n) | BigInt(r.type), true);
    });
    sections.push({ name: `.rel${sections[target - 1]!.name}`, type: SHT.REL, data, link: symIndex, info: target, entsize: 16 });
  }
  const shstr = strtab([...sections.map((s) => s.name), ".shstrtab"]);
  sections.push({ name: ".shstrtab", type: SHT.STRTAB, data: shstr.bytes });

  const align8 = (n: number) => (n + 7) & ~7;
  let at = 64;
  const offsets = sections.map((s) => {
    const o = at;
    at = align8(at + (s.data?.length ?? 0));
    return o;
  });
  const shoff = at;
  const out = new Uint8Array(shoff + (sections.length + 1) * 64);
  const dv = new DataView(out.buffer);
  out.set([0x7f, 0x45, 0x4c, 0x46, 2, 1, 1], 0);
  dv.setUint16(16, 1, true); // ET_REL
  dv.setUint16(18, o.machine ?? 247, true);
  dv.setUint32(20, 1, true);
  dv.setBigUint64(40, BigInt(shoff), true);
  dv.setUint16(52, 64, true);
  dv.setUint16(58, 64, true);
  dv.setUint16(60, sections.length + 1, true);
  dv.setUint16(62, sections.length, true);
  sections.forEach((s, i) => {
    out.set(s.data ?? new Uint8Array(0), offsets[i]!);
    const p = shoff + (i + 1) * 64;
    dv.setUint32(p, shstr.offsets[i]!, true);
    dv.setUint32(p + 4, s.type, true);
    dv.setBigUint64(p + 8, BigInt(s.flags ?? 0), true);
    dv.setBigUint64(p + 24, BigInt(offsets[i]!), true);
    dv.setBigUint64(p + 32, BigInt(s.data?.length ?? 0), true);
    dv.setUint32(p + 40, s.link ?? 0, true);
    dv.setUint32(p + 44, s.info ?? 0, true);
    dv.setBigUint64(p + 48, 8n, true);
    dv.setBigUint64(p + 56, BigInt(s.entsize ?? 0), true);
  });
  return out;
}
