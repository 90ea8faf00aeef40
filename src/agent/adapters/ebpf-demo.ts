/**
 * @module agent/adapters/ebpf-demo
 * A real eBPF proxy on this machine's kernel with a synthetic data path: the XDP program of
 * `proxy/kernel/feedback-program.ts`, driven by BPF_PROG_TEST_RUN (`drive(n)` = n decisions).
 * Everything the agent sees is kernel state: the control map (mode, heartbeat, model version),
 * the recommendation map the program bounds-checks, the per-CPU efficiency counters, and
 * feedback records from a ring buffer. The "model" is a constant answer (artefact
 * `{"decision": 1, "confidenceQ16": 65536}`): the point is the proxy, not the model. It runs
 * the shared conformance suite on the real kernel. Needs root (CAP_BPF, CAP_NET_ADMIN).
 */
import { RingBufReader } from "../../bpf/index.ts";
import { ErrorCode, KmlibError } from "../../errors.ts";
import { monotonicNs } from "../../proxy/control.ts";
import type { EfficiencyCounters } from "../../proxy/efficiency.ts";
import type { FeedbackRecord } from "../../proxy/feedback.ts";
import { CONFIDENCE_BOUNDS, DECISION_BOUNDS, FEEDBACK_RECORD_SIZE, NO_MODEL } from "../../proxy/kernel/feedback-program.ts";
import { Lifecycle } from "../../proxy/lifecycle.ts";
import { type Mode, SOURCES, modeFromCode } from "../../proxy/mode.ts";
import { type Recommendation, type RecommendationSchema, encodeRecommendation, validateRecommendation, validateSchema } from "../../proxy/recommendation.ts";
import type { DatasetPortion, SubsystemAdapter, SystemState } from "../adapter.ts";
import { controlSystemState, proxySettings } from "../proxy-state.ts";
import { FeedbackDataPath } from "../kernel/feedback-data-path.ts";
import { KernelProxy } from "../kernel/kernel-proxy.ts";

interface Kernel {
  proxy: KernelProxy;
  dp: FeedbackDataPath;
  reader: RingBufReader;
}

export function ebpfDemoArtefact(decision: number, confidenceQ16 = 65536): Uint8Array {
  return new TextEncoder().encode(JSON.stringify({ decision, confidenceQ16 }));
}

export class EbpfDemoAdapter implements SubsystemAdapter {
  readonly kind = "ebpf-demo";
  readonly columns = ["default_decision", "model_decision", "confidence_q16"] as const;
  readonly recommendationSchema: RecommendationSchema = validateSchema({
    fields: [
      { name: "decision", ...DECISION_BOUNDS },
      { name: "confidenceQ16", ...CONFIDENCE_BOUNDS },
    ],
  });
  readonly lifecycle = new Lifecycle();
  #k: Kernel | undefined;
  #seq = 0;

  constructor(readonly proxy: string) {}

  get #kernel(): Kernel {
    if (!this.#k) throw new KmlibError(ErrorCode.IllegalState, `ebpf-demo proxy ${this.proxy}: no kernel side (state "${this.lifecycle.state}")`);
    return this.#k;
  }

  #configure(options: Readonly<Record<string, unknown>>): void {
    this.#kernel.proxy.writeControl(proxySettings(options));
  }

  async init(options: Readonly<Record<string, unknown>>): Promise<void> {
    this.lifecycle.apply("init");
    // With `pin`, the kernel side outlives the agent (and falls back on its own when it dies).
    const proxy = KernelProxy.open(this.proxy, typeof options.pin === "string" ? { pin: options.pin } : {});
    const dp = FeedbackDataPath.load(proxy, { name: "kmlib_demo", ringBytes: 1 << 20 });
    this.#k = { proxy, dp, reader: dp.ring.reader() };
    this.#configure(options);
  }
  async reinit(options: Readonly<Record<string, unknown>>): Promise<void> {
    this.lifecycle.apply("reinit");
    this.#configure(options);
  }
  async start(): Promise<void> {
    this.lifecycle.apply("start");
    this.lifecycle.apply("run");
  }
  async stop(): Promise<void> {
    this.lifecycle.apply("stop");
  }
  async shutdown(): Promise<void> {
    this.lifecycle.apply("shutdown");
    const k = this.#k;
    this.#k = undefined;
    if (k) {
      k.reader.close();
      k.dp.close();
      k.proxy.close();
    }
  }

  /** Run the data path `n` times (BPF_PROG_TEST_RUN on a 64-byte frame). */
  drive(n: number): void {
    if (!this.lifecycle.active) throw new KmlibError(ErrorCode.IllegalState, `ebpf-demo proxy ${this.proxy}: not running`);
    this.#kernel.dp.prog.testRun({ data: new Uint8Array(64), repeat: n });
  }

  async systemState(): Promise<SystemState> {
    return controlSystemState(this.lifecycle.state, this.#kernel.proxy.readControl(), monotonicNs());
  }
  async setMode(mode: Mode): Promise<void> {
    this.#kernel.proxy.setMode(mode);
  }
  async heartbeat(nowNs: bigint): Promise<void> {
    this.#kernel.proxy.heartbeat(nowNs);
  }

  #writeModel(version: number, decision: number, confidenceQ16: number): void {
    this.#kernel.dp.writeRecommendation(version, decision, confidenceQ16);
    this.#kernel.proxy.writeControl({ modelVersion: version });
  }

  async deployModel(version: number, artefact: Uint8Array): Promise<void> {
    let m: { decision?: unknown; confidenceQ16?: unknown };
    try {
      m = JSON.parse(new TextDecoder().decode(artefact)) as typeof m;
    } catch (e) {
      throw new KmlibError(ErrorCode.InvalidModel, `ebpf-demo proxy ${this.proxy}: model version ${version} is not an ebpf-demo artefact`, { cause: e });
    }
    const rec = validateRecommendation(this.recommendationSchema, { modelVersion: version, values: { decision: Number(m.decision), confidenceQ16: Number(m.confidenceQ16) } });
    this.#writeModel(version, rec.values.decision!, rec.values.confidenceQ16!);
  }

  async getDataset(): Promise<DatasetPortion> {
    throw new KmlibError(ErrorCode.Unsupported, "ebpf-demo publishes feedback only, no dataset on request");
  }
  async pollDatasets(): Promise<DatasetPortion[]> {
    return [];
  }
  preprocessData(p: DatasetPortion): DatasetPortion {
    return p;
  }
  preprocessRecommendation(rec: Recommendation): Uint8Array {
    return encodeRecommendation(this.recommendationSchema, rec);
  }
  async applyRecommendation(rec: Recommendation): Promise<void> {
    this.preprocessRecommendation(rec);
    this.#writeModel(rec.modelVersion, rec.values.decision!, rec.values.confidenceQ16!);
  }
  async estimateEfficiency(): Promise<EfficiencyCounters> {
    return this.#kernel.proxy.readCounters();
  }
  async backPropagate(): Promise<FeedbackRecord[]> {
    const out: FeedbackRecord[] = [];
    this.#kernel.reader.consume((r) => {
      if (r.length < FEEDBACK_RECORD_SIZE) return;
      const dv = new DataView(r.buffer, r.byteOffset, r.byteLength);
      const model = dv.getUint32(12, true);
      const version = Number(dv.getBigUint64(24, true));
      out.push({
        proxy: this.proxy,
        seq: this.#seq++,
        mode: modeFromCode(dv.getUint32(0, true)),
        source: SOURCES[dv.getUint32(4, true)] ?? "default",
        defaultDecision: dv.getUint32(8, true),
        ...(model === NO_MODEL ? {} : { modelDecision: model, confidence: dv.getUint32(16, true) / 65536, ...(version > 0 ? { modelVersion: version } : {}) }),
      });
    });
    return out;
  }
  async correctSystemState(): Promise<void> {
    // Nothing outlives this adapter's maps (unpinned): only check the kernel side is there.
    if (!this.#k) throw new KmlibError(ErrorCode.IllegalState, `ebpf-demo proxy ${this.proxy}: no kernel side`);
  }
}
