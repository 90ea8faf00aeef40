/**
 * @module subsystems/lfs-gc/proxy/agent-parts
 * What `kmlib agent` runs for an `lfs-gc` proxy (loaded on demand by the agent's registry):
 * the lfs-gc adapter on the agent's clock, simulating `writesPerPoll` host writes per round
 * (default logicalBlocks / 16); the model thread, which learns the lifetime table from the
 * `gc-block-history` portions the runner collected and stored, registers and activates a new
 * table version every `retrainWrites` host writes through the store's model registry (the
 * runner deploys it as it deploys any active version), and recommends victims from the
 * segment-state snapshot while the proxy is out of emergency; and the controller thresholds
 * for paired WA evidence (`GC_THRESHOLDS`) where the configuration names none.
 */
import type { AdapterContext } from "../../../agent/adapter.ts";
import type { ProxyParts } from "../../../agent/agent.ts";
import type { ModelThread, ModelThreadContext } from "../../../agent/model-thread.ts";
import { ErrorCode, KmlibError, isKmlibError } from "../../../errors.ts";
import { Mode } from "../../../proxy/mode.ts";
import { makeWorkload } from "../registry.ts";
import { DEFAULT_LFS_GC_OPTIONS, LfsGcAdapter, type LfsGcOptions, parseLfsGcOptions } from "./adapter.ts";
import { GcLearner, historyColumns } from "./learner.ts";
import { GC_THRESHOLDS } from "./session.ts";

/** Model kind and artefact format under which the tables go into the registry. */
export const TABLE_KIND = "lifetime-table";
export const TABLE_FORMAT = "kmlib-lfs-gc-table/1";

export class GcModelThread implements ModelThread {
  #learner: GcLearner | undefined;
  /** Records behind the last registered table. */
  #trainedAt = 0;
  /** Stream positions (seq) learned from: the first, and the end of the last table's data and of all. */
  #seq = { first: -1, tabled: -1, end: -1 };

  constructor(readonly adapter: LfsGcAdapter) {}

  /** The learner for the device the adapter was initialised with (a new one after a reinit to another size). */
  get learner(): GcLearner {
    const u = this.adapter.options.logicalBlocks;
    if (this.#learner?.logicalBlocks !== u) {
      this.#learner = new GcLearner(u);
      this.#trainedAt = 0;
      this.#seq = { first: -1, tabled: -1, end: -1 };
    }
    return this.#learner;
  }

  async learn(ctx: ModelThreadContext): Promise<void> {
    const l = this.learner;
    for (const p of ctx.portions) {
      if (p.dataset.id !== "gc-block-history") continue;
      l.ingest(historyColumns(p));
      if (this.#seq.first < 0) this.#seq.first = this.#seq.tabled = p.portion.offset;
      this.#seq.end = p.portion.offset + p.portion.size;
    }
    const due = l.records > this.#trainedAt && l.records - this.#trainedAt >= this.adapter.options.retrainWrites;
    if (!due) return;
    const s = this.#seq;
    const trainingData = `gc-block-history seq [${s.first}, ${s.end}) (new since the previous table: [${s.tabled}, ${s.end}))`;
    this.#trainedAt = l.records;
    s.tabled = s.end;
    const m = ctx.store.registry.register({
      proxy: ctx.proxy,
      kind: TABLE_KIND,
      trainingData,
      metrics: { records: l.records, clock: l.now },
      artefact: l.artefact(),
      artefactFormat: TABLE_FORMAT,
      note: "trained by the agent's lfs-gc model thread",
    });
    ctx.store.registry.activate(ctx.proxy, m.version, `lfs-gc model thread: lifetime table from ${l.records} history records`);
  }

  async recommend(ctx: ModelThreadContext): Promise<void> {
    if (!this.adapter.options.recommend || ctx.mode === Mode.emergency || ctx.deployedVersion === undefined) return;
    await this.learner.recommend(this.adapter, ctx.deployedVersion);
  }
}

/**
 * Checks the options as init will (so a bad one names its proxy when the agent starts) and
 * builds the parts. The workload (or each part of a shifting sequence) is built once here only
 * to check its name.
 */
export async function lfsGcParts(proxy: string, options: Readonly<Record<string, unknown>>, ctx: AdapterContext): Promise<ProxyParts> {
  const u = typeof options.logicalBlocks === "number" ? options.logicalBlocks : DEFAULT_LFS_GC_OPTIONS.logicalBlocks;
  const defaults: Partial<LfsGcOptions> = { writesPerPoll: Math.max(1, Math.floor(u / 16)) };
  const o = parseLfsGcOptions({ ...defaults, ...options });
  if (o.blocksPerSegment > o.logicalBlocks) throw new KmlibError(ErrorCode.InvalidConfig, `lfs-gc options.blocksPerSegment: ${o.blocksPerSegment} exceeds logicalBlocks (${o.logicalBlocks})`);
  if (o.writesPerPoll > o.historyCapacity) throw new KmlibError(ErrorCode.InvalidConfig, `lfs-gc options.writesPerPoll: ${o.writesPerPoll} exceeds historyCapacity (${o.historyCapacity}): the ring would lose history between polls`);
  try {
    makeWorkload(o.workload, { logicalBlocks: o.logicalBlocks, seed: o.seed });
  } catch (e) {
    if (isKmlibError(e)) throw new KmlibError(ErrorCode.InvalidConfig, `lfs-gc options.workload: ${e.message}`, { cause: e });
    throw e;
  }
  const adapter = new LfsGcAdapter(proxy, { defaults, ...(ctx.nowNs ? { nowNs: ctx.nowNs } : {}) });
  return { adapter, modelThread: new GcModelThread(adapter), thresholds: GC_THRESHOLDS };
}
