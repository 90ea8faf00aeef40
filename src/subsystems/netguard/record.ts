/**
 * @module subsystems/netguard/record
 * The flow record the data path sends to user space through the ring buffer (the first
 * RECORD_SIZE bytes of the scratch area) and the per-CPU statistics counters: decoders for
 * user space and an encoder for the reference and tests.
 */
import { ErrorCode, KmlibError } from "../../errors.ts";
import { FlowKey, Scratch, RECORD_SIZE, Counter, NUM_SOURCES, STATS_SIZE, type DecisionSource, type Verdict } from "./layout.ts";
import { NUM_FEATURES } from "./features.ts";
import { formatAddress } from "./address.ts";
import type { Mode } from "./control.ts";

export interface FlowRecordKey {
  readonly family: 4 | 6;
  readonly proto: number;
  readonly addrA: Uint8Array;
  readonly addrB: Uint8Array;
  readonly portA: number;
  readonly portB: number;
}

export interface NetguardRecord {
  /** bpf_ktime_get_ns() of the packet (CLOCK_MONOTONIC). */
  readonly tsNs: bigint;
  readonly key: FlowRecordKey;
  readonly mode: Mode;
  readonly defaultVerdict: Verdict;
  readonly modelVerdict: Verdict;
  readonly modelConf: number;
  readonly finalVerdict: Verdict;
  readonly source: DecisionSource;
  readonly flags: number;
  readonly generation: number;
  readonly features: readonly bigint[];
}

export function decodeFlowKey(b: Uint8Array, at = 0): FlowRecordKey {
  const dv = new DataView(b.buffer, b.byteOffset + at, FlowKey.SIZE);
  return {
    family: b[at + FlowKey.FAMILY] === 6 ? 6 : 4,
    proto: b[at + FlowKey.PROTO]!,
    addrA: b.slice(at + FlowKey.ADDR_A, at + FlowKey.ADDR_A + 16),
    addrB: b.slice(at + FlowKey.ADDR_B, at + FlowKey.ADDR_B + 16),
    portA: dv.getUint16(FlowKey.PORT_A, true),
    portB: dv.getUint16(FlowKey.PORT_B, true),
  };
}

/** "6 10.0.0.1:1234 <-> 10.0.0.2:80" */
export function formatFlowKey(k: FlowRecordKey): string {
  const a = formatAddress(k.addrA, k.family), b = formatAddress(k.addrB, k.family);
  const side = (addr: string, port: number) => (k.family === 6 ? `[${addr}]:${port}` : `${addr}:${port}`);
  return `${k.proto} ${side(a, k.portA)} <-> ${side(b, k.portB)}`;
}

export function decodeRecord(b: Uint8Array): NetguardRecord {
  if (b.length < RECORD_SIZE) throw new KmlibError(ErrorCode.InvalidArgument, `netguard record is ${b.length} bytes, expected ${RECORD_SIZE}`);
  const dv = new DataView(b.buffer, b.byteOffset, RECORD_SIZE);
  const w = (off: number) => dv.getUint32(off, true);
  const features: bigint[] = [];
  for (let i = 0; i < NUM_FEATURES; i++) features.push(dv.getBigInt64(Scratch.FEATURES + 8 * i, true));
  return {
    tsNs: dv.getBigUint64(Scratch.TS, true),
    key: decodeFlowKey(b, Scratch.KEY),
    mode: w(Scratch.MODE) as Mode,
    defaultVerdict: w(Scratch.DEFAULT_VERDICT) as Verdict,
    modelVerdict: w(Scratch.MODEL_VERDICT) as Verdict,
    modelConf: w(Scratch.MODEL_CONF),
    finalVerdict: w(Scratch.FINAL_VERDICT) as Verdict,
    source: w(Scratch.SOURCE) as DecisionSource,
    flags: w(Scratch.FLAGS),
    generation: w(Scratch.GENERATION),
    features,
  };
}

export interface RecordFields {
  readonly tsNs: bigint;
  readonly key: Uint8Array;
  readonly mode: number;
  readonly defaultVerdict: number;
  readonly modelVerdict: number;
  readonly modelConf: number;
  readonly finalVerdict: number;
  readonly source: number;
  readonly flags: number;
  readonly generation: number;
  readonly features: readonly bigint[];
}

export function encodeRecord(r: RecordFields): Uint8Array {
  const b = new Uint8Array(RECORD_SIZE);
  const dv = new DataView(b.buffer);
  dv.setBigUint64(Scratch.TS, r.tsNs, true);
  b.set(r.key, Scratch.KEY);
  const w = (off: number, v: number) => dv.setUint32(off, v, true);
  w(Scratch.MODE, r.mode);
  w(Scratch.DEFAULT_VERDICT, r.defaultVerdict);
  w(Scratch.MODEL_VERDICT, r.modelVerdict);
  w(Scratch.MODEL_CONF, r.modelConf);
  w(Scratch.FINAL_VERDICT, r.finalVerdict);
  w(Scratch.SOURCE, r.source);
  w(Scratch.FLAGS, r.flags);
  w(Scratch.GENERATION, r.generation);
  r.features.forEach((f, i) => dv.setBigInt64(Scratch.FEATURES + 8 * i, f, true));
  return b;
}

/** Statistics, summed over CPUs. */
export interface NetguardStats {
  /** decisions[source][verdict] */
  readonly decisions: readonly (readonly [bigint, bigint])[];
  /** opinions[default][model] where the model answered. */
  readonly opinions: readonly (readonly [bigint, bigint])[];
  readonly packets: bigint;
  readonly unparsed: bigint;
  readonly modelEvals: bigint;
  readonly modelCached: bigint;
  readonly modelMissing: bigint;
  readonly heartbeatLost: bigint;
  readonly sampled: bigint;
  readonly ringbufFail: bigint;
  readonly flowFail: bigint;
  readonly decideMissing: bigint;
  /** packets per effective mode */
  readonly modes: readonly bigint[];
}

/** Sum raw counter arrays (one STATS_SIZE value per CPU) and name them. */
export function decodeStats(perCpu: readonly Uint8Array[]): NetguardStats {
  const c = new Array<bigint>(Counter.COUNT).fill(0n);
  for (const v of perCpu) {
    if (v.length < STATS_SIZE) throw new KmlibError(ErrorCode.InvalidArgument, `netguard stats value is ${v.length} bytes, expected ${STATS_SIZE}`);
    const dv = new DataView(v.buffer, v.byteOffset, STATS_SIZE);
    for (let i = 0; i < Counter.COUNT; i++) c[i] = c[i]! + dv.getBigUint64(8 * i, true);
  }
  return statsFromCounters(c);
}

export function statsFromCounters(c: readonly bigint[]): NetguardStats {
  const at = (i: number) => c[i] ?? 0n;
  const pair = (i: number) => [at(i), at(i + 1)] as const;
  return {
    decisions: Array.from({ length: NUM_SOURCES }, (_, s) => pair(Counter.DECISIONS + 2 * s)),
    opinions: [pair(Counter.OPINIONS), pair(Counter.OPINIONS + 2)],
    packets: at(Counter.PACKETS),
    unparsed: at(Counter.UNPARSED),
    modelEvals: at(Counter.MODEL_EVALS),
    modelCached: at(Counter.MODEL_CACHED),
    modelMissing: at(Counter.MODEL_MISSING),
    heartbeatLost: at(Counter.HEARTBEAT_LOST),
    sampled: at(Counter.SAMPLED),
    ringbufFail: at(Counter.RINGBUF_FAIL),
    flowFail: at(Counter.FLOW_FAIL),
    decideMissing: at(Counter.DECIDE_MISSING),
    modes: [0, 1, 2, 3].map((m) => at(Counter.MODES + m)),
  };
}
