/**
 * @module subsystems/netguard/gen/rules
 * eBPF fragments for what the kernel decides on its own, before any model: the allowlist
 * (LPM trie over the 16-byte source address), the default rules (GCRA rate limit and the
 * SYN-flood rule per source, reference/rules.ts), the effective mode (a stale agent
 * heartbeat forces emergency) and the per-flow model-verdict cache check.
 *
 * In: R9 = scratch, R8 = control, R7 = flow (cache check only). Clobbers R0-R5, R7.
 */
import {
  Add, And, Call, Helper, JEq, JGE, JLE, JLT, JNE, JSLE, Ja, LoadMapPtr, LoadMem, Mov, StoreImm, StoreMem,
  Sub, label, R0, R1, R2, R3, R4, R5, R7, R8, R9, R10, type AsmInput,
} from "../../../bpf/asm/index.ts";
import { UpdateFlag } from "../../../bpf/types.ts";
import { ControlOffset as C } from "../control.ts";
import { Flag, FlowState as F, RULE_MASK, Scratch, SourceState as S, TcpFlag } from "../layout.ts";
import { FLOW_INIT_SLOT } from "./flow.ts";
import { MapName, setFlag } from "./common.ts";

const L = (n: string) => `ng_r_${n}`;
/** Stack area holding a zeroed source state while a new source is inserted. */
const SOURCE_INIT_SLOT = FLOW_INIT_SLOT - S.SIZE;

/** Scratch.MODE = effective mode; Scratch.GENERATION = the control's model generation. */
export function modeFragment(): AsmInput {
  return [
    LoadMem("W", R1, R8, C.MODE),
    JLE.imm(R1, 3, L("mode_ok")),
    Mov.imm(R1, 0),
    label(L("mode_ok")),
    LoadMem("DW", R2, R8, C.HEARTBEAT_TIMEOUT_NS),
    JEq.imm(R2, 0, L("hb_ok")),
    LoadMem("DW", R3, R9, Scratch.TS),
    LoadMem("DW", R0, R8, C.HEARTBEAT_NS),
    Sub.reg(R3, R0),
    JSLE.reg(R3, R2, L("hb_ok")),
    Mov.imm(R1, 0),
    setFlag(Flag.HEARTBEAT_LOST),
    label(L("hb_ok")),
    StoreMem("W", R9, Scratch.MODE, R1),
    LoadMem("W", R0, R8, C.GENERATION),
    StoreMem("W", R9, Scratch.GENERATION, R0),
  ];
}

/**
 * Outside emergency, use the flow's cached model verdict when it came from the current model
 * generation and the flow has not reached its re-evaluation point (see gen/decide.ts).
 */
export function cacheCheckFragment(): AsmInput {
  return [
    LoadMem("W", R1, R9, Scratch.MODE),
    JEq.imm(R1, 0, L("no_cache")),
    LoadMem("W", R0, R7, F.CACHE_GEN),
    LoadMem("W", R2, R8, C.GENERATION),
    JNE.reg(R0, R2, L("no_cache")),
    LoadMem("DW", R2, R7, F.PKTS_FWD),
    LoadMem("DW", R3, R7, F.PKTS_BWD),
    Add.reg(R2, R3),
    LoadMem("W", R3, R7, F.CACHE_NEXT),
    JGE.reg(R2, R3, L("no_cache")),
    LoadMem("W", R0, R7, F.CACHE_VERDICT),
    StoreMem("W", R9, Scratch.MODEL_VERDICT, R0),
    LoadMem("W", R0, R7, F.CACHE_CONF),
    StoreMem("W", R9, Scratch.MODEL_CONF, R0),
    setFlag(Flag.MODEL_RAN | Flag.CACHED),
    label(L("no_cache")),
  ];
}

export function allowlistFragment(): AsmInput {
  return [
    StoreImm("W", R9, Scratch.ALLOW_KEY, 128),
    LoadMapPtr(R1, MapName.ALLOW),
    Mov.reg(R2, R9),
    Add.imm(R2, Scratch.ALLOW_KEY),
    Call(Helper.map_lookup_elem),
    JEq.imm(R0, 0, L("not_allowed")),
    setFlag(Flag.ALLOW),
    label(L("not_allowed")),
  ];
}

const lookupSource: AsmInput = [LoadMapPtr(R1, MapName.SOURCES), Mov.reg(R2, R9), Add.imm(R2, Scratch.SRC), Call(Helper.map_lookup_elem)];

/** Run the rate limit and SYN-flood rule; sets Flag.RULE_* and Scratch.DEFAULT_VERDICT. */
export function rulesFragment(): AsmInput {
  return [
    lookupSource,
    JNE.imm(R0, 0, L("have_src")),
    Array.from({ length: S.SIZE / 8 }, (_, i) => StoreImm("DW", R10, SOURCE_INIT_SLOT + 8 * i, 0)),
    LoadMapPtr(R1, MapName.SOURCES),
    Mov.reg(R2, R9),
    Add.imm(R2, Scratch.SRC),
    Mov.reg(R3, R10),
    Add.imm(R3, SOURCE_INIT_SLOT),
    Mov.imm(R4, UpdateFlag.NOEXIST),
    Call(Helper.map_update_elem),
    lookupSource,
    JEq.imm(R0, 0, L("verdict")), // no state, no rule
    label(L("have_src")),
    Mov.reg(R7, R0),

    // GCRA: tat = max(tat, now); tat - now > tolerance => over the rate, else tat += interval.
    LoadMem("DW", R1, R8, C.RATE_INTERVAL_NS),
    JEq.imm(R1, 0, L("syn")),
    LoadMem("DW", R2, R9, Scratch.TS),
    LoadMem("DW", R3, R7, S.TAT),
    JGE.reg(R3, R2, L("tat_ok")),
    Mov.reg(R3, R2),
    label(L("tat_ok")),
    Mov.reg(R4, R3),
    Sub.reg(R4, R2),
    LoadMem("DW", R5, R8, C.RATE_TOLERANCE_NS),
    JLE.reg(R4, R5, L("conform")),
    setFlag(Flag.RULE_RATE),
    Ja(L("syn")),
    label(L("conform")),
    Add.reg(R3, R1),
    StoreMem("DW", R7, S.TAT, R3),

    // SYN flood: SYNs without ACK per source per window.
    label(L("syn")),
    LoadMem("DW", R1, R8, C.SYN_WINDOW_NS),
    JEq.imm(R1, 0, L("verdict")),
    LoadMem("W", R0, R9, Scratch.PROTO),
    JNE.imm(R0, 6, L("verdict")),
    LoadMem("W", R0, R9, Scratch.TCP_FLAGS),
    And.imm(R0, TcpFlag.SYN | TcpFlag.ACK),
    JNE.imm(R0, TcpFlag.SYN, L("verdict")),
    LoadMem("DW", R2, R9, Scratch.TS),
    Mov.reg(R3, R2),
    LoadMem("DW", R4, R7, S.SYN_WINDOW_START),
    Sub.reg(R3, R4),
    JLT.reg(R3, R1, L("in_window")),
    StoreMem("DW", R7, S.SYN_WINDOW_START, R2),
    StoreImm("DW", R7, S.SYN_COUNT, 0),
    label(L("in_window")),
    LoadMem("DW", R0, R7, S.SYN_COUNT),
    Add.imm(R0, 1),
    StoreMem("DW", R7, S.SYN_COUNT, R0),
    LoadMem("W", R1, R8, C.SYN_LIMIT),
    JLE.reg(R0, R1, L("verdict")),
    setFlag(Flag.RULE_SYN),

    label(L("verdict")),
    LoadMem("W", R0, R9, Scratch.FLAGS),
    And.imm(R0, RULE_MASK),
    JEq.imm(R0, 0, L("pass")),
    Mov.imm(R0, 1),
    label(L("pass")),
    StoreMem("W", R9, Scratch.DEFAULT_VERDICT, R0),
  ];
}
