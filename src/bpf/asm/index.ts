/**
 * @module bpf/asm
 * The eBPF instruction set: opcodes, registers, helpers, the DSL, the assembler.
 * Pure: no kernel access.
 */
export * from "./opcode.ts";
export * from "./register.ts";
export * from "./helper.ts";
export * from "./instruction.ts";
export * from "./dsl.ts";
export * from "./assembler.ts";
export * from "./classify.ts";
export * from "./format.ts";
export * from "./disasm.ts";
export * from "./lift.ts";
export * from "./listing.ts";
