/**
 * @module bpf/elf
 * Reading BPF ELF objects (pure TypeScript, no library): sections, symbols, relocations,
 * program sections, and their `llvm-objdump`-style disassembly.
 */
export * from "./constants.ts";
export * from "./reader.ts";
export * from "./object.ts";
export * from "./objdump.ts";
