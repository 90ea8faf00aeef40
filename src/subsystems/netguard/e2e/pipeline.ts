/**
 * @module subsystems/netguard/e2e/pipeline
 * The main job (`kmlib demo`): lab up -> data path attached in emergency -> labelled dataset
 * from the kernel's flow records -> model trained on contract features and compiled ->
 * deployed in learning -> promoted by the mode controller on measured efficiency -> held-out
 * attacks in recommendation -> swap under load, cost, CIC-IDS2017 transfer, heartbeat
 * fallback -> report (text, JSON, SVG) -> lab down, whatever happens.
 */
import { mkdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { ErrorCode, KmlibError } from "../../../errors.ts";
import type { ScenarioResult } from "../lab/index.ts";
import { Flag } from "../layout.ts";
import type { Control } from "../control.ts";
import type { NetguardRecord } from "../record.ts";
import { trainCicModel } from "./cicids.ts";
import { evaluateRun, RunRecorder } from "./evaluate.ts";
import { heartbeatFallback } from "./heartbeat.ts";
import { measureCost } from "./measure.ts";
import { ARTEFACT_FORMAT, buildNetguardModelProgram, encodeArtefact, predictFeatures, type NetguardModel } from "./model-program.ts";
import { plotSvg } from "./plot.ts";
import { writeSvg } from "../../../report/svg-plot.ts";
import { reportText, type DemoReport, type LabEvaluation } from "./report.ts";
import { heldOutScenario, promotionScenario, trainingScenario, transferScenario, TRAINING_KINDS } from "./scenarios.ts";
import { E2eSession, PROXY } from "./session.ts";
import { swapUnderLoad } from "./swap.ts";
import { balanceByKind, TrainingCollector, trainLabModel, type TrainSummary } from "./train.ts";
import { RecordLabels } from "./flows.ts";

export interface PhaseRunner {
  phase<T>(name: string, fn: () => T | Promise<T>): Promise<T>;
  info(text: string): void;
}

export interface DemoOptions {
  /** Length of each traffic phase (default 3000 ms). */
  readonly phaseMs?: number;
  /** Report directory (default: $TMPDIR/kmlib-netguard-demo). */
  readonly out?: string;
  readonly tag?: string;
  readonly cicids?: boolean;
  readonly heartbeat?: boolean;
  /** Promotion scenario rounds at most (4 attack phases each; stops once promoted). */
  readonly promotionRounds?: number;
  readonly costRounds?: number;
  readonly signal?: AbortSignal;
}

export const DEFAULT_OUT = join(tmpdir(), "kmlib-netguard-demo");

/** The default algorithm's settings as the data path ran them. */
function defaultRuleParameters(c: Control): DemoReport["defaultRules"]["parameters"] {
  return {
    ratePps: c.rateIntervalNs === 0n ? 0 : Math.round(1e9 / Number(c.rateIntervalNs)),
    rateBurst: c.rateIntervalNs === 0n ? 0 : Number(c.rateToleranceNs / c.rateIntervalNs) + 1,
    synLimit: c.synLimit,
    synWindowMs: Number(c.synWindowNs) / 1e6,
    vetoMask: c.vetoMask,
  };
}

function checkAbort(signal: AbortSignal | undefined): void {
  if (signal?.aborted) throw new KmlibError(ErrorCode.IllegalState, "interrupted");
}

/** Counts kernel answers that the TypeScript reference reproduces exactly. */
class Agreement {
  checked = 0;
  agree = 0;
  constructor(
    private readonly model: () => NetguardModel | undefined,
    private readonly generation: () => number,
  ) {}
  add = (recs: readonly NetguardRecord[]): void => {
    const m = this.model();
    const gen = this.generation();
    if (!m) return;
    for (const r of recs) {
      if (!(r.flags & Flag.MODEL_RAN) || r.flags & Flag.CACHED || r.generation !== gen) continue;
      this.checked++;
      const p = predictFeatures(m, r.features);
      if (p.verdict === r.modelVerdict && p.conf === r.modelConf) this.agree++;
    }
  };
}

export async function runNetguardDemo(progress: PhaseRunner, o: DemoOptions = {}): Promise<DemoReport> {
  const t0 = Date.now();
  const phaseMs = o.phaseMs ?? 3000;
  const signal = o.signal;
  const out = resolve(o.out ?? DEFAULT_OUT);
  mkdirSync(out, { recursive: true });
  rmSync(join(out, "agent.log.jsonl"), { force: true });
  const session = await progress.phase("lab up; agent started; data path attached to the server's eth0 in emergency", () =>
    E2eSession.open({ tag: o.tag ?? "e2e", logFile: join(out, "agent.log.jsonl"), storePath: join(out, "store.db") }),
  );
  try {
    const { lab, adapter, store, labels } = session;
    const plan = lab.plan;
    session.startAgentLoop();
    const st = await adapter.systemState();
    progress.info(`XDP link on ${lab.attach.ns}/${lab.attach.dev}; requested ${st.requestedMode}, kernel uses ${st.effectiveMode}`);

    const collector = new TrainingCollector(labels);
    const trainRun: ScenarioResult = await progress.phase(`collect a labelled dataset from the kernel's flow records (${TRAINING_KINDS.join(", ")})`, () =>
      session.tapped(collector.add.bind(collector), () => session.scenario(trainingScenario(plan, phaseMs), { signal })),
    );
    checkAbort(signal);
    progress.info(`${collector.rows.length} rows kept from ${collector.flows} flows (${collector.rows.filter((r) => r.label).length} attack)`);

    const trained = await progress.phase("train forests on contract features (lab records; CIC-IDS2017 sample), lower to integers, compile to eBPF", async () => {
      const runLabels = new RecordLabels(plan, trainRun.groundTruth);
      const balanced = balanceByKind(collector.rows, (r) => runLabels.kind(r.record) ?? "other", { seed: 1 });
      const t = trainLabModel(balanced.rows, { seed: 1, validationRows: balanced.validation });
      const spec = buildNetguardModelProgram(t.model);
      // a second model for the swap test, trained now (training blocks the event loop)
      const alt = trainLabModel(balanced.rows, { seed: 2, nTrees: 8 }).model;
      const cic = o.cicids ?? true ? await trainCicModel(undefined, { seed: 1 }) : undefined;
      return { ...t, alt, cic, kinds: balanced.kinds, instructions: spec.assembled.bytes.length / 8 };
    });
    const model = trained.model;
    progress.info(`${trained.summary.trees} trees, validation accuracy ${(100 * trained.summary.validationAccuracy).toFixed(2)}%, ${trained.instructions} eBPF instructions`);
    const version = store.registry.register({ proxy: PROXY, kind: "forest", trainingData: `lab scenario ${trainRun.scenario}: ${collector.rows.length} rows`, metrics: { validationAccuracy: trained.summary.validationAccuracy }, artefact: encodeArtefact(model), artefactFormat: ARTEFACT_FORMAT }).version;

    const agreement = new Agreement(() => adapter.model, () => adapter.dataPath.control().generation);
    const offAgreement = adapter.subscribe(agreement.add);
    await progress.phase(`deploy model v${version} in learning (registry activation, atomic slot swap)`, async () => {
      store.registry.activate(PROXY, version, "trained by the netguard demo");
      await session.tick();
      if (session.runner.deployedVersion !== version) throw new KmlibError(ErrorCode.InvalidModel, `model v${version} was not deployed: ${session.tickErrors.join("; ")}`);
      await session.requestMode("learning");
    });

    const promoted = new AbortController();
    const onAbort = () => promoted.abort();
    signal?.addEventListener("abort", onAbort, { once: true });
    await progress.phase("mode controller: promotion on measured efficiency (learning -> collaboration -> recommendation)", async () => {
      const watch = setInterval(() => {
        if (session.mode === "recommendation") {
          clearInterval(watch);
          setTimeout(() => promoted.abort(), 1000);
        }
      }, 100);
      try {
        await session.scenario(promotionScenario(plan, phaseMs, o.promotionRounds ?? 3), { signal: promoted.signal });
      } finally {
        clearInterval(watch);
        signal?.removeEventListener("abort", onAbort);
      }
    });
    checkAbort(signal);
    for (const t of session.transitions) progress.info(`${t.from} -> ${t.to}: ${t.reason}`);

    const held = new RunRecorder(labels);
    const heldOut = await progress.phase(`held-out attacks from another attacker (${session.mode}; unseen kinds included)`, async () => {
      const run = await session.tapped(held.add, () => session.scenario(heldOutScenario(plan, phaseMs), { signal }));
      return evaluateRun(held, run, TRAINING_KINDS);
    });
    offAgreement();
    checkAbort(signal);
    progress.info(`model F1 ${heldOut.model.perFlow.f1.toFixed(3)} FPR ${(100 * heldOut.model.perFlow.falsePositiveRate).toFixed(2)}%; default rules F1 ${heldOut.default.perFlow.f1.toFixed(3)} FPR ${(100 * heldOut.default.perFlow.falsePositiveRate).toFixed(2)}%; curl ${heldOut.curl.ok}/${heldOut.curl.requests}`);

    const swapStart = session.now();
    const swap = await progress.phase("swap models every 5 ms under a counted UDP stream", () => swapUnderLoad(lab, adapter, labels, trained.alt));
    session.timeline.phases.push({ start: swapStart, end: session.now(), label: "swap test" });
    progress.info(`sent ${swap.sent}, seen ${swap.seen}, lost ${swap.lost} across ${swap.swaps} swaps`);
    checkAbort(signal);

    const cost = await progress.phase("cost: ns/packet (test-run, packet mix) and XDP live frames, beside an empty XDP program", () => measureCost(model, { rounds: o.costRounds ?? 3 }));
    progress.info(`${cost.nsPerPacket.toFixed(1)} ns/packet with the model (empty program ${cost.emptyNsPerPacket.toFixed(1)} ns); live ${(cost.livePps / 1e6).toFixed(2)} Mpps`);
    checkAbort(signal);

    let cicids: DemoReport["cicids"] = { skipped: "disabled" };
    const cic = trained.cic;
    if (cic) {
      cicids = await progress.phase("data set -> kernel: CIC-IDS2017 model on contract features, shadowed on lab traffic", async () => {
        await session.requestMode("learning", true);
        const v = store.registry.register({ proxy: PROXY, kind: "forest", trainingData: `CIC-IDS2017 sample (${cic.summary.rows} rows)`, metrics: { validationAccuracy: cic.summary.validationAccuracy }, artefact: encodeArtefact(cic.model), artefactFormat: ARTEFACT_FORMAT }).version;
        store.registry.activate(PROXY, v, "CIC-IDS2017 transfer check");
        await session.tick();
        // shadow-evaluate over the whole run; the controller judges the window right after
        session.pauseEvaluation();
        const rec = new RunRecorder(labels);
        const run = await session.tapped(rec.add, () => session.scenario(transferScenario(plan, phaseMs), { signal })).finally(() => session.resumeEvaluation());
        store.registry.rollback(PROXY, "back to the lab model");
        await session.tick();
        const labEval: LabEvaluation = evaluateRun(rec, run);
        return { summary: cic.summary as TrainSummary, mapping: cic.mapping, unmapped: cic.unmapped, lab: labEval };
      });
      checkAbort(signal);
    }

    const rules = adapter.dataPath.control();
    const kstats = adapter.kernelStats();
    const kernel = { records: adapter.recordCount, ringbufFail: Number(kstats.ringbufFail), packets: Number(kstats.packets) };
    const transitions = session.transitions.map((t) => ({ from: t.from, to: t.to, reason: t.reason, at: t.at, t: (t.at - t0) / 1000, detail: t.detail }));
    const promotedTo = transitions.filter((t) => t.reason === "promote").at(-1)?.to ?? "learning";
    await session.stopAgent();

    let heartbeat: DemoReport["heartbeat"] = { skipped: "disabled" };
    if (o.heartbeat ?? true) {
      heartbeat = await progress.phase("heartbeat fallback: SIGKILL the agent during a flood", () => heartbeatFallback(lab, encodeArtefact(model)));
      progress.info(`fell back after ${heartbeat.fallbackAfterMs.toFixed(0)} ms; curl after the fallback ${heartbeat.curlAfterFallback.ok}/${heartbeat.curlAfterFallback.requests}`);
    }

    const files = { json: join(out, "report.json"), text: join(out, "report.txt"), svg: join(out, "verdicts.svg"), store: join(out, "store.db"), log: join(out, "agent.log.jsonl") };
    const report: DemoReport = {
      f1: heldOut.model.perFlow.f1,
      falsePositiveRate: heldOut.model.perFlow.falsePositiveRate,
      defaultRules: { f1: heldOut.default.perFlow.f1, falsePositiveRate: heldOut.default.perFlow.falsePositiveRate, parameters: defaultRuleParameters(rules) },
      nsPerPacket: cost.nsPerPacket,
      packetsLostInSwap: swap.lost,
      modeTransitions: transitions,
      promotedTo,
      heldOut,
      training: { ...trained.summary, records: collector.records, flows: collector.flows, kinds: TRAINING_KINDS, rowsByGenerator: trained.kinds },
      kernelAgreement: { checked: agreement.checked, agree: agreement.agree },
      cost: { ...cost, anchor: "empty XDP program (r0 = XDP_PASS), same packet mix, same run", ratio: cost.nsPerPacket / cost.emptyNsPerPacket, livePpsRatio: cost.livePps / cost.liveEmptyPps },
      swap,
      heartbeat,
      cicids,
      kernel,
      agentErrors: [...session.tickErrors],
      seconds: (Date.now() - t0) / 1000,
      files,
    };
    await progress.phase("report: text, JSON and a plot of verdicts and mode changes", () => {
      writeFileSync(files.json, JSON.stringify(report, null, 2) + "\n");
      writeFileSync(files.text, reportText(report) + "\n");
      writeSvg(files.svg, plotSvg(session.timeline.data(), "netguard: verdicts per second by ground truth, kernel mode, controller transitions"));
    });
    return report;
  } finally {
    await progress.phase("lab down", () => session.close());
  }
}
