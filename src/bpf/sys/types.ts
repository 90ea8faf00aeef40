/**
 * @module bpf/sys/types
 * The one syscall layer, as an interface. Every call kmlib makes to bpf() (through libbpf),
 * mmap, setns and close goes through a `BpfSys`, so unit tests can script the kernel's
 * answers with `FakeBpfSys` (aya style) and only the real implementation touches koffi.
 *
 * Convention (libbpf's): integer results are >= 0 on success and `-errno` on failure.
 * Buffers are plain `Uint8Array`s the callee reads or writes in place.
 */

export interface ProgLoadArgs {
  readonly type: number;
  readonly name: string;
  readonly license: string;
  /** Encoded instructions, map fds already patched in. */
  readonly insns: Uint8Array;
  readonly expectedAttachType: number;
  readonly progFlags: number;
  readonly ifindex: number;
  readonly attachBtfId: number;
  readonly attachBtfObjFd: number;
  readonly attachProgFd: number;
  /** 0: log only on failure (libbpf retries at level 1); 1, 2: verbose; | 4: stats. */
  readonly logLevel: number;
  readonly logBuf: Uint8Array | null;
}

export interface MapCreateArgs {
  readonly type: number;
  readonly name: string;
  readonly keySize: number;
  readonly valueSize: number;
  readonly maxEntries: number;
  readonly flags: number;
  readonly innerMapFd: number;
  readonly numaNode: number;
  readonly mapExtra: bigint;
  readonly ifindex: number;
}

export interface BatchFlags {
  readonly elemFlags: bigint;
  readonly flags: bigint;
}

export interface TestRunArgs {
  readonly dataIn: Uint8Array | null;
  /** Receives the output packet; its length is the maximum accepted. */
  readonly dataOut: Uint8Array | null;
  readonly ctxIn: Uint8Array | null;
  readonly ctxOut: Uint8Array | null;
  readonly repeat: number;
  readonly flags: number;
  readonly cpu: number;
  readonly batchSize: number;
}

export interface TestRunResult {
  /** 0 or -errno. */
  readonly ret: number;
  readonly retval: number;
  /** Average nanoseconds per run, as the kernel measured it. */
  readonly duration: number;
  readonly dataSizeOut: number;
  readonly ctxSizeOut: number;
}

export interface LinkCreateArgs {
  readonly progFd: number;
  /** ifindex for XDP/tcx, cgroup fd for cgroup hooks... */
  readonly targetFd: number;
  readonly attachType: number;
  readonly flags: number;
}

/** A started readiness watch on a file descriptor (libuv poll under the hood). */
export interface FdWatch {
  close(): void;
}

/** An mmap result: the address, or 0n with `err` = -errno. */
export interface Mapping {
  readonly addr: bigint;
  readonly err: number;
}

export interface BpfSys {
  /** Human name of this implementation ("libbpf 1.1 via koffi", "fake"). */
  readonly name: string;

  progLoad(a: ProgLoadArgs): number;
  mapCreate(a: MapCreateArgs): number;

  mapUpdate(fd: number, key: Uint8Array, value: Uint8Array, flags: bigint): number;
  mapLookup(fd: number, key: Uint8Array, value: Uint8Array, flags: bigint): number;
  mapLookupAndDelete(fd: number, key: Uint8Array | null, value: Uint8Array): number;
  mapDelete(fd: number, key: Uint8Array): number;
  /** `key` null asks for the first key. */
  mapGetNextKey(fd: number, key: Uint8Array | null, next: Uint8Array): number;
  mapFreeze(fd: number): number;
  /** `count[0]` is the number of elements in and out. */
  mapLookupBatch(fd: number, inBatch: Uint8Array | null, outBatch: Uint8Array, keys: Uint8Array, values: Uint8Array, count: Uint32Array, f: BatchFlags): number;
  mapLookupAndDeleteBatch(fd: number, inBatch: Uint8Array | null, outBatch: Uint8Array, keys: Uint8Array, values: Uint8Array, count: Uint32Array, f: BatchFlags): number;
  mapUpdateBatch(fd: number, keys: Uint8Array, values: Uint8Array, count: Uint32Array, f: BatchFlags): number;
  mapDeleteBatch(fd: number, keys: Uint8Array, count: Uint32Array, f: BatchFlags): number;

  objPin(fd: number, path: string): number;
  objGet(path: string, fileFlags: number): number;
  /** Fills `info` (up to `len[0]` bytes); `len[0]` receives the kernel's size. */
  objGetInfo(fd: number, info: Uint8Array, len: Uint32Array): number;
  /** Next id after `start` of the given kind; -ENOENT at the end. */
  getNextId(kind: "prog" | "map" | "link", start: number, next: Uint32Array): number;
  getFdById(kind: "prog" | "map" | "link", id: number): number;

  linkCreate(a: LinkCreateArgs): number;
  linkUpdate(linkFd: number, newProgFd: number, flags: number, oldProgFd: number): number;
  linkDetach(linkFd: number): number;

  progTestRun(fd: number, a: TestRunArgs): TestRunResult;
  /** Same, on a worker thread, so the event loop keeps running (e.g. to drain a ring buffer). */
  progTestRunAsync(fd: number, a: TestRunArgs): Promise<TestRunResult>;

  /** BPF_ENABLE_STATS: returns an fd; statistics stay on while it is open. */
  enableStats(type: number): number;
  numPossibleCpus(): number;
  pageSize(): number;

  close(fd: number): number;
  mmap(fd: number, length: number, prot: number, offset: number): Mapping;
  munmap(addr: bigint, length: number): number;
  /** An ArrayBuffer over mapped memory (no copy). */
  view(addr: bigint, length: number): ArrayBuffer;
  /** Calls `onReadable` whenever `fd` is readable, from the event loop. */
  watchReadable(fd: number, onReadable: () => void): FdWatch;

  /** BTF type id of `name` with BTF kind `kind` in the running kernel's BTF (-errno if absent). */
  vmlinuxBtfId(name: string, kind: number): number;

  ifNameToIndex(name: string): number;
  /** setns(2) for the calling thread. */
  setns(fd: number, nstype: number): number;
}

export const PROT_READ = 1;
export const PROT_WRITE = 2;
export const CLONE_NEWNET = 0x40000000;
