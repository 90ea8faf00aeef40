/**
 * @module bpf/sys
 * The one FFI module. Everything in src/bpf that talks to the kernel asks `bpfSys()` for the
 * current syscall layer: the real libbpf one by default, or a scripted fake that a unit test
 * installs with `useBpfSys(fake)` (which returns a function restoring the previous one).
 */
import { libbpfSys } from "./libbpf.ts";
import type { BpfSys } from "./types.ts";

export type * from "./types.ts";
export { CLONE_NEWNET, PROT_READ, PROT_WRITE } from "./types.ts";
export { errnoName, errnoMessage } from "./errno.ts";
export { FakeBpfSys, type FakeAnswer } from "./fake.ts";

let current: BpfSys | undefined;

export function bpfSys(): BpfSys {
  current ??= libbpfSys();
  return current;
}

/** Install another syscall layer (a fake in tests); returns the restore function. */
export function useBpfSys(sys: BpfSys): () => void {
  const before = current;
  current = sys;
  return () => {
    current = before;
  };
}
