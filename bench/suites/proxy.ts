/**
 * @module bench/suites/proxy
 * What the ml-lib proxy costs, each figure beside an anchor measured in the same run:
 * - data path: ns per decision of the kernel-side proxy (control read, heartbeat check,
 *   recommendation bounds check, decide, per-CPU count) in recommendation mode, and in
 *   learning mode (plus a ring-buffer feedback record), vs an XDP program that only returns
 *   XDP_PASS (kernel clock, BPF_PROG_TEST_RUN, 1e6 repeats);
 * - store: feedback records/s stored through the agent store (validation, idempotent insert,
 *   WAL + synchronous=FULL, batches of 1000) vs raw better-sqlite3 inserts of the same rows
 *   into the same schema with synchronous=OFF;
 * - controller: evaluations/s of the mode controller (Wilson + Newcombe) vs decide() calls/s.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import Database from "better-sqlite3";
import { FeedbackDataPath } from "../../src/agent/kernel/feedback-data-path.ts";
import { KernelProxy } from "../../src/agent/kernel/kernel-proxy.ts";
import { Store } from "../../src/agent/store/index.ts";
import { Exit, Mov, loadProgram } from "../../src/bpf/index.ts";
import { monotonicNs } from "../../src/proxy/control.ts";
import { ModeController } from "../../src/proxy/controller.ts";
import { decide } from "../../src/proxy/decide.ts";
import { emptyCounters } from "../../src/proxy/efficiency.ts";
import type { FeedbackRecord } from "../../src/proxy/feedback.ts";
import { entry, median, progress, type BenchEntry } from "../types.ts";

const REPEATS = 5;
const pkt = new Uint8Array(64);

function dataPath(): BenchEntry[] {
  progress("data path");
  using kp = KernelProxy.open("bench");
  using dp = FeedbackDataPath.load(kp, { name: "kmlib_bench", ringBytes: 1 << 22 });
  const { prog } = dp;
  const reader = dp.ring.reader();
  try {
    using bare = loadProgram({ name: "kmlib_pass", type: "XDP", instructions: [Mov.imm(0, 2), Exit()] });
    dp.writeRecommendation(1n, 1n, 65536n);
    const N = 1_000_000;
    const run = (mode: "recommendation" | "learning") => {
      const xs: number[] = [], anchor: number[] = [];
      for (let i = 0; i < REPEATS; i++) {
        kp.writeControl({ mode, heartbeatNs: monotonicNs(), heartbeatTimeoutNs: 60_000_000_000n });
        // Learning mode writes 32 B per decision; drain so the buffer never fills.
        const chunk = mode === "learning" ? 50_000 : N;
        let sum = 0;
        for (let done = 0; done < N; done += chunk) {
          sum += prog.testRun({ data: pkt, repeat: chunk }).nsPerRun * chunk;
          reader.consume(() => {});
        }
        xs.push(sum / N);
        anchor.push(bare.testRun({ data: pkt, repeat: N }).nsPerRun);
      }
      return { value: median(xs), anchor: median(anchor) };
    };
    const r = run("recommendation");
    const l = run("learning");
    return [
      entry("proxy data path, recommendation mode (ns/decision)", r.value, "ns", "XDP program returning XDP_PASS", r.anchor, { repeat: N, runs: REPEATS }),
      entry("proxy data path, learning mode + ring-buffer feedback (ns/decision)", l.value, "ns", "XDP program returning XDP_PASS", l.anchor, { repeat: N, runs: REPEATS, lost: String(reader.stats().lost) }),
    ];
  } finally {
    reader.close();
  }
}

function store(): BenchEntry[] {
  progress("store");
  const dir = mkdtempSync(join(tmpdir(), "kmlib-bench-store-"));
  try {
    const BATCH = 1000, BATCHES = 20;
    const recs = (base: number): FeedbackRecord[] =>
      Array.from({ length: BATCH }, (_, i) => ({ proxy: "b", seq: base + i, mode: "learning", source: "default", defaultDecision: 1, modelDecision: 0, confidence: 0.5, modelVersion: 1, defaultGood: true, modelGood: false, features: [1, 2, 3, 4, 5, 6, 7, 8] }));
    const ours: number[] = [], raw: number[] = [];
    for (let rep = 0; rep < REPEATS; rep++) {
      {
        using s = Store.open(join(dir, `s${rep}.db`));
        const t0 = performance.now();
        for (let b = 0; b < BATCHES; b++) s.data.addFeedback(recs(b * BATCH));
        ours.push((BATCH * BATCHES) / ((performance.now() - t0) / 1000));
      }
      {
        // Anchor: the same table, plain inserts, synchronous=OFF (no durability), no validation.
        using s0 = Store.open(join(dir, `r${rep}.db`));
        s0.close();
        const db = new Database(join(dir, `r${rep}.db`));
        db.pragma("journal_mode = WAL");
        db.pragma("synchronous = OFF");
        const ins = db.prepare("INSERT INTO feedback (proxy, seq, mode, source, default_decision, model_decision, confidence, model_version, default_good, model_good, features, time, stored_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)");
        const tx = db.transaction((rs: FeedbackRecord[]) => {
          for (const r of rs) ins.run(r.proxy, r.seq, r.mode, r.source, r.defaultDecision, r.modelDecision, r.confidence, r.modelVersion, 1, 0, JSON.stringify(r.features), null, 0);
        });
        const t0 = performance.now();
        for (let b = 0; b < BATCHES; b++) tx(recs(b * BATCH));
        raw.push((BATCH * BATCHES) / ((performance.now() - t0) / 1000));
        db.close();
      }
    }
    return [entry("store feedback (records/s, WAL + synchronous=FULL, batches of 1000)", median(ours), "records/s", "raw better-sqlite3 inserts, synchronous=OFF", median(raw), { batch: BATCH, batches: BATCHES, runs: REPEATS })];
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function controller(): BenchEntry[] {
  progress("controller");
  const N = 20_000;
  const c = emptyCounters();
  const evals: number[] = [], decides: number[] = [];
  for (let rep = 0; rep < REPEATS; rep++) {
    const ctl = new ModeController({ thresholds: { minDecisions: 1, promoteStreak: N * 10 } });
    const counters = { ...c, learning: { default: { decided: 1000, evaluated: 1000, good: 800 }, model: { decided: 0, evaluated: 1000, good: 810 } } };
    let t0 = performance.now();
    for (let i = 0; i < N; i++) ctl.evaluate(counters);
    evals.push(N / ((performance.now() - t0) / 1000));
    let x = 0;
    t0 = performance.now();
    for (let i = 0; i < N; i++) x += decide({ mode: "collaboration", defaultDecision: 1, model: { decision: i & 1, confidence: 0.9 }, confidenceThreshold: 0.8, budgetRemaining: 10 }).decision;
    decides.push(N / ((performance.now() - t0) / 1000));
    if (x < 0) throw new Error("unreachable");
  }
  return [entry("mode controller evaluations/s", median(evals), "ops/s", "decide() calls/s", median(decides), { runs: REPEATS })];
}

export default async function run(): Promise<BenchEntry[]> {
  return [...dataPath(), ...store(), ...controller()];
}
