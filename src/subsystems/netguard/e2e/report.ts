/**
 * @module subsystems/netguard/e2e/report
 * The end-to-end job's report: one JSON object (the fields the issue names first, then the
 * evidence behind each) and its text rendering. Every figure states what it is measured
 * against; ratios are value / anchor from the same run.
 */
import type { Scores } from "./flows.ts";
import type { CostFigures } from "./measure.ts";
import type { SwapResult } from "./swap.ts";
import type { HeartbeatResult } from "./heartbeat.ts";
import type { TrainSummary } from "./train.ts";
import type { ColumnMap } from "./cicids.ts";

export interface SideScores {
  readonly perFlow: Scores;
  readonly perPacket: Scores;
}

export interface KindRow {
  readonly kind: string;
  readonly label: "benign" | "attack";
  /** Whether the model was trained on this generator's traffic (lab models only). */
  readonly seenInTraining?: boolean;
  readonly flows: number;
  readonly packets: number;
  /** Fraction of packets each source would drop (attack: detection; benign: false positives). */
  readonly modelDropRate: number;
  readonly defaultDropRate: number;
  readonly finalDropRate: number;
}

export interface PacketCount {
  readonly packets: number;
  readonly dropped: number;
}

export interface LabEvaluation {
  readonly scenario: string;
  readonly seconds: number;
  readonly records: number;
  readonly flows: { benign: number; attack: number };
  readonly model: SideScores;
  readonly default: SideScores;
  /** What actually happened to the packets (model, guards, budget, fallback). */
  readonly final: SideScores;
  readonly byKind: readonly KindRow[];
  /** Packets judged in each effective mode during the run. */
  readonly modes: Readonly<Record<string, number>>;
  /** Final verdicts per effective mode and ground truth (packets). */
  readonly byMode: Readonly<Record<string, { readonly benign: PacketCount; readonly attack: PacketCount }>>;
  readonly curl: { readonly requests: number; readonly ok: number };
}

export interface TransitionRow {
  readonly from: string;
  readonly to: string;
  readonly reason: string;
  /** Wall clock, ms since the epoch. */
  readonly at: number;
  /** Seconds since the job started. */
  readonly t: number;
  readonly detail: string;
}

export interface DemoReport {
  /** Held-out lab traffic, per flow, the model's answers. */
  readonly f1: number;
  readonly falsePositiveRate: number;
  readonly defaultRules: {
    readonly f1: number;
    readonly falsePositiveRate: number;
    /** Per-source GCRA rate limit and SYN-flood rule as configured; veto mask of the guard. */
    readonly parameters: { readonly ratePps: number; readonly rateBurst: number; readonly synLimit: number; readonly synWindowMs: number; readonly vetoMask: number };
  };
  /** Data path with the model on every packet (test-run, packet mix); anchor below. */
  readonly nsPerPacket: number;
  readonly packetsLostInSwap: number;
  readonly modeTransitions: readonly TransitionRow[];
  readonly promotedTo: string;
  readonly heldOut: LabEvaluation;
  readonly training: TrainSummary & { readonly records: number; readonly flows: number; readonly kinds: readonly string[]; readonly rowsByGenerator: Readonly<Record<string, number>> };
  readonly kernelAgreement: { readonly checked: number; readonly agree: number };
  readonly cost: CostFigures & { readonly anchor: string; readonly ratio: number; readonly livePpsRatio: number };
  readonly swap: SwapResult;
  readonly heartbeat: HeartbeatResult | { readonly skipped: string };
  readonly cicids: { readonly summary: TrainSummary; readonly mapping: readonly ColumnMap[]; readonly unmapped: readonly string[]; readonly lab: LabEvaluation } | { readonly skipped: string };
  readonly kernel: { readonly records: number; readonly ringbufFail: number; readonly packets: number };
  readonly agentErrors: readonly string[];
  readonly seconds: number;
  readonly files: { readonly json: string; readonly text: string; readonly svg: string; readonly store: string; readonly log: string };
}

const pct = (x: number, d = 1): string => `${(100 * x).toFixed(d)}%`;
const n3 = (x: number): string => x.toFixed(3);

function sideLine(name: string, s: SideScores): string {
  const f = s.perFlow, p = s.perPacket;
  return `  ${name.padEnd(16)} F1 ${n3(f.f1)}  FPR ${pct(f.falsePositiveRate, 2).padStart(7)}  recall ${pct(f.recall).padStart(6)}   | packets: F1 ${n3(p.f1)}  FPR ${pct(p.falsePositiveRate, 2)}`;
}

export function evaluationText(e: LabEvaluation, title: string): string[] {
  const out = [
    `${title}: ${e.scenario}, ${e.seconds.toFixed(0)} s, ${e.records} records, ${e.flows.attack} attack / ${e.flows.benign} benign flows`,
    sideLine("model", e.model),
    sideLine("default rules", e.default),
    sideLine("what happened", e.final),
    `  by generator (drop rate: model / default / final; attacks: want 100%, benign: want 0%):`,
  ];
  for (const k of e.byKind) {
    const seen = k.label === "attack" && k.seenInTraining !== undefined ? (k.seenInTraining ? " (trained on)" : " (unseen kind)") : "";
    out.push(`    ${`${k.label} ${k.kind}${seen}`.padEnd(34)} ${String(k.flows).padStart(6)} flows ${String(k.packets).padStart(7)} pkts   ${pct(k.modelDropRate).padStart(6)} / ${pct(k.defaultDropRate).padStart(6)} / ${pct(k.finalDropRate).padStart(6)}`);
  }
  const share = (c: PacketCount) => (c.packets ? pct(c.dropped / c.packets) : "-");
  out.push(`  per effective mode (packets; dropped):`);
  for (const [m, c] of Object.entries(e.byMode)) {
    if (c.attack.packets + c.benign.packets === 0) continue;
    out.push(`    ${m.padEnd(15)} attack ${String(c.attack.packets).padStart(7)} (${share(c.attack)} dropped)   benign ${String(c.benign.packets).padStart(7)} (${share(c.benign)} dropped)`);
  }
  out.push(`  curl: ${e.curl.ok}/${e.curl.requests} requests succeeded`);
  return out;
}

export function reportText(r: DemoReport): string {
  const L: string[] = [];
  L.push("netguard: ML packet filtering in XDP, end to end on this kernel");
  L.push("");
  L.push(`Training: ${r.training.records} flow records (${r.training.flows} flows; attack kinds ${r.training.kinds.join(", ")}), ${r.training.rows} rows kept, ${r.training.kind} of ${r.training.trees} trees depth <= ${r.training.maxDepth} on ${r.training.features.length} contract features (no addresses), ${r.training.trainMs} ms; validation accuracy ${pct(r.training.validationAccuracy, 2)}`);
  L.push(`  rows per generator before balancing (label:kind): ${Object.entries(r.training.rowsByGenerator).map(([k, v]) => `${k} ${v}`).join(", ")}`);
  L.push(`Kernel model vs TypeScript reference on live packets: ${r.kernelAgreement.agree}/${r.kernelAgreement.checked} identical (verdict and confidence)`);
  L.push("");
  L.push(`Mode transitions (promoted to ${r.promotedTo}):`);
  for (const t of r.modeTransitions) L.push(`  ${t.t.toFixed(1).padStart(6)} s  ${t.from} -> ${t.to}  [${t.reason}]  ${t.detail}`);
  L.push("");
  const p = r.defaultRules.parameters;
  L.push(...evaluationText(r.heldOut, "Held-out evaluation"));
  L.push(`  (default rules: ${p.ratePps} packets/s per source, burst ${p.rateBurst}; more than ${p.synLimit} SYNs per ${p.synWindowMs} ms per source dropped; guard veto mask 0x${p.vetoMask.toString(16)})`);
  L.push("");
  const c = r.cost;
  L.push(`Cost (test-run, packet mix, median of ${c.rounds} rounds x ${c.repeat} repeats per frame; anchor ${c.anchor}):`);
  L.push(`  data path + model on every packet  ${c.nsPerPacket.toFixed(1)} ns/packet  (x${c.ratio.toFixed(2)} the empty program's ${c.emptyNsPerPacket.toFixed(1)} ns)`);
  L.push(`  with the per-flow verdict cache    ${c.nsPerPacketCached.toFixed(1)} ns/packet`);
  L.push(`  emergency (rules only, no model)   ${c.nsPerPacketNoModel.toFixed(1)} ns/packet`);
  L.push(`  XDP live frames (${c.liveFrameDropped ? "flood frame, dropped by the model" : "frame passed"}): ${(c.livePps / 1e6).toFixed(2)} Mpps vs ${(c.liveEmptyPps / 1e6).toFixed(2)} Mpps for an empty dropping program (x${c.livePpsRatio.toFixed(2)})`);
  L.push(`  model program: ${c.modelInstructions} instructions`);
  L.push("");
  const s = r.swap;
  L.push(`Model swap under load: ${s.swaps} atomic swaps during a ${s.durationMs} ms UDP stream from ${s.from}: sent ${s.sent}, seen ${s.seen}, lost ${s.lost} (${s.generations} model generations judged it; ring buffer failures ${s.ringbufFail})`);
  L.push("");
  if ("skipped" in r.heartbeat) L.push(`Heartbeat fallback: skipped (${r.heartbeat.skipped})`);
  else {
    const h = r.heartbeat;
    L.push(`Heartbeat fallback (agent SIGKILLed during a ${h.attack.kind} from ${h.attack.from}, ${h.attack.sent} packets):`);
    L.push(`  kernel fell back ${h.fallbackAfterMs.toFixed(0)} ms after the kill (timeout ${h.timeoutMs} ms); afterwards ${h.after.emergency}/${h.after.packets} packets in emergency, model decisions ${h.after.modelDecisions}, default rules dropped ${h.after.defaultDrops} and passed ${h.after.defaultPasses}`);
    L.push(`  curl during the flood ${h.curl.ok}/${h.curl.requests}, after the fallback ${h.curlAfterFallback.ok}/${h.curlAfterFallback.requests}; XDP detached after unpinning: ${h.detached}`);
  }
  L.push("");
  if ("skipped" in r.cicids) L.push(`Data set -> kernel (CIC-IDS2017): skipped (${r.cicids.skipped})`);
  else {
    const k = r.cicids;
    L.push(`Data set -> kernel: CIC-IDS2017 sample, ${k.summary.rows} rows (${k.summary.benign} benign, ${k.summary.attack} attack after balancing), validation accuracy ${pct(k.summary.validationAccuracy, 2)} on CIC rows`);
    L.push(`  mapped: ${k.mapping.map((m) => `${m.feature}<-"${m.column}"${m.scale ? ` x${m.scale}` : ""}`).join(", ")}`);
    L.push(`  not mapped (different definitions): ${k.unmapped.join(", ")}`);
    L.push(...evaluationText(k.lab, "  on lab traffic (learning mode, shadow answers)").map((l) => `  ${l}`));
  }
  L.push("");
  L.push(`Kernel: ${r.kernel.records} flow records read, ${r.kernel.ringbufFail} ring-buffer failures, ${r.kernel.packets} packets through the data path${r.agentErrors.length ? `; agent errors: ${r.agentErrors.join("; ")}` : ""}`);
  L.push(`Done in ${r.seconds.toFixed(0)} s. Files: ${r.files.text}, ${r.files.json}, ${r.files.svg}, agent log ${r.files.log}`);
  L.push(`The agent's store (model registry, feedback, mode events): kmlib status --store ${r.files.store}; kmlib model list netguard0 --store ${r.files.store}`);
  return L.join("\n");
}
