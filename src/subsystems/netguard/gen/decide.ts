/**
 * @module subsystems/netguard/gen/decide
 * The decide program (PROG_ARRAY slot DECIDE): reached by tail call from the main program
 * (emergency, cached verdict or empty model slot) or from the model program. It stores a
 * fresh model verdict in the flow's cache, combines default and model under the mode,
 * enforces the collaboration drop budget, counts, samples the record to the ring buffer
 * and returns the verdict. Semantics: reference/datapath.ts `combine`.
 *
 * Cache policy: a verdict made at the flow's n-th packet serves until packet
 * n + min(n, cacheMaxPkts), so a flow is judged at packets 1, 2, 4, 8, ... then every
 * cacheMaxPkts; a model swap (generation bump) invalidates every cached verdict.
 */
import {
  Add, And, AtomicAdd, Call, Exit, Helper, JEq, JGE, JGT, JLE, JLT, JNE, JSet, Ja, LoadMapPtr, LoadMem, Lsh, Mov,
  StoreImm, StoreMem, Sub, label, R0, R1, R2, R3, R4, R6, R7, R8, R9, type AsmInput,
} from "../../../bpf/asm/index.ts";
import { ControlOffset as C, Mode } from "../control.ts";
import { Budget, Counter, DecisionSource as Src, Flag, FlowState as F, NUM_SOURCES, RECORD_SIZE, RULE_MASK, Scratch } from "../layout.ts";
import { ATTACH, MapName, bump, lookupZero, returnVerdict, type Attach } from "./common.ts";

const L = (n: string) => `ng_d_${n}`;

function cacheStore(): AsmInput {
  return [
    LoadMem("W", R1, R9, Scratch.FLAGS),
    And.imm(R1, Flag.MODEL_RAN | Flag.CACHED),
    JNE.imm(R1, Flag.MODEL_RAN, L("cache_done")),
    LoadMapPtr(R1, MapName.FLOWS),
    Mov.reg(R2, R9),
    Add.imm(R2, Scratch.KEY),
    Call(Helper.map_lookup_elem),
    JEq.imm(R0, 0, L("evals")),
    LoadMem("W", R1, R9, Scratch.MODEL_VERDICT),
    StoreMem("W", R0, F.CACHE_VERDICT, R1),
    LoadMem("W", R1, R9, Scratch.MODEL_CONF),
    StoreMem("W", R0, F.CACHE_CONF, R1),
    LoadMem("W", R1, R9, Scratch.GENERATION),
    StoreMem("W", R0, F.CACHE_GEN, R1),
    LoadMem("DW", R2, R0, F.PKTS_FWD),
    LoadMem("DW", R3, R0, F.PKTS_BWD),
    Add.reg(R2, R3),
    LoadMem("W", R3, R8, C.CACHE_MAX_PKTS),
    JLE.reg(R3, R2, L("step_ok")),
    Mov.reg(R3, R2),
    label(L("step_ok")),
    Add.reg(R2, R3),
    StoreMem("W", R0, F.CACHE_NEXT, R2),
    label(L("evals")),
    bump(R7, Counter.MODEL_EVALS),
    label(L("cache_done")),
  ];
}

/** R3 = final verdict, R4 = decision source; then both stored in the scratch area. */
function combine(): AsmInput {
  const decided = (verdict: AsmInput, source: number): AsmInput => [verdict, Mov.imm(R4, source), Ja(L("store"))];
  const defaultVerdict: AsmInput = [LoadMem("W", R3, R9, Scratch.DEFAULT_VERDICT)];
  const vetoed: AsmInput = [
    LoadMem("W", R3, R8, C.VETO_MASK),
    LoadMem("W", R1, R9, Scratch.FLAGS),
    And.reg(R3, R1),
    And.imm(R3, RULE_MASK),
    JNE.imm(R3, 0, L("guard")),
  ];
  return [
    LoadMem("W", R1, R9, Scratch.FLAGS),
    JSet.imm(R1, Flag.ALLOW, L("allow")),
    LoadMem("W", R2, R9, Scratch.MODE),
    JEq.imm(R2, Mode.COLLABORATION, L("collab")),
    JEq.imm(R2, Mode.RECOMMENDATION, L("reco")),
    label(L("by_default")),
    decided(defaultVerdict, Src.DEFAULT),

    // Collaboration: the model decides where it is confident, drops within the budget.
    label(L("collab")),
    JSet.imm(R1, Flag.MODEL_RAN, L("collab_ran")),
    Ja(L("by_default")),
    label(L("collab_ran")),
    LoadMem("W", R3, R9, Scratch.MODEL_CONF),
    LoadMem("W", R4, R8, C.CONF_THRESHOLD),
    JLT.reg(R3, R4, L("by_default")),
    vetoed,
    LoadMem("W", R3, R9, Scratch.MODEL_VERDICT),
    JEq.imm(R3, 0, L("model_pass")),
    lookupZero(MapName.BUDGET, R0, L("over_budget")),
    // A new one-second window when now - start >= 1 s (unsigned: a start ahead of now restarts too).
    LoadMem("DW", R1, R9, Scratch.TS),
    LoadMem("DW", R2, R0, Budget.WINDOW_START),
    Mov.reg(R3, R1),
    Sub.reg(R3, R2),
    JLT.imm(R3, 1_000_000_000, L("in_window")),
    StoreMem("DW", R0, Budget.WINDOW_START, R1),
    StoreImm("DW", R0, Budget.DROPS, 0),
    label(L("in_window")),
    Mov.imm(R1, 1),
    AtomicAdd("DW", R0, Budget.DROPS, R1, true),
    LoadMem("W", R2, R8, C.DROP_BUDGET),
    JGE.reg(R1, R2, L("over_budget")),
    decided([Mov.imm(R3, 1)], Src.MODEL),
    label(L("over_budget")),
    decided(defaultVerdict, Src.BUDGET),
    label(L("model_pass")),
    decided([Mov.imm(R3, 0)], Src.MODEL),

    // Recommendation: the model decides; guards still veto.
    label(L("reco")),
    JSet.imm(R1, Flag.MODEL_RAN, L("reco_ran")),
    decided(defaultVerdict, Src.NO_MODEL),
    label(L("reco_ran")),
    vetoed,
    decided([LoadMem("W", R3, R9, Scratch.MODEL_VERDICT)], Src.MODEL),

    label(L("guard")),
    decided([Mov.imm(R3, 1)], Src.GUARD),
    label(L("allow")),
    Mov.imm(R3, 0),
    Mov.imm(R4, Src.ALLOWLIST),
    label(L("store")),
    StoreMem("W", R9, Scratch.FINAL_VERDICT, R3),
    StoreMem("W", R9, Scratch.SOURCE, R4),
  ];
}

/** Decision counters, opinions, per-mode packets and per-flag counters. R7 = stats. */
function countFragment(): AsmInput {
  const indexed = (index: AsmInput, max: number, base: number, skip: string): AsmInput => [
    index,
    JGT.imm(R1, max, L(skip)),
    Lsh.imm(R1, 3),
    Mov.reg(R2, R7),
    Add.reg(R2, R1),
    bump(R2, base),
    label(L(skip)),
  ];
  const flagCounters: [number, number][] = [
    [Flag.CACHED, Counter.MODEL_CACHED],
    [Flag.MODEL_MISSING, Counter.MODEL_MISSING],
    [Flag.HEARTBEAT_LOST, Counter.HEARTBEAT_LOST],
  ];
  return [
    indexed(
      [LoadMem("W", R1, R9, Scratch.SOURCE), Lsh.imm(R1, 1), LoadMem("W", R2, R9, Scratch.FINAL_VERDICT), Add.reg(R1, R2)],
      2 * NUM_SOURCES - 1, Counter.DECISIONS, "count_decision_done",
    ),
    LoadMem("W", R1, R9, Scratch.FLAGS),
    And.imm(R1, Flag.MODEL_RAN),
    JEq.imm(R1, 0, L("count_opinion_done")),
    indexed(
      [LoadMem("W", R1, R9, Scratch.DEFAULT_VERDICT), Lsh.imm(R1, 1), LoadMem("W", R2, R9, Scratch.MODEL_VERDICT), Add.reg(R1, R2)],
      3, Counter.OPINIONS, "count_opinion_done",
    ),
    bump(R7, Counter.PACKETS),
    indexed([LoadMem("W", R1, R9, Scratch.MODE)], 3, Counter.MODES, "count_mode_done"),
    flagCounters.map(([flag, counter], i) => [
      LoadMem("W", R1, R9, Scratch.FLAGS),
      And.imm(R1, flag),
      JEq.imm(R1, 0, L(`count_flag${i}`)),
      bump(R7, counter),
      label(L(`count_flag${i}`)),
    ]),
  ];
}

/** Send the record when prandom & 0xffff < sample rate; count successes and failures. */
function sampleFragment(): AsmInput {
  return [
    LoadMem("W", R1, R8, C.SAMPLE_RATE),
    JEq.imm(R1, 0, L("sample_done")),
    Call(Helper.get_prandom_u32),
    And.imm(R0, 0xffff),
    LoadMem("W", R1, R8, C.SAMPLE_RATE),
    JGE.reg(R0, R1, L("sample_done")),
    LoadMapPtr(R1, MapName.EVENTS),
    Mov.reg(R2, R9),
    Mov.imm(R3, RECORD_SIZE),
    Mov.imm(R4, 0),
    Call(Helper.ringbuf_output),
    JEq.imm(R0, 0, L("sample_ok")),
    bump(R7, Counter.RINGBUF_FAIL),
    Ja(L("sample_done")),
    label(L("sample_ok")),
    bump(R7, Counter.SAMPLED),
    label(L("sample_done")),
  ];
}

/** The whole decide program. */
export function decideProgram(attach: Attach): AsmInput {
  return [
    Mov.reg(R6, R1),
    lookupZero(MapName.SCRATCH, R9, L("exit_pass")),
    lookupZero(MapName.CONTROL, R8, L("exit_default")),
    lookupZero(MapName.STATS, R7, L("exit_default")),
    cacheStore(),
    combine(),
    countFragment(),
    sampleFragment(),
    LoadMem("W", R0, R9, Scratch.FINAL_VERDICT),
    returnVerdict(attach, R0, L("final")),
    label(L("exit_default")),
    LoadMem("W", R0, R9, Scratch.DEFAULT_VERDICT),
    returnVerdict(attach, R0, L("default")),
    label(L("exit_pass")),
    Mov.imm(R0, ATTACH[attach].pass),
    Exit(),
  ];
}
