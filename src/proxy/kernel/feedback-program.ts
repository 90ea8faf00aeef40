/**
 * @module proxy/kernel/feedback-program
 * A complete kernel-side proxy with a data path the agent can drive: the model's answer lives
 * in a "recommendation" array map (u64 model version, s64 decision, s64 confidence Q16) that
 * the program bounds-checks again before use (out of bounds = no model: the default decides),
 * the mode comes from `effectiveMode` (heartbeat fallback), the decision from `decideFragment`
 * (with the collaboration budget enforced per CPU),
 * each decision is counted per (mode, source), and in learning and collaboration modes a
 * 32-byte feedback record goes out through a ring buffer:
 *
 *   off size field
 *     0  u32 mode code        4  u32 source code     8  u32 default decision
 *    12  u32 model decision (0xffffffff: no model)   16  u32 confidence Q16
 *    20  u32 reserved        24  u64 model version
 *
 * XDP: default XDP_PASS. Pure: instructions only; the agent side is `agent/adapters/ebpf-demo`.
 */
import {
  Add, AtomicAdd, Call, Exit, Helper, JEq, JNE, Ja, LoadMapPtr, LoadMapValue, LoadMem, Mov, StoreImm, StoreMem, label, type AsmInput,
} from "../../bpf/asm/index.ts";
import { ModeCode } from "../mode.ts";
import { boundsCheck, budgetLookup, countDecision, decideFragment, effectiveMode } from "./fragment.ts";

export const FEEDBACK_RECORD_SIZE = 32;
export const RECOMMENDATION_VALUE_SIZE = 24;
/** Kernel-side bounds of the recommendation (XDP actions; Q16 confidence). */
export const DECISION_BOUNDS = { min: 0, max: 4 } as const;
export const CONFIDENCE_BOUNDS = { min: 0, max: 65536 } as const;
export const DEFAULT_DECISION = 2; // XDP_PASS
export const NO_MODEL = 0xffffffff;

export interface FeedbackProgramMaps {
  readonly control: string;
  readonly counters: string;
  /** Per-CPU array (BUDGET_CELL_SIZE, 1 entry): the collaboration budget window. */
  readonly budget: string;
  readonly recommendation: string;
  readonly ringbuf: string;
  readonly lost: string;
}

const REC = -48; // record on the stack: [-48, -16)

export function feedbackProxyProgram(m: FeedbackProgramMaps): AsmInput {
  return [
    // The record starts as "default decided, no model" (every byte written: the verifier insists).
    StoreImm("DW", 10, REC, 0),
    StoreImm("W", 10, REC + 8, DEFAULT_DECISION),
    StoreImm("W", 10, REC + 12, NO_MODEL | 0),
    StoreImm("DW", 10, REC + 16, 0),
    StoreImm("DW", 10, REC + 24, 0),
    effectiveMode({ map: m.control, ctl: 6, mode: 7, stackOff: -4 }),
    StoreMem("W", 10, REC, 7),
    budgetLookup({ map: m.budget, slot: -64, keyOff: -52 }),
    // The model's answer from the recommendation map, checked again here.
    StoreImm("W", 10, -12, 0),
    LoadMapPtr(1, m.recommendation),
    Mov.reg(2, 10),
    Add.imm(2, -12),
    Call(Helper.map_lookup_elem),
    JEq.imm(0, 0, "no_model"),
    LoadMem("DW", 1, 0, 0),
    JEq.imm(1, 0, "no_model"),
    LoadMem("DW", 3, 0, 8),
    boundsCheck(3, DECISION_BOUNDS.min, DECISION_BOUNDS.max, "no_model", 5),
    LoadMem("DW", 4, 0, 16),
    boundsCheck(4, CONFIDENCE_BOUNDS.min, CONFIDENCE_BOUNDS.max, "no_model", 5),
    StoreMem("DW", 10, REC + 24, 1),
    StoreMem("W", 10, REC + 12, 3),
    StoreMem("W", 10, REC + 16, 4),
    Mov.imm(2, DEFAULT_DECISION),
    Mov.imm(5, 0),
    decideFragment({ mode: 7, ctl: 6, defaultDecision: 2, modelDecision: 3, confidenceQ16: 4, veto: 5, decision: 8, source: 9, budgetSlot: -64 }),
    Ja("count"),
    label("no_model"),
    Mov.imm(8, DEFAULT_DECISION),
    Mov.imm(9, 0),
    label("count"),
    StoreMem("W", 10, REC + 4, 9),
    countDecision({ map: m.counters, mode: 7, source: 9, stackOff: -8 }),
    // Feedback only where the RFC asks for back-propagation.
    JEq.imm(7, ModeCode.learning, "feedback"),
    JNE.imm(7, ModeCode.collaboration, "out"),
    label("feedback"),
    Mov.reg(2, 10),
    Add.imm(2, REC),
    // bpf_ringbuf_output; a full buffer is counted in `lost` (kmlib's ring buffer convention,
    // as bpf/ringbuf-producer emits it; written out here to keep this module free of the FFI).
    Mov.imm(3, FEEDBACK_RECORD_SIZE),
    LoadMapPtr(1, m.ringbuf),
    Mov.imm(4, 0),
    Call(Helper.ringbuf_output),
    JEq.imm(0, 0, "out"),
    LoadMapValue(1, m.lost, 0),
    Mov.imm(2, 1),
    AtomicAdd("DW", 1, 0, 2),
    label("out"),
    Mov.reg(0, 8),
    Exit(),
  ];
}
