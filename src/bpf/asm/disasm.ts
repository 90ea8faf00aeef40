/**
 * @module bpf/asm/disasm
 * The disassembler: instructions or raw bytes as the listing `llvm-objdump -d` prints, line
 * for line — the slot number (8-byte unit) right-aligned in 8 columns, the raw bytes, the
 * LLVM text, ` <symbol+0x..>` after branches, a `<symbol>:` header where a symbol starts,
 * `...` for runs of zero bytes, `<unknown>` for bytes that are no valid instruction.
 * With `relocations` it also prints them under their instruction, as `llvm-objdump -dr`.
 *
 * The same walk is available as data (`disassembleItems`) for `--json` and tests.
 */
import { type Instruction, decodeAt, encode, slots } from "./instruction.ts";
import { type InsnKind, classify } from "./classify.ts";
import { type FormatOptions, UNKNOWN, formatKind } from "./format.ts";

export interface DisasmSymbol {
  readonly name: string;
  /** Byte offset in the section. */
  readonly offset: number;
  /** ELF symbol type; breaks ties between equal names, as llvm-objdump sorts. */
  readonly type?: number;
}

export interface DisasmRelocation {
  /** Byte offset in the section. */
  readonly offset: number;
  /** Type name, e.g. `R_BPF_64_64`. */
  readonly type: string;
  /** What llvm-objdump prints after the type: the symbol (or section) name and any addend. */
  readonly value: string;
}

export interface DisasmOptions extends FormatOptions {
  /**
   * The section being disassembled. When given, a symbol named after it stands at offset 0 if
   * no other symbol does (as llvm-objdump does); without it, unnamed leading code gets no header.
   */
  readonly section?: string;
  /** Symbols of the section (functions, labels); instructions' own `symbol`s are added. */
  readonly symbols?: readonly DisasmSymbol[];
  /** Relocations to print under their instructions (`llvm-objdump -dr`). */
  readonly relocations?: readonly DisasmRelocation[];
  /** Print runs of zero bytes instead of `...` (llvm-objdump `-z`). */
  readonly zeroes?: boolean;
  /** Print the raw bytes column (default true; llvm-objdump `--no-show-raw-insn` turns it off). */
  readonly rawBytes?: boolean;
}

export type DisasmItem =
  | { readonly kind: "symbol"; readonly name: string; readonly offset: number }
  | {
      readonly kind: "insn";
      readonly offset: number;
      readonly slot: number;
      readonly bytes: Uint8Array;
      /** LLVM text, or `<unknown>`. */
      readonly text: string;
      /** The instruction, when the bytes decode to a valid one. */
      readonly instruction?: Instruction;
      /** Byte offset a branch goes to (may lie outside the section). */
      readonly target?: bigint;
      /** llvm-objdump's annotation of that target: `LBB0_3`, `prog+0x98`. */
      readonly targetName?: string;
    }
  | { readonly kind: "zeroes"; readonly offset: number; readonly length: number }
  | { readonly kind: "reloc"; readonly offset: number; readonly type: string; readonly value: string };

interface SymbolEntry {
  readonly name: string | undefined;
  readonly offset: number;
  readonly type: number;
}

const compareNames = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

function collectInput(input: Uint8Array | readonly Instruction[], options: DisasmOptions): { bytes: Uint8Array; symbols: SymbolEntry[] } {
  const symbols: SymbolEntry[] = (options.symbols ?? []).map((s) => ({ name: s.name, offset: s.offset, type: s.type ?? 0 }));
  if (input instanceof Uint8Array) return { bytes: input, symbols };
  let offset = 0;
  for (const ins of input) {
    if (ins.symbol !== undefined) symbols.push({ name: ins.symbol, offset, type: 0 });
    offset += slots(ins) * 8;
  }
  return { bytes: encode(input), symbols };
}

/** Where a branch goes, as llvm-objdump computes it: unsigned 64-bit byte address. */
function branchTarget(ins: Instruction, k: InsnKind, offset: number): bigint | undefined {
  let delta: number;
  if (k.kind === "ja" || k.kind === "jcond" || k.kind === "may_goto") delta = ins.off;
  else if (k.kind === "gotol") delta = ins.imm;
  else return undefined;
  return BigInt.asUintN(64, BigInt(offset) + 8n + BigInt(delta) * 8n);
}

function countZeroes(bytes: Uint8Array, from: number, to: number): number {
  let n = 0;
  while (from + n < to && bytes[from + n] === 0) n++;
  // Like llvm-objdump: only runs of 8 or more, skipped in multiples of 4.
  return n < 8 ? 0 : n & ~3;
}

/** The disassembly as a list of items (symbols, instructions, skipped zeroes, relocations). */
export function disassembleItems(input: Uint8Array | readonly Instruction[], options: DisasmOptions = {}): DisasmItem[] {
  const { bytes, symbols } = collectInput(input, options);
  const alu32 = options.alu32 ?? false;
  symbols.sort((a, b) => a.offset - b.offset || compareNames(a.name ?? "", b.name ?? "") || a.type - b.type);
  if (symbols.length === 0 || symbols[0]!.offset !== 0) symbols.unshift({ name: options.section, offset: 0, type: 0 });
  const relocs = [...(options.relocations ?? [])].sort((a, b) => a.offset - b.offset);
  let relCur = 0;
  const out: DisasmItem[] = [];

  const nameTarget = (target: bigint): string | undefined => {
    // The last symbol at or before the target (binary search; symbols are sorted).
    let lo = 0;
    let hi = symbols.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (BigInt(symbols[mid]!.offset) <= target) lo = mid + 1;
      else hi = mid;
    }
    const best = lo > 0 ? symbols[lo - 1] : undefined;
    if (best?.name === undefined) return undefined;
    const disp = target - BigInt(best.offset);
    return disp === 0n ? best.name : `${best.name}+0x${disp.toString(16)}`;
  };

  for (let si = 0; si < symbols.length; si++) {
    const sym = symbols[si]!;
    // Of several symbols at one address only the last (in name order) gets the code.
    const end = Math.min(bytes.length, si + 1 < symbols.length ? symbols[si + 1]!.offset : bytes.length);
    if (sym.offset >= end) continue;
    if (sym.name !== undefined) out.push({ kind: "symbol", name: sym.name, offset: sym.offset });
    while (relCur < relocs.length && relocs[relCur]!.offset < sym.offset) relCur++;
    for (let index = sym.offset; index < end; ) {
      if (!options.zeroes) {
        const limit = relCur < relocs.length ? relocs[relCur]!.offset : end;
        const n = countZeroes(bytes, index, limit);
        if (n > 0) {
          out.push({ kind: "zeroes", offset: index, length: n });
          index += n;
          continue;
        }
      }
      const d = decodeAt(bytes, index);
      const k = d.ins === undefined ? undefined : classify(d.ins);
      const slot = Math.floor(index / 8);
      const raw = bytes.subarray(index, index + d.size);
      if (d.ins !== undefined && k !== undefined && k.kind !== "invalid") {
        const target = branchTarget(d.ins, k, index);
        const targetName = target === undefined ? undefined : nameTarget(target);
        out.push({
          kind: "insn", offset: index, slot, bytes: raw, text: formatKind(d.ins, k, alu32), instruction: d.ins,
          ...(target === undefined ? {} : { target }), ...(targetName === undefined ? {} : { targetName }),
        });
      } else {
        out.push({ kind: "insn", offset: index, slot, bytes: raw, text: UNKNOWN });
      }
      while (relCur < relocs.length && relocs[relCur]!.offset < index + d.size) {
        const r = relocs[relCur++]!;
        out.push({ kind: "reloc", offset: r.offset, type: r.type, value: r.value });
      }
      index += d.size;
    }
  }
  return out;
}

const HEX = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, "0"));
function hexBytes(b: Uint8Array): string {
  let s = b.length > 0 ? HEX[b[0]!]! : "";
  for (let i = 1; i < b.length; i++) s += " " + HEX[b[i]!]!;
  return s;
}

/** One item as the line llvm-objdump prints for it (symbol headers include their blank line). */
export function renderItem(item: DisasmItem, options: { rawBytes?: boolean } = {}): string {
  switch (item.kind) {
    case "symbol":
      return `\n${item.offset.toString(16).padStart(16, "0")} <${item.name}>:`;
    case "insn": {
      const lead = `${String(item.slot).padStart(8)}:`;
      const raw = options.rawBytes === false ? "" : `\t${hexBytes(item.bytes)}`;
      const target = item.targetName === undefined ? "" : ` <${item.targetName}>`;
      return `${lead}${raw}\t${item.text}${target}`;
    }
    case "zeroes":
      return "\t\t...";
    case "reloc":
      return `\t\t${item.offset.toString(16).padStart(16, "0")}:  ${item.type}\t${item.value}`;
  }
}

/**
 * Disassemble instructions or raw little-endian bytes into llvm-objdump's listing (one line per
 * item, each ending in a newline). Symbol headers start with a blank line, as in llvm-objdump.
 */
export function disassemble(input: Uint8Array | readonly Instruction[], options: DisasmOptions = {}): string {
  return disassembleItems(input, options)
    .map((it) => renderItem(it, options) + "\n")
    .join("");
}
