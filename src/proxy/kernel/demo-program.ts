/**
 * @module proxy/kernel/demo-program
 * A complete kernel-side proxy program built from the fragments: an XDP program whose default
 * algorithm says XDP_PASS and whose stand-in "model" says XDP_DROP with full confidence. It
 * resolves the effective mode, decides, counts the decision in the per-CPU efficiency
 * counters and returns the decision. It is what the heartbeat test runs on the real kernel,
 * and the smallest example of wiring a proxy into a data path. Pure: instructions only.
 */
import { Exit, Mov, type AsmInput } from "../../bpf/asm/index.ts";
import { countDecision, decideFragment, effectiveMode } from "./fragment.ts";

export const DEMO_DEFAULT_DECISION = 2; // XDP_PASS
export const DEMO_MODEL_DECISION = 1; // XDP_DROP

export function demoProxyProgram(maps: { control: string; counters: string }): AsmInput {
  return [
    effectiveMode({ map: maps.control, ctl: 6, mode: 7, stackOff: -4 }),
    Mov.imm(2, DEMO_DEFAULT_DECISION),
    Mov.imm(3, DEMO_MODEL_DECISION),
    Mov.imm(4, 65536),
    Mov.imm(5, 0),
    decideFragment({ mode: 7, ctl: 6, defaultDecision: 2, modelDecision: 3, confidenceQ16: 4, veto: 5, decision: 8, source: 9 }),
    countDecision({ map: maps.counters, mode: 7, source: 9, stackOff: -8 }),
    Mov.reg(0, 8),
    Exit(),
  ];
}
