/**
 * @module bpf/prog
 * Programs: a `ProgramSpec` is plain data (name, type, instructions, license, maps it
 * references); `loadProgram` is the separate step that patches map fds into the assembler's
 * relocations, loads it with the verifier log (growing the log buffer while the kernel says
 * ENOSPC) and returns a `Program` holding the fd. Needs CAP_BPF (+ CAP_NET_ADMIN for
 * networking types, CAP_PERFMON for tracing types).
 */
import { ErrorCode, KmlibError } from "../errors.ts";
import { assemble, type Assembled, type AsmInput } from "./asm/index.ts";
import { PermissionError, SyscallError, VerifierError, sysError, type Privilege } from "./errors.ts";
import { FdObject } from "./fd.ts";
import { programInfo, type ProgramInfo } from "./info.ts";
import { checkU32, enumValue, rejectUnknown } from "./options.ts";
import { openPinned, pinObject } from "./pin.ts";
import { bpfSys, type BpfSys } from "./sys/index.ts";
import { runTest, runTestAsync, runLive, type LiveRunOptions, type LiveRunResult, type TestRunOptions, type TestRunOutput } from "./test-run.ts";
import { AttachType, BPF_OBJ_NAME_LEN, ProgType, nameOf, type AttachTypeName, type ProgTypeName } from "./types.ts";

/** Anything with a map fd: a loaded `BpfMap`, or a raw fd number. */
export type MapRef = { readonly fd: number } | number;

export interface ProgramSpec {
  /** Up to 15 characters reach the kernel (BPF_OBJ_NAME_LEN); [A-Za-z0-9_.]. */
  readonly name: string;
  readonly type: ProgTypeName | number;
  /** DSL items, an assembled program, or raw encoded instructions. */
  readonly instructions: AsmInput | Assembled | Uint8Array;
  /** Default "GPL" (needed by GPL-only helpers). */
  readonly license?: string;
  /** The maps the instructions reference by name (`LoadMapPtr(R1, "counts")`). */
  readonly maps?: Readonly<Record<string, MapRef>>;
  readonly expectedAttachType?: AttachTypeName | number;
  /** BPF_F_* load flags (see ProgFlag). */
  readonly flags?: number;
  /** For tracing programs (fentry/fexit): BTF id of the target, and its BTF object fd. */
  readonly attachBtfId?: number;
  readonly attachBtfObjFd?: number;
  readonly attachProgFd?: number;
}

export interface LoadOptions {
  /** 0 (default): a log only on failure; 1 or 2: keep the log of a successful load too. */
  readonly logLevel?: 0 | 1 | 2;
  /** First log buffer size in bytes (default 64 KiB); doubled on ENOSPC. */
  readonly logSize?: number;
  /** Give up growing the log at this size (default 64 MiB) and report it truncated. */
  readonly maxLogSize?: number;
  readonly sys?: BpfSys;
}

const specKeys = ["name", "type", "instructions", "license", "maps", "expectedAttachType", "flags", "attachBtfId", "attachBtfObjFd", "attachProgFd"];
const loadKeys = ["logLevel", "logSize", "maxLogSize", "sys"];
const ENOSPC = 28, EPERM = 1, EACCES = 13;

/** Capabilities a program type needs beyond CAP_BPF (kernel/bpf/syscall.c: bpf_prog_load). */
export function privilegesFor(type: number): Privilege[] {
  switch (type) {
    case ProgType.SOCKET_FILTER:
    case ProgType.CGROUP_SKB:
      return ["bpf"];
    case ProgType.KPROBE:
    case ProgType.TRACEPOINT:
    case ProgType.PERF_EVENT:
    case ProgType.RAW_TRACEPOINT:
    case ProgType.RAW_TRACEPOINT_WRITABLE:
    case ProgType.TRACING:
    case ProgType.LSM:
    case ProgType.STRUCT_OPS:
    case ProgType.EXT:
      return ["bpf", "perfmon"];
    case ProgType.SYSCALL:
      return ["bpf"];
    default:
      return ["bpf", "net_admin"];
  }
}

function toBytes(ins: ProgramSpec["instructions"]): { bytes: Uint8Array; relocations: Assembled["relocations"] } {
  if (ins instanceof Uint8Array) {
    if (ins.length === 0 || ins.length % 8 !== 0) throw new KmlibError(ErrorCode.InvalidEncoding, `program bytes must be a non-empty multiple of 8, got ${ins.length}`);
    return { bytes: ins, relocations: [] };
  }
  const a = Array.isArray(ins) ? assemble(ins as AsmInput) : (ins as Assembled);
  if (a.bytes.length === 0) throw new KmlibError(ErrorCode.InvalidArgument, "program has no instructions");
  return a;
}

/** Patch map fds into a copy of the encoded program. */
export function linkMaps(name: string, bytes: Uint8Array, relocations: Assembled["relocations"], maps: ProgramSpec["maps"] = {}): Uint8Array {
  const out = new Uint8Array(bytes);
  const v = new DataView(out.buffer);
  for (const r of relocations) {
    const m = maps[r.map];
    if (m === undefined) {
      const known = Object.keys(maps);
      throw new KmlibError(ErrorCode.NotFound, `program "${name}" instruction ${r.index} references map "${r.map}", which is not in spec.maps (${known.length ? known.join(", ") : "none given"})`);
    }
    v.setInt32(r.slot * 8 + 4, typeof m === "number" ? m : m.fd, true);
  }
  return out;
}

function decodeLog(buf: Uint8Array): string {
  const end = buf.indexOf(0);
  return new TextDecoder().decode(end < 0 ? buf : buf.subarray(0, end));
}

/** Load a program into the kernel. Throws VerifierError, PermissionError or SyscallError. */
export function loadProgram(spec: ProgramSpec, opts: LoadOptions = {}): Program {
  rejectUnknown(spec, specKeys, `program spec "${spec.name}"`);
  rejectUnknown(opts, loadKeys, "load options");
  const sys = opts.sys ?? bpfSys();
  const type = enumValue(ProgType, spec.type, "program type");
  const name = spec.name.replace(/[^A-Za-z0-9_.]/g, "_").slice(0, BPF_OBJ_NAME_LEN - 1);
  const { bytes, relocations } = toBytes(spec.instructions);
  const insns = linkMaps(spec.name, bytes, relocations, spec.maps);
  const maxLog = opts.maxLogSize ?? 64 << 20;
  let logSize = Math.min(opts.logSize ?? 64 << 10, maxLog);
  let logLevel: number = opts.logLevel ?? 0;
  for (;;) {
    const logBuf = new Uint8Array(logSize);
    const fd = sys.progLoad({
      type,
      name,
      license: spec.license ?? "GPL",
      insns,
      expectedAttachType: spec.expectedAttachType === undefined ? 0 : enumValue(AttachType, spec.expectedAttachType, "attach type"),
      progFlags: checkU32(spec.flags ?? 0, "program flags"),
      ifindex: 0,
      attachBtfId: checkU32(spec.attachBtfId ?? 0, "attachBtfId"),
      attachBtfObjFd: checkU32(spec.attachBtfObjFd ?? 0, "attachBtfObjFd"),
      attachProgFd: checkU32(spec.attachProgFd ?? 0, "attachProgFd"),
      logLevel,
      logBuf,
    });
    const log = decodeLog(logBuf);
    if (fd >= 0) return new Program(fd, spec.name, type, logLevel > 0 ? log : "", sys);
    const err = -fd;
    // A full log: the kernel stops and says ENOSPC; grow the buffer and load again verbosely
    // (libbpf already retried at level 1 once the level-0 attempt failed).
    if (err === ENOSPC && logSize < maxLog) {
      logSize = Math.min(logSize * 4, maxLog);
      logLevel = Math.max(logLevel, 1);
      continue;
    }
    if (log.trim().length > 0) throw new VerifierError(spec.name, err, log, err === ENOSPC);
    const what = `load ${nameOf(ProgType, type)} program "${spec.name}"`;
    if (err === EPERM || err === EACCES) throw new PermissionError(what, err, privilegesFor(type));
    throw new SyscallError(what, err, "the kernel gave no verifier log (unsupported program type, attach type or flags?)");
  }
}

/** A loaded program. Close it (or `using`) to release it; links keep it alive while attached. */
export class Program extends FdObject {
  readonly name: string;
  readonly type: number;
  /** The verifier's log of a successful load when loaded with logLevel >= 1. */
  readonly verifierLog: string;

  constructor(fd: number, name: string, type: number, verifierLog = "", sys: BpfSys = bpfSys()) {
    super(fd, sys);
    this.name = name;
    this.type = type;
    this.verifierLog = verifierLog;
  }

  describe(): string {
    return `program "${this.name}"`;
  }

  /** Kernel-side information: id, tag, sizes, run counts (see enableStats). */
  info(): ProgramInfo {
    return programInfo(this.fd, this.sys, this.describe());
  }

  /** BPF_PROG_TEST_RUN: run on a packet/context `repeat` times; verdict, output, ns per run. */
  testRun(opts: TestRunOptions = {}): TestRunOutput {
    return runTest(this.sys, this.fd, this.type, this.describe(), opts);
  }

  /** Like testRun, on a worker thread (the event loop keeps running meanwhile). */
  testRunAsync(opts: TestRunOptions = {}): Promise<TestRunOutput> {
    return runTestAsync(this.sys, this.fd, this.type, this.describe(), opts);
  }

  /** XDP live-frames mode (BPF_F_TEST_XDP_LIVE_FRAMES): frames really go through XDP. */
  testRunLive(opts: LiveRunOptions): LiveRunResult {
    return runLive(this.sys, this.fd, this.describe(), opts);
  }

  /** Pin under bpffs (a relative path goes under /sys/fs/bpf/kmlib/); returns the path. */
  pin(path: string): string {
    return pinObject(this, path);
  }
}

/** Wrap a program fd this process owns (e.g. from an id); closes it if it is no program. */
export function programFromFd(fd: number, sys: BpfSys = bpfSys()): Program {
  try {
    const info = programInfo(fd, sys);
    return new Program(fd, info.name, info.type, "", sys);
  } catch (e) {
    sys.close(fd);
    throw e;
  }
}

/** Open a program pinned at `path` (relative: under /sys/fs/bpf/kmlib/). */
export function programFromPin(path: string, sys: BpfSys = bpfSys()): Program {
  return programFromFd(openPinned(path, sys), sys);
}

/** Open a program by its kernel id (needs CAP_SYS_ADMIN). */
export function programFromId(id: number, sys: BpfSys = bpfSys()): Program {
  const fd = sys.getFdById("prog", checkU32(id, "program id"));
  if (fd === -2) throw new KmlibError(ErrorCode.NotFound, `no program with id ${id}`);
  if (fd < 0) throw sysError(`open program id ${id}`, fd, ["sys_admin"]);
  return programFromFd(fd, sys);
}

const BTF_KIND_FUNC = 12;

/**
 * BTF id of a kernel function, for tracing programs (`attachBtfId` of an fentry/fexit
 * program). Needs a kernel with BTF (/sys/kernel/btf/vmlinux).
 */
export function kernelFunctionBtfId(name: string, sys: BpfSys = bpfSys()): number {
  const id = sys.vmlinuxBtfId(name, BTF_KIND_FUNC);
  if (id === -2) throw new KmlibError(ErrorCode.NotFound, `no kernel function "${name}" in the kernel's BTF`);
  if (id < 0) throw sysError(`look up "${name}" in the kernel's BTF (/sys/kernel/btf/vmlinux)`, id, []);
  return id;
}
