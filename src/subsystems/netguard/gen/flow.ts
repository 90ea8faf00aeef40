/**
 * @module subsystems/netguard/gen/flow
 * eBPF fragments for per-flow state: find or create the flow's LRU-hash entry, fold the
 * packet into it, and write the feature vector. Bit for bit reference/flow.ts.
 *
 * Updates are plain loads and stores, not atomics: a flow's packets normally arrive on one
 * CPU (RSS), and a rare lost update between CPUs only blurs a statistic.
 */
import {
  Add, And, ArSh, Call, Div, Helper, JEq, JGE, JLE, JNE, JSGE, Ja, LoadMapPtr, LoadMem, Lsh, Mov, Neg,
  Rsh, StoreImm, StoreMem, Sub, Xor, label, R0, R1, R2, R3, R4, R5, R7, R9, R10, type AsmInput,
} from "../../../bpf/asm/index.ts";
import { UpdateFlag } from "../../../bpf/types.ts";
import { Flag, FlowState as F, Scratch, TcpFlagCounters } from "../layout.ts";
import { FEATURES, type FeatureName } from "../features.ts";
import { MapName, setFlag } from "./common.ts";

const L = (n: string) => `ng_f_${n}`;
/** Stack area holding a zeroed flow value while a new flow is inserted. */
export const FLOW_INIT_SLOT = -8 - F.SIZE;

const lookupFlow: AsmInput = [LoadMapPtr(R1, MapName.FLOWS), Mov.reg(R2, R9), Add.imm(R2, Scratch.KEY), Call(Helper.map_lookup_elem)];

/** R7 = this packet's flow entry, created zeroed if absent; jumps to `fail` if none can be had. */
export function flowLookupFragment(fail: string): AsmInput {
  return [
    lookupFlow,
    JNE.imm(R0, 0, L("have")),
    Array.from({ length: F.SIZE / 8 }, (_, i) => StoreImm("DW", R10, FLOW_INIT_SLOT + 8 * i, 0)),
    LoadMapPtr(R1, MapName.FLOWS),
    Mov.reg(R2, R9),
    Add.imm(R2, Scratch.KEY),
    Mov.reg(R3, R10),
    Add.imm(R3, FLOW_INIT_SLOT),
    Mov.imm(R4, UpdateFlag.NOEXIST), // another CPU may have won the race: fine, look it up
    Call(Helper.map_update_elem),
    lookupFlow,
    JEq.imm(R0, 0, fail),
    label(L("have")),
    Mov.reg(R7, R0),
  ];
}

/** Fold the packet into the flow at R7 (see features.ts for the arithmetic). */
export function flowUpdateFragment(): AsmInput {
  return [
    LoadMem("DW", R2, R7, F.PKTS_FWD),
    LoadMem("DW", R3, R7, F.PKTS_BWD),
    Add.reg(R2, R3), // R2 = packets before this one
    JNE.imm(R2, 0, L("existing")),
    // First packet: it defines the forward direction.
    LoadMem("DW", R0, R9, Scratch.TS),
    StoreMem("DW", R7, F.FIRST_NS, R0),
    StoreMem("DW", R7, F.LAST_NS, R0),
    LoadMem("W", R1, R9, Scratch.SIDE),
    StoreMem("W", R7, F.INIT_SIDE, R1),
    LoadMem("H", R1, R9, Scratch.DPORT),
    StoreMem("W", R7, F.DST_PORT, R1),
    LoadMem("W", R1, R9, Scratch.PROTO),
    StoreMem("W", R7, F.PROTO, R1),
    LoadMem("W", R1, R9, Scratch.L3LEN),
    StoreMem("DW", R7, F.LEN_MIN, R1),
    StoreMem("DW", R7, F.LEN_MAX, R1),
    LoadMem("W", R1, R9, Scratch.WIN),
    StoreMem("DW", R7, F.INIT_WIN_FWD, R1),
    setFlag(Flag.NEW_FLOW),
    Mov.imm(R4, 0),
    Ja(L("counts")),

    label(L("existing")),
    LoadMem("W", R1, R9, Scratch.SIDE),
    LoadMem("W", R4, R7, F.INIT_SIDE),
    Xor.reg(R4, R1),
    And.imm(R4, 1), // R4 = direction
    // Inter-arrival time, clamped at 0 if another CPU's clock read was later.
    LoadMem("DW", R0, R9, Scratch.TS),
    LoadMem("DW", R1, R7, F.LAST_NS),
    StoreMem("DW", R7, F.LAST_NS, R0),
    Sub.reg(R0, R1),
    JSGE.imm(R0, 0, L("iat_ok")),
    Mov.imm(R0, 0),
    label(L("iat_ok")),
    JNE.imm(R2, 1, L("ewma")),
    StoreMem("DW", R7, F.IAT_MEAN, R0),
    StoreImm("DW", R7, F.IAT_MAD, 0),
    Ja(L("len")),
    label(L("ewma")),
    LoadMem("DW", R1, R7, F.IAT_MEAN),
    Mov.reg(R3, R0),
    Sub.reg(R3, R1), // d = iat - mean
    Mov.reg(R5, R3),
    JSGE.imm(R5, 0, L("abs_ok")),
    Neg(R5),
    label(L("abs_ok")),
    LoadMem("DW", R0, R7, F.IAT_MAD),
    Sub.reg(R5, R0),
    ArSh.imm(R5, 2),
    Add.reg(R0, R5), // mad += (|d| - mad) >> 2
    StoreMem("DW", R7, F.IAT_MAD, R0),
    ArSh.imm(R3, 3),
    Add.reg(R1, R3), // mean += d >> 3
    StoreMem("DW", R7, F.IAT_MEAN, R1),
    label(L("len")),
    LoadMem("W", R1, R9, Scratch.L3LEN),
    LoadMem("DW", R0, R7, F.LEN_MIN),
    JGE.reg(R1, R0, L("no_min")),
    StoreMem("DW", R7, F.LEN_MIN, R1),
    label(L("no_min")),
    LoadMem("DW", R0, R7, F.LEN_MAX),
    JLE.reg(R1, R0, L("no_max")),
    StoreMem("DW", R7, F.LEN_MAX, R1),
    label(L("no_max")),
    JEq.imm(R4, 0, L("counts")),
    setFlag(Flag.DIR_BWD),
    LoadMem("DW", R0, R7, F.PKTS_BWD),
    JNE.imm(R0, 0, L("counts")),
    LoadMem("W", R1, R9, Scratch.WIN),
    StoreMem("DW", R7, F.INIT_WIN_BWD, R1),

    // Per-direction counters: *_BWD = *_FWD + 8, so R5 = flow + 8 * direction.
    label(L("counts")),
    StoreMem("W", R9, Scratch.DIR, R4),
    Lsh.imm(R4, 3),
    Mov.reg(R5, R7),
    Add.reg(R5, R4),
    LoadMem("DW", R0, R5, F.PKTS_FWD),
    Add.imm(R0, 1),
    StoreMem("DW", R5, F.PKTS_FWD, R0),
    [[Scratch.L3LEN, F.BYTES_FWD], [Scratch.PAYLOAD, F.PAYLOAD_FWD]].map(([from, to]) => [
      LoadMem("W", R1, R9, from!),
      LoadMem("DW", R0, R5, to!),
      Add.reg(R0, R1),
      StoreMem("DW", R5, to!, R0),
    ]),
    LoadMem("W", R1, R9, Scratch.TCP_FLAGS),
    TcpFlagCounters.map((c) => [
      Mov.reg(R0, R1),
      Rsh.imm(R0, c.bit),
      And.imm(R0, 1),
      LoadMem("DW", R2, R7, c.offset),
      Add.reg(R2, R0),
      StoreMem("DW", R7, c.offset, R2),
    ]),
  ];
}

const copyDW = (from: number): AsmInput => [LoadMem("DW", R0, R7, from)];
const copyW = (from: number): AsmInput => [LoadMem("W", R0, R7, from)];

/** R0 = the feature's value, from the flow at R7. Exhaustive over the contract. */
function featureValue(name: FeatureName): AsmInput {
  switch (name) {
    case "proto": return copyW(F.PROTO);
    case "dst_port": return copyW(F.DST_PORT);
    case "pkts_fwd": return copyDW(F.PKTS_FWD);
    case "pkts_bwd": return copyDW(F.PKTS_BWD);
    case "bytes_fwd": return copyDW(F.BYTES_FWD);
    case "bytes_bwd": return copyDW(F.BYTES_BWD);
    case "payload_fwd": return copyDW(F.PAYLOAD_FWD);
    case "payload_bwd": return copyDW(F.PAYLOAD_BWD);
    case "len_min": return copyDW(F.LEN_MIN);
    case "len_max": return copyDW(F.LEN_MAX);
    case "len_mean":
      // The one division: total >= 1 here (and BPF defines x / 0 = 0 anyway).
      return [
        LoadMem("DW", R0, R7, F.BYTES_FWD), LoadMem("DW", R1, R7, F.BYTES_BWD), Add.reg(R0, R1),
        LoadMem("DW", R1, R7, F.PKTS_FWD), LoadMem("DW", R2, R7, F.PKTS_BWD), Add.reg(R1, R2),
        Div.reg(R0, R1),
      ];
    case "iat_mean": return copyDW(F.IAT_MEAN);
    case "iat_mad": return copyDW(F.IAT_MAD);
    case "syn": return copyDW(F.SYN);
    case "ack": return copyDW(F.ACK);
    case "fin": return copyDW(F.FIN);
    case "rst": return copyDW(F.RST);
    case "psh": return copyDW(F.PSH);
    case "urg": return copyDW(F.URG);
    case "init_win_fwd": return copyDW(F.INIT_WIN_FWD);
    case "init_win_bwd": return copyDW(F.INIT_WIN_BWD);
    case "flow_age": return [LoadMem("DW", R0, R7, F.LAST_NS), LoadMem("DW", R1, R7, F.FIRST_NS), Sub.reg(R0, R1)];
  }
}

/** Write the feature vector of the flow at R7 to Scratch.FEATURES, in contract order. */
export function featuresFragment(): AsmInput {
  return FEATURES.map((f, i) => [featureValue(f.name), StoreMem("DW", R9, Scratch.FEATURES + 8 * i, R0)]);
}
