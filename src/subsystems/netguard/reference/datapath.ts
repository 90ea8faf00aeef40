/**
 * @module subsystems/netguard/reference/datapath
 * The whole netguard data path in TypeScript: parse, flow state and features, allowlist,
 * default rules, effective mode (heartbeat), per-flow model-verdict cache, the model, the
 * mode decision with guards and the collaboration drop budget, and the counters. Given the
 * same packets, timestamps and control it reaches the same verdicts, flow state, records and
 * counters as the generated eBPF, so kernel tests compare the two; it also serves as a fast
 * simulator. Sampling is random in the kernel: here it is "every packet" at a rate of 65536,
 * "none" at 0, and undecided in between (no record is produced).
 */
import { Counter, DecisionSource, Flag, ModelAbi, RULE_MASK, Verdict } from "../layout.ts";
import { Mode, defaultControl, type Control } from "../control.ts";
import type { Prefix } from "../address.ts";
import { encodeRecord } from "../record.ts";
import { parsePacket, flowKey } from "./parse.ts";
import { flowFeatures, newFlow, updateFlow, type FlowRecord } from "./flow.ts";
import { applyRules, newSource, type SourceRecord } from "./rules.ts";

/** A model as the data path calls it: features in, r0 (ModelAbi) out. */
export type ModelFn = (features: readonly bigint[]) => number | bigint;

export interface Decision {
  readonly verdict: Verdict;
  readonly source: DecisionSource;
  readonly mode: Mode;
  readonly flags: number;
  readonly defaultVerdict: Verdict;
  readonly modelVerdict: Verdict;
  readonly modelConf: number;
  readonly features: readonly bigint[];
  readonly key: Uint8Array;
  /** The ring-buffer record, when this packet is certainly sampled. */
  readonly record?: Uint8Array;
}

const hex = (b: Uint8Array) => Buffer.from(b).toString("hex");
const ONE_SECOND = 1_000_000_000n;

/** Decode a model's r0 the way the model wrapper does: verdict = class != 0, confidence clamped to 1000. */
export function modelResult(r0: number | bigint): { verdict: Verdict; conf: number } {
  const v = BigInt.asUintN(64, BigInt(r0));
  const cls = Number(v & BigInt(ModelAbi.CLASS_MASK));
  const conf = Math.min(Number((v >> BigInt(ModelAbi.CONF_SHIFT)) & 0xffffn), ModelAbi.CONF_MAX);
  return { verdict: cls !== 0 ? Verdict.DROP : Verdict.PASS, conf };
}

function prefixMatches(p: Prefix, addr: Uint8Array): boolean {
  for (let bit = 0; bit < p.bits; bit++) {
    const mask = 0x80 >> (bit & 7);
    if ((p.address.bytes[bit >> 3]! & mask) !== (addr[bit >> 3]! & mask)) return false;
  }
  return true;
}

export class NetguardReference {
  control: Control = defaultControl();
  readonly flows = new Map<string, FlowRecord>();
  readonly sources = new Map<string, SourceRecord>();
  allowlist: Prefix[] = [];
  /** The model in the PROG_ARRAY slot; undefined = empty slot. */
  model: ModelFn | undefined;
  readonly budget = { windowStart: 0n, drops: 0n };
  readonly counters: bigint[] = new Array<bigint>(Counter.COUNT).fill(0n);

  private count(i: number): void {
    this.counters[i] = this.counters[i]! + 1n;
  }

  flow(key: Uint8Array): FlowRecord | undefined {
    return this.flows.get(hex(key));
  }

  /** Run one frame seen at `now` (ns); undefined when the frame is not parsed (it passes). */
  process(frame: Uint8Array, now: bigint): Decision | undefined {
    const c = this.control;
    const p = parsePacket(frame);
    if (!p) {
      this.count(Counter.UNPARSED);
      return undefined;
    }
    const { key, side } = flowKey(p);
    let flags = 0;
    let f = this.flows.get(hex(key));
    if (!f) {
      f = newFlow();
      this.flows.set(hex(key), f);
      flags |= Flag.NEW_FLOW;
    }
    if (updateFlow(f, p, side, now) === 1) flags |= Flag.DIR_BWD;
    const features = flowFeatures(f);

    let mode = c.mode > Mode.RECOMMENDATION ? Mode.EMERGENCY : c.mode;
    if (c.heartbeatTimeoutNs !== 0n && BigInt.asIntN(64, now - c.heartbeatNs) > BigInt.asIntN(64, c.heartbeatTimeoutNs)) {
      mode = Mode.EMERGENCY;
      flags |= Flag.HEARTBEAT_LOST;
    }
    const total = f.pkts[0] + f.pkts[1];
    let modelVerdict: Verdict = Verdict.PASS, modelConf = 0;
    if (mode !== Mode.EMERGENCY && f.cacheGen === c.generation && total < BigInt(f.cacheNext)) {
      flags |= Flag.MODEL_RAN | Flag.CACHED;
      modelVerdict = f.cacheVerdict as Verdict;
      modelConf = f.cacheConf;
    }

    if (this.allowlist.some((pre) => prefixMatches(pre, p.src))) flags |= Flag.ALLOW;
    let s = this.sources.get(hex(p.src));
    if (!s) this.sources.set(hex(p.src), (s = newSource()));
    flags |= applyRules(s, p, now, c);
    const defaultVerdict: Verdict = flags & RULE_MASK ? Verdict.DROP : Verdict.PASS;

    if (mode !== Mode.EMERGENCY && !(flags & Flag.CACHED)) {
      if (this.model) {
        ({ verdict: modelVerdict, conf: modelConf } = modelResult(this.model(features)));
        flags |= Flag.MODEL_RAN;
        f.cacheVerdict = modelVerdict;
        f.cacheConf = modelConf;
        f.cacheGen = c.generation;
        const step = total < BigInt(c.cacheMaxPkts) ? total : BigInt(c.cacheMaxPkts);
        f.cacheNext = Number(BigInt.asUintN(32, total + step));
        this.count(Counter.MODEL_EVALS);
      } else {
        flags |= Flag.MODEL_MISSING;
      }
    }

    const { verdict, source } = this.combine(mode, flags, defaultVerdict, modelVerdict, modelConf, now);
    this.count(Counter.DECISIONS + 2 * source + verdict);
    if (flags & Flag.MODEL_RAN) this.count(Counter.OPINIONS + 2 * defaultVerdict + modelVerdict);
    this.count(Counter.PACKETS);
    this.count(Counter.MODES + mode);
    if (flags & Flag.CACHED) this.count(Counter.MODEL_CACHED);
    if (flags & Flag.MODEL_MISSING) this.count(Counter.MODEL_MISSING);
    if (flags & Flag.HEARTBEAT_LOST) this.count(Counter.HEARTBEAT_LOST);

    let record: Uint8Array | undefined;
    if (c.sampleRate >= 65536) {
      record = encodeRecord({ tsNs: now, key, mode, defaultVerdict, modelVerdict, modelConf, finalVerdict: verdict, source, flags, generation: c.generation, features });
      this.count(Counter.SAMPLED);
    }
    return { verdict, source, mode, flags, defaultVerdict, modelVerdict, modelConf, features, key, ...(record ? { record } : {}) };
  }

  private combine(mode: Mode, flags: number, def: Verdict, model: Verdict, conf: number, now: bigint): { verdict: Verdict; source: DecisionSource } {
    const c = this.control;
    if (flags & Flag.ALLOW) return { verdict: Verdict.PASS, source: DecisionSource.ALLOWLIST };
    const vetoed = (flags & c.vetoMask & RULE_MASK) !== 0;
    switch (mode) {
      case Mode.EMERGENCY:
      case Mode.LEARNING:
        return { verdict: def, source: DecisionSource.DEFAULT };
      case Mode.COLLABORATION:
        if (!(flags & Flag.MODEL_RAN) || conf < c.confThreshold) return { verdict: def, source: DecisionSource.DEFAULT };
        if (vetoed) return { verdict: Verdict.DROP, source: DecisionSource.GUARD };
        if (model === Verdict.PASS) return { verdict: Verdict.PASS, source: DecisionSource.MODEL };
        if (BigInt.asUintN(64, now - this.budget.windowStart) >= ONE_SECOND) {
          this.budget.windowStart = now;
          this.budget.drops = 0n;
        }
        this.budget.drops += 1n;
        if (this.budget.drops - 1n >= BigInt(c.dropBudget)) return { verdict: def, source: DecisionSource.BUDGET };
        return { verdict: Verdict.DROP, source: DecisionSource.MODEL };
      case Mode.RECOMMENDATION:
        if (!(flags & Flag.MODEL_RAN)) return { verdict: def, source: DecisionSource.NO_MODEL };
        if (vetoed) return { verdict: Verdict.DROP, source: DecisionSource.GUARD };
        return { verdict: model, source: DecisionSource.MODEL };
    }
  }
}
