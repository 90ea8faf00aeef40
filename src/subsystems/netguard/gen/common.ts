/**
 * @module subsystems/netguard/gen/common
 * What every netguard program generator shares: the attach points (XDP or tc: context
 * offsets and verdict codes), map names, and tiny fragments (array lookups, counters, flag
 * updates). Register convention across the netguard programs: R6 = context, R9 = scratch,
 * R8 = control (or stats), R7 = the object being worked on; R0-R5 are scratch registers.
 */
import {
  Add, Call, Exit, Helper, JEq, JNE, LoadMapPtr, LoadMem, Mov, Or, StoreImm, StoreMem, label,
  R0, R1, R2, R3, R6, R9, R10, type AsmInput, type Register,
} from "../../../bpf/asm/index.ts";
import { TcAction, XdpAction, type ProgTypeName } from "../../../bpf/types.ts";
import { Scratch } from "../layout.ts";

export type Attach = "xdp" | "tc";

export interface AttachInfo {
  readonly progType: ProgTypeName;
  /** Offsets of the u32 data / data_end fields in the context. */
  readonly dataOff: number;
  readonly dataEndOff: number;
  readonly pass: number;
  readonly drop: number;
}

export const ATTACH: Record<Attach, AttachInfo> = {
  // struct xdp_md { u32 data; u32 data_end; ... }
  xdp: { progType: "XDP", dataOff: 0, dataEndOff: 4, pass: XdpAction.PASS, drop: XdpAction.DROP },
  // struct __sk_buff: data at 76, data_end at 80 (direct packet access, cls_bpf direct-action)
  tc: { progType: "SCHED_CLS", dataOff: 76, dataEndOff: 80, pass: TcAction.OK, drop: TcAction.SHOT },
};

export const MapName = {
  FLOWS: "ng_flows",
  SOURCES: "ng_src",
  ALLOW: "ng_allow",
  CONTROL: "ng_control",
  BUDGET: "ng_budget",
  STATS: "ng_stats",
  SCRATCH: "ng_scratch",
  PROGS: "ng_progs",
  EVENTS: "ng_events",
} as const;
export type MapName = (typeof MapName)[keyof typeof MapName];

/** Stack slot used as the u32 key 0 of single-entry arrays. */
export const ZERO_KEY_SLOT = -4;

/**
 * dst = &map[0] of a single-entry array, or jump to `onNull`. Clobbers R0-R5; the lookup
 * of an array map is inlined by the verifier, so this is cheap.
 */
export function lookupZero(map: MapName, dst: Register, onNull: string): AsmInput {
  return [
    StoreImm("W", R10, ZERO_KEY_SLOT, 0),
    LoadMapPtr(R1, map),
    Mov.reg(R2, R10),
    Add.imm(R2, ZERO_KEY_SLOT),
    Call(Helper.map_lookup_elem),
    JEq.imm(R0, 0, onNull),
    ...(dst === R0 ? [] : [Mov.reg(dst, R0)]),
  ];
}

/** *(u64 *)(base + 8 * index) += 1, with a constant index. Clobbers R0. */
export const bump = (base: Register, index: number): AsmInput => [
  LoadMem("DW", R0, base, 8 * index),
  Add.imm(R0, 1),
  StoreMem("DW", base, 8 * index, R0),
];

/** scratch.flags |= bits. Clobbers R0. */
export const setFlag = (bits: number): AsmInput => [
  LoadMem("W", R0, R9, Scratch.FLAGS),
  Or.imm(R0, bits),
  StoreMem("W", R9, Scratch.FLAGS, R0),
];

/** Return the verdict held in `reg` (0 pass, else drop) as the attach point's code. */
export function returnVerdict(attach: Attach, reg: Register, prefix: string): AsmInput {
  const a = ATTACH[attach];
  return [JNE.imm(reg, 0, `${prefix}_drop`), Mov.imm(R0, a.pass), Exit(), label(`${prefix}_drop`), Mov.imm(R0, a.drop), Exit()];
}

/** Tail call into PROG_ARRAY slot `slot` (R6 = context); falls through when the slot is empty. */
export function tailCall(slot: number): AsmInput {
  return [Mov.reg(R1, R6), LoadMapPtr(R2, MapName.PROGS), Mov.imm(R3, slot), Call(Helper.tail_call)];
}
