/**
 * @module bpf
 * The eBPF toolkit, flat: the instruction set and assembler (pure), and the kernel side
 * (programs, maps, ring buffers, links, pinning, test-run, object info) over the one FFI
 * module `bpf/sys`.
 */
export * from "./asm/index.ts";
export * from "./types.ts";
export * from "./errors.ts";
export { FdObject } from "./fd.ts";
export * from "./info.ts";
export * from "./prog.ts";
export * from "./test-run.ts";
export * from "./pin.ts";
export * from "./codec.ts";
export * from "./map.ts";
export * from "./typed-map.ts";
export * from "./ringbuf.ts";
export * from "./ringbuf-producer.ts";
export * from "./link.ts";
export { bpfSys, useBpfSys, FakeBpfSys, errnoName, errnoMessage } from "./sys/index.ts";
export type { BpfSys } from "./sys/index.ts";
