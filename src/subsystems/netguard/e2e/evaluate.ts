/**
 * @module subsystems/netguard/e2e/evaluate
 * Scores one lab run from the kernel's own records: the model's answers, the default rules'
 * answers and the final verdicts, per flow and per packet, and per traffic generator (with
 * whether the model saw that attack kind in training); packets per effective mode; and
 * whether the benign clients' HTTP requests succeeded.
 */
import { MODE_NAMES } from "../control.ts";
import type { ScenarioResult } from "../lab/index.ts";
import type { NetguardRecord } from "../record.ts";
import { FlowBook, RecordLabels, type FlowAgg, type Side } from "./flows.ts";
import type { KindRow, LabEvaluation } from "./report.ts";

/** Records of one run: the flow book plus packets per effective mode. */
export class RunRecorder {
  readonly book: FlowBook;
  readonly modes = [0, 0, 0, 0];
  /** [mode][label][final verdict] packet counts. */
  readonly outcomes = [0, 1, 2, 3].map(() => [
    [0, 0],
    [0, 0],
  ]);

  constructor(readonly labels: RecordLabels) {
    this.book = new FlowBook(labels);
  }

  add = (recs: readonly NetguardRecord[]): void => {
    this.book.add(recs);
    for (const r of recs) {
      this.modes[r.mode] = (this.modes[r.mode] ?? 0) + 1;
      const label = this.labels.label(r);
      const cell = this.outcomes[r.mode]?.[label ?? -1];
      if (cell) cell[r.finalVerdict]!++;
    }
  };
}

function dropRate(flows: readonly FlowAgg[], side: Side): number {
  let drops = 0, of = 0;
  for (const f of flows) {
    const d = FlowBook.drops(f, side);
    drops += d.drops;
    of += d.of;
  }
  return of === 0 ? 0 : drops / of;
}

/** `trainedKinds`: the attack kinds the model was trained on (undefined: not a lab model). */
export function evaluateRun(rec: RunRecorder, run: ScenarioResult, trainedKinds?: readonly string[]): LabEvaluation {
  const book = rec.book;
  // the run windows say which generator made each flow
  const labels = new RecordLabels(book.labels.plan, run.groundTruth);
  const byKind: KindRow[] = [...book.byKind(labels)].map(([kind, flows]) => {
    const label = flows[0]!.label === 1 ? "attack" : "benign";
    return {
      kind,
      label,
      ...(trainedKinds ? { seenInTraining: label === "benign" || trainedKinds.includes(kind) } : {}),
      flows: flows.length,
      packets: flows.reduce((s, f) => s + f.packets, 0),
      modelDropRate: dropRate(flows, "model"),
      defaultDropRate: dropRate(flows, "default"),
      finalDropRate: dropRate(flows, "final"),
    } satisfies KindRow;
  });
  byKind.sort((a, b) => (a.label === b.label ? a.kind.localeCompare(b.kind) : a.label === "attack" ? -1 : 1));
  const side = (s: Side) => ({ perFlow: book.perFlow(s), perPacket: book.perPacket(s) });
  let benign = 0, attack = 0;
  for (const f of book.flows.values()) {
    if (f.label) attack++;
    else benign++;
  }
  const curl = run.runs.filter((r) => r.kind === "curl").reduce((a, r) => ({ requests: a.requests + (r.stats.requests ?? 0), ok: a.ok + (r.stats.ok ?? 0) }), { requests: 0, ok: 0 });
  const first = run.phases[0], last = run.phases[run.phases.length - 1];
  return {
    scenario: run.scenario,
    seconds: first && last ? (last.endMs - first.startMs) / 1000 : 0,
    records: book.records,
    flows: { benign, attack },
    model: side("model"),
    default: side("default"),
    final: side("final"),
    byKind,
    modes: Object.fromEntries(MODE_NAMES.map((m, i) => [m, rec.modes[i] ?? 0])),
    byMode: Object.fromEntries(
      MODE_NAMES.map((m, i) => {
        const o = rec.outcomes[i]!;
        return [m, { benign: { packets: o[0]![0]! + o[0]![1]!, dropped: o[0]![1]! }, attack: { packets: o[1]![0]! + o[1]![1]!, dropped: o[1]![1]! } }];
      }),
    ),
    curl,
  };
}
