/**
 * @module bpf/test-run
 * BPF_PROG_TEST_RUN: run a loaded program on a given packet (or context) in the kernel,
 * `repeat` times, and get back the verdict, the output packet and the kernel's average
 * nanoseconds per run. Also XDP live-frames mode, where frames really go through the
 * XDP data path (XDP_TX/REDIRECT transmit), timed here for packets per second.
 */
import { ErrorCode, KmlibError } from "../errors.ts";
import { check, sysError } from "./errors.ts";
import { checkU32, rejectUnknown } from "./options.ts";
import type { BpfSys, TestRunArgs, TestRunResult } from "./sys/index.ts";
import { ProgType, TestRunFlag } from "./types.ts";

export interface TestRunOptions {
  /** Packet (XDP: at least 14 bytes, an Ethernet header). */
  readonly data?: Uint8Array;
  /** Context (xdp_md, __sk_buff, or a SYSCALL program's argument struct). */
  readonly ctx?: Uint8Array;
  /** Runs (default 1); the reported time is the average. SYSCALL programs run once. */
  readonly repeat?: number;
  /** Output packet buffer size (default: input + 512, grown when the kernel says ENOSPC). */
  readonly dataOutSize?: number;
  /** Output context buffer size (default: input size). */
  readonly ctxOutSize?: number;
  /** BPF_F_TEST_RUN_ON_CPU target (sets the flag). */
  readonly cpu?: number;
}

export interface TestRunOutput {
  /** r0 at exit: the verdict (XDP_PASS = 2, ...). */
  readonly retval: number;
  readonly data: Uint8Array;
  readonly ctx: Uint8Array | undefined;
  /** Average nanoseconds per run (the kernel's clock, 1 ns resolution). */
  readonly nsPerRun: number;
  readonly repeat: number;
}

const keys = ["data", "ctx", "repeat", "dataOutSize", "ctxOutSize", "cpu"];
const ENOSPC = 28;

function args(opts: TestRunOptions, progType: number, dataOut?: number): TestRunArgs {
  if (progType === ProgType.SYSCALL) {
    // SYSCALL programs run once on their context, which the kernel writes back in place;
    // repeat, packets and an output context are refused with EINVAL.
    if ((opts.repeat ?? 1) !== 1 || opts.data || opts.dataOutSize || opts.ctxOutSize) {
      throw new KmlibError(ErrorCode.InvalidArgument, "SYSCALL programs test-run once on a context only (no data, repeat or output sizes)");
    }
    return { dataIn: null, dataOut: null, ctxIn: opts.ctx ? opts.ctx.slice() : null, ctxOut: null, repeat: 0, flags: 0, cpu: 0, batchSize: 0 };
  }
  const repeat = checkU32(opts.repeat ?? 1, "repeat");
  const dataOutSize = dataOut ?? opts.dataOutSize ?? (opts.data ? opts.data.length + 512 : 0);
  const ctxOutSize = opts.ctxOutSize ?? opts.ctx?.length ?? 0;
  return {
    dataIn: opts.data ?? null,
    dataOut: dataOutSize > 0 ? new Uint8Array(dataOutSize) : null,
    ctxIn: opts.ctx ?? null,
    ctxOut: ctxOutSize > 0 ? new Uint8Array(ctxOutSize) : null,
    repeat,
    flags: opts.cpu === undefined ? 0 : TestRunFlag.RUN_ON_CPU,
    cpu: opts.cpu === undefined ? 0 : checkU32(opts.cpu, "cpu"),
    batchSize: 0,
  };
}

function output(a: TestRunArgs, r: TestRunResult): TestRunOutput {
  return {
    retval: r.retval | 0,
    data: a.dataOut ? a.dataOut.slice(0, r.dataSizeOut) : new Uint8Array(0),
    ctx: a.ctxOut ? a.ctxOut.slice(0, r.ctxSizeOut) : a.repeat === 0 && a.ctxIn ? a.ctxIn : undefined,
    nsPerRun: r.duration,
    repeat: a.repeat,
  };
}

export function runTest(sys: BpfSys, fd: number, progType: number, what: string, opts: TestRunOptions): TestRunOutput {
  rejectUnknown(opts, keys, "test-run options");
  let a = args(opts, progType);
  let r = sys.progTestRun(fd, a);
  // The output packet grew beyond our buffer: the kernel tells the size it needed.
  if (r.ret === -ENOSPC && a.dataOut && r.dataSizeOut > a.dataOut.length) {
    a = args(opts, progType, r.dataSizeOut);
    r = sys.progTestRun(fd, a);
  }
  check(`test-run ${what}`, r.ret, ["bpf"]);
  return output(a, r);
}

export async function runTestAsync(sys: BpfSys, fd: number, progType: number, what: string, opts: TestRunOptions): Promise<TestRunOutput> {
  rejectUnknown(opts, keys, "test-run options");
  const a = args(opts, progType);
  const r = await sys.progTestRunAsync(fd, a);
  check(`test-run ${what}`, r.ret, ["bpf"]);
  return output(a, r);
}

export interface LiveRunOptions {
  /** The frame to send, repeated `repeat` times. */
  readonly data: Uint8Array;
  readonly repeat: number;
  /** Frames per batch (kernel default 64). */
  readonly batchSize?: number;
  /** xdp_md context, e.g. to set ingress_ifindex so XDP_TX/REDIRECT have a device. */
  readonly ctx?: Uint8Array;
}

export interface LiveRunResult {
  readonly frames: number;
  readonly seconds: number;
  readonly framesPerSecond: number;
}

export function runLive(sys: BpfSys, fd: number, what: string, opts: LiveRunOptions): LiveRunResult {
  rejectUnknown(opts, ["data", "repeat", "batchSize", "ctx"], "live test-run options");
  if (!(opts.repeat > 0)) throw new KmlibError(ErrorCode.InvalidArgument, `live frames mode needs repeat > 0, got ${opts.repeat}`);
  const a: TestRunArgs = {
    dataIn: opts.data, dataOut: null, ctxIn: opts.ctx ?? null, ctxOut: null,
    repeat: checkU32(opts.repeat, "repeat"), flags: TestRunFlag.XDP_LIVE_FRAMES, cpu: 0, batchSize: checkU32(opts.batchSize ?? 0, "batchSize"),
  };
  const t0 = process.hrtime.bigint();
  const r = sys.progTestRun(fd, a);
  const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
  if (r.ret < 0) throw sysError(`live test-run ${what}`, r.ret, ["bpf"], "live frames mode needs an XDP program and kernel >= 5.18");
  return { frames: a.repeat, seconds, framesPerSecond: a.repeat / seconds };
}
