/**
 * @module compile/wrap
 * The program forms of abi.ts around a model body: the function fragment (a bpf-to-bpf
 * subprogram), the standalone record program (XDP; features from the packet, answer written
 * back into it and returned as the verdict) and the I/O-map program (features from a
 * per-CPU array; for tail calls, optionally continuing into the caller's PROG_ARRAY).
 */
import { Add, Call, Exit, Helper, JLE, JNE, LoadMapPtr, LoadMem, Mov, StoreImm, StoreMem, label, type AsmItem, type Register } from "../bpf/asm/index.ts";
import { BAD_RECORD, recordLayout } from "./abi.ts";
import type { Body, BodyContext } from "./emit-common.ts";

export type BodyBuilder = (ctx: BodyContext) => Body;

export interface Fragment {
  readonly items: AsmItem[];
  readonly stackBytes: number;
}

/** `${prefix}predict`: r1 = x, r2 = scores, r0 = class; ends with exit. */
export function functionFragment(build: BodyBuilder, prefix: string): Fragment {
  const body = build({ prefix, stackBase: 0, done: undefined });
  return { items: [label(`${prefix}predict`), ...body.items, ...(body.subprograms ?? [])], stackBytes: body.stackBytes };
}

/** Copies n int32 words from [src + srcOff] to [dst + dstOff] through r0. */
function copyWords(n: number, src: Register, srcOff: number, dst: Register, dstOff: number): AsmItem[] {
  const out: AsmItem[] = [];
  for (let i = 0; i < n; i++) out.push(LoadMem("W", 0, src, srcOff + 4 * i), StoreMem("W", dst, dstOff + 4 * i, 0));
  return out;
}

export interface RecordOptions {
  nFeatures: number;
  nScores: number;
  prefix: string;
  /** Copy x to the stack first (the table strategy reads x at variable offsets). */
  copyX: boolean;
}

/**
 * Standalone XDP program over one record in the packet (abi.ts "record form"). The body is
 * embedded inline (no call): the packet pointer is spilled at fp-8, scores go to the stack
 * and are copied into the packet afterwards.
 */
export function recordProgram(build: BodyBuilder, o: RecordOptions): Fragment {
  const l = recordLayout(o.nFeatures, o.nScores);
  const p = o.prefix;
  const scoresAt = 8 + 4 * o.nScores;
  const xAt = scoresAt + (o.copyX ? 4 * o.nFeatures : 0);
  const done = `${p}rec_done`;
  const body = build({ prefix: p, stackBase: xAt, done });
  const items: AsmItem[] = [
    LoadMem("W", 2, 1, 0), // data
    LoadMem("W", 3, 1, 4), // data_end
    Mov.reg(4, 2),
    Add.imm(4, l.size),
    JLE.reg(4, 3, `${p}rec_ok`),
    Mov.imm(0, BAD_RECORD),
    Exit(),
    label(`${p}rec_ok`),
    StoreMem("DW", 10, -8, 2),
    Mov.reg(1, 2),
    ...(o.copyX ? [...copyWords(o.nFeatures, 2, 0, 10, -xAt), Mov.reg(1, 10), Add.imm(1, -xAt)] : []),
    Mov.reg(2, 10),
    Add.imm(2, -scoresAt),
    ...body.items,
    label(done),
    LoadMem("DW", 1, 10, -8),
    StoreMem("W", 1, l.class, 0),
    ...copyWords(o.nScores, 10, -scoresAt, 1, l.scores),
    LoadMem("W", 0, 1, l.class),
    Exit(),
    ...(body.subprograms ?? []),
  ];
  return { items, stackBytes: xAt + body.stackBytes };
}

export interface IoOptions {
  nFeatures: number;
  nScores: number;
  prefix: string;
  /** After the answer is in the I/O map: tail-call this PROG_ARRAY slot (else return r0). */
  continuation?: { map: string; index: number; fallback: number };
}

/**
 * Standalone program over the per-CPU I/O map `${prefix}io` (abi.ts "I/O-map form"). Works in
 * any program type; the map value is addressed directly (key 0 looked up once).
 */
export function ioProgram(build: BodyBuilder, o: IoOptions): Fragment {
  const l = recordLayout(o.nFeatures, o.nScores);
  const p = o.prefix;
  const done = `${p}io_done`;
  const body = build({ prefix: p, stackBase: 16, done });
  const items: AsmItem[] = [
    StoreMem("DW", 10, -16, 1), // ctx, for the continuation tail call
    StoreImm("W", 10, -4, 0),
    LoadMapPtr(1, `${p}io`),
    Mov.reg(2, 10),
    Add.imm(2, -4),
    Call(Helper.map_lookup_elem),
    JNE.imm(0, 0, `${p}io_ok`),
    Mov.imm(0, BAD_RECORD),
    Exit(),
    label(`${p}io_ok`),
    StoreMem("DW", 10, -8, 0),
    Mov.reg(1, 0),
    Mov.reg(2, 0),
    Add.imm(2, l.scores),
    ...body.items,
    label(done),
    LoadMem("DW", 1, 10, -8),
    StoreMem("W", 1, l.class, 0),
    ...(o.continuation
      ? [
          LoadMem("DW", 1, 10, -16),
          LoadMapPtr(2, o.continuation.map),
          Mov.imm(3, o.continuation.index),
          Call(Helper.tail_call),
          Mov.imm(0, o.continuation.fallback),
          Exit(),
        ]
      : [Exit()]),
    ...(body.subprograms ?? []),
  ];
  return { items, stackBytes: 16 + body.stackBytes };
}
