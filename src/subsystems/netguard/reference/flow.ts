/**
 * @module subsystems/netguard/reference/flow
 * Per-flow state and feature arithmetic in TypeScript, bit for bit what the eBPF programs
 * compute (gen/flow.ts, gen/features.ts): u64 wrap-around, arithmetic shifts that floor,
 * the same first-packet and second-packet cases. See features.ts for the formulas.
 */
import { FlowState, TcpFlagCounters } from "../layout.ts";
import { NUM_FEATURES } from "../features.ts";
import type { ParsedPacket } from "./parse.ts";

export interface FlowRecord {
  firstNs: bigint;
  lastNs: bigint;
  /** [fwd, bwd] */
  pkts: [bigint, bigint];
  bytes: [bigint, bigint];
  payload: [bigint, bigint];
  lenMin: bigint;
  lenMax: bigint;
  iatMean: bigint;
  iatMad: bigint;
  /** In TcpFlagCounters order: syn, ack, fin, rst, psh, urg. */
  flags: bigint[];
  initWin: [bigint, bigint];
  dstPort: number;
  proto: number;
  initSide: number;
  cacheVerdict: number;
  cacheConf: number;
  cacheGen: number;
  cacheNext: number;
}

const u64 = (x: bigint) => BigInt.asUintN(64, x);
const s64 = (x: bigint) => BigInt.asIntN(64, x);

export function newFlow(): FlowRecord {
  return {
    firstNs: 0n, lastNs: 0n, pkts: [0n, 0n], bytes: [0n, 0n], payload: [0n, 0n], lenMin: 0n, lenMax: 0n,
    iatMean: 0n, iatMad: 0n, flags: TcpFlagCounters.map(() => 0n), initWin: [0n, 0n],
    dstPort: 0, proto: 0, initSide: 0, cacheVerdict: 0, cacheConf: 0, cacheGen: 0, cacheNext: 0,
  };
}

/** Fold one packet (its source on key side `side`, seen at `now`) into the flow; returns its direction (0 fwd, 1 bwd). */
export function updateFlow(f: FlowRecord, p: ParsedPacket, side: 0 | 1, now: bigint): 0 | 1 {
  const before = u64(f.pkts[0] + f.pkts[1]);
  const len = BigInt(p.l3len);
  let dir: 0 | 1 = 0;
  if (before === 0n) {
    f.firstNs = now;
    f.lastNs = now;
    f.initSide = side;
    f.dstPort = p.dport;
    f.proto = p.proto;
    f.lenMin = len;
    f.lenMax = len;
    f.initWin[0] = BigInt(p.win);
  } else {
    dir = ((side ^ f.initSide) & 1) as 0 | 1;
    let iat = u64(now - f.lastNs);
    f.lastNs = now;
    if (s64(iat) < 0n) iat = 0n;
    if (before === 1n) {
      f.iatMean = iat;
      f.iatMad = 0n;
    } else {
      const d = s64(iat - f.iatMean);
      const abs = d < 0n ? -d : d;
      f.iatMad = u64(f.iatMad + (s64(abs - f.iatMad) >> 2n));
      f.iatMean = u64(f.iatMean + (d >> 3n));
    }
    if (len < f.lenMin) f.lenMin = len;
    if (len > f.lenMax) f.lenMax = len;
    if (dir === 1 && f.pkts[1] === 0n) f.initWin[1] = BigInt(p.win);
  }
  f.pkts[dir] = u64(f.pkts[dir] + 1n);
  f.bytes[dir] = u64(f.bytes[dir] + len);
  f.payload[dir] = u64(f.payload[dir] + BigInt(p.payload));
  TcpFlagCounters.forEach((c, i) => {
    f.flags[i] = u64(f.flags[i]! + BigInt((p.tcpFlags >> c.bit) & 1));
  });
  return dir;
}

/** The feature vector (features.ts order) of a flow that has seen at least one packet. */
export function flowFeatures(f: FlowRecord): bigint[] {
  const total = u64(f.pkts[0] + f.pkts[1]);
  const out = [
    BigInt(f.proto),
    BigInt(f.dstPort),
    f.pkts[0], f.pkts[1], f.bytes[0], f.bytes[1], f.payload[0], f.payload[1],
    f.lenMin, f.lenMax,
    total === 0n ? 0n : u64(f.bytes[0] + f.bytes[1]) / total,
    f.iatMean, f.iatMad,
    ...f.flags,
    f.initWin[0], f.initWin[1],
    u64(f.lastNs - f.firstNs),
  ];
  if (out.length !== NUM_FEATURES) throw new Error(`netguard reference: ${out.length} features, contract says ${NUM_FEATURES}`);
  return out;
}

export function encodeFlowState(f: FlowRecord): Uint8Array {
  const b = new Uint8Array(FlowState.SIZE);
  const dv = new DataView(b.buffer);
  const q = (off: number, v: bigint) => dv.setBigUint64(off, u64(v), true);
  q(FlowState.FIRST_NS, f.firstNs);
  q(FlowState.LAST_NS, f.lastNs);
  for (const d of [0, 1] as const) {
    q(FlowState.PKTS_FWD + 8 * d, f.pkts[d]);
    q(FlowState.BYTES_FWD + 8 * d, f.bytes[d]);
    q(FlowState.PAYLOAD_FWD + 8 * d, f.payload[d]);
    q(FlowState.INIT_WIN_FWD + 8 * d, f.initWin[d]);
  }
  q(FlowState.LEN_MIN, f.lenMin);
  q(FlowState.LEN_MAX, f.lenMax);
  q(FlowState.IAT_MEAN, f.iatMean);
  q(FlowState.IAT_MAD, f.iatMad);
  TcpFlagCounters.forEach((c, i) => q(c.offset, f.flags[i]!));
  dv.setUint32(FlowState.DST_PORT, f.dstPort, true);
  dv.setUint32(FlowState.PROTO, f.proto, true);
  dv.setUint32(FlowState.INIT_SIDE, f.initSide, true);
  dv.setUint32(FlowState.CACHE_VERDICT, f.cacheVerdict, true);
  dv.setUint32(FlowState.CACHE_CONF, f.cacheConf, true);
  dv.setUint32(FlowState.CACHE_GEN, f.cacheGen, true);
  dv.setUint32(FlowState.CACHE_NEXT, f.cacheNext, true);
  return b;
}

export function decodeFlowState(b: Uint8Array): FlowRecord {
  const dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
  const q = (off: number) => dv.getBigUint64(off, true);
  const w = (off: number) => dv.getUint32(off, true);
  return {
    firstNs: q(FlowState.FIRST_NS),
    lastNs: q(FlowState.LAST_NS),
    pkts: [q(FlowState.PKTS_FWD), q(FlowState.PKTS_BWD)],
    bytes: [q(FlowState.BYTES_FWD), q(FlowState.BYTES_BWD)],
    payload: [q(FlowState.PAYLOAD_FWD), q(FlowState.PAYLOAD_BWD)],
    lenMin: q(FlowState.LEN_MIN),
    lenMax: q(FlowState.LEN_MAX),
    iatMean: q(FlowState.IAT_MEAN),
    iatMad: q(FlowState.IAT_MAD),
    flags: TcpFlagCounters.map((c) => q(c.offset)),
    initWin: [q(FlowState.INIT_WIN_FWD), q(FlowState.INIT_WIN_BWD)],
    dstPort: w(FlowState.DST_PORT),
    proto: w(FlowState.PROTO),
    initSide: w(FlowState.INIT_SIDE),
    cacheVerdict: w(FlowState.CACHE_VERDICT),
    cacheConf: w(FlowState.CACHE_CONF),
    cacheGen: w(FlowState.CACHE_GEN),
    cacheNext: w(FlowState.CACHE_NEXT),
  };
}
