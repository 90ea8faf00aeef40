/**
 * @module agent/kernel/feedback-data-path
 * The synthetic data path of the proxy's feedback program (`proxy/kernel/feedback-program.ts`)
 * on a KernelProxy's maps, loaded and closed as one: the recommendation map (the "model": a
 * decision and a confidence, which the program bounds-checks again), the feedback ring buffer
 * and the XDP program. The ebpf-demo adapter, the kernel tests and the proxy benchmark all
 * drive this same data path with BPF_PROG_TEST_RUN. Needs CAP_BPF + CAP_NET_ADMIN (root).
 */
import { type BpfMap, type Program, RingBuffer, createMap, loadProgram } from "../../bpf/index.ts";
import { RECOMMENDATION_VALUE_SIZE, feedbackProxyProgram } from "../../proxy/kernel/feedback-program.ts";
import type { KernelProxy } from "./kernel-proxy.ts";

const KEY0 = new Uint8Array(4);

export interface FeedbackDataPathOptions {
  /** Program name (at most 15 characters). */
  readonly name: string;
  /** Ring buffer size in bytes (a power of two, at least a page). */
  readonly ringBytes: number;
}

/** The recommendation map's value: u64 model version, i64 decision, i64 confidence (Q16), little-endian. */
function recommendationValue(version: bigint | number, decision: bigint | number, confidenceQ16: bigint | number): Uint8Array {
  const v = new Uint8Array(RECOMMENDATION_VALUE_SIZE);
  const dv = new DataView(v.buffer);
  dv.setBigUint64(0, BigInt(version), true);
  dv.setBigInt64(8, BigInt(decision), true);
  dv.setBigInt64(16, BigInt(confidenceQ16), true);
  return v;
}

export class FeedbackDataPath {
  private constructor(
    readonly rec: BpfMap,
    readonly ring: RingBuffer,
    readonly prog: Program,
  ) {}

  static load(kp: KernelProxy, o: FeedbackDataPathOptions): FeedbackDataPath {
    const rec = createMap({ name: "kmlib_rec", type: "ARRAY", keySize: 4, valueSize: RECOMMENDATION_VALUE_SIZE, maxEntries: 1 });
    let ring: RingBuffer | undefined;
    try {
      ring = new RingBuffer({ name: "kmlib_fb", size: o.ringBytes });
      const prog = loadProgram({
        name: o.name,
        type: "XDP",
        instructions: feedbackProxyProgram({ control: "control", counters: "counters", budget: "budget", recommendation: "rec", ringbuf: "fb", lost: "fb_lost" }),
        maps: { ...kp.maps(), rec, fb: ring.map, fb_lost: ring.lostMap },
      });
      return new FeedbackDataPath(rec, ring, prog);
    } catch (e) {
      ring?.close();
      rec.close();
      throw e;
    }
  }

  /** Writes the recommendation as it is: the kernel side, not this, checks its bounds. */
  writeRecommendation(version: bigint | number, decision: bigint | number, confidenceQ16: bigint | number): void {
    this.rec.update(KEY0, recommendationValue(version, decision, confidenceQ16));
  }

  close(): void {
    this.prog.close();
    this.ring.close();
    this.rec.close();
  }

  [Symbol.dispose](): void {
    this.close();
  }
}
