/**
 * @module test/proxy/conformance
 * The one conformance suite every subsystem adapter must pass: lifecycle, modes, heartbeat
 * fallback, feedback round trip, model deployment with rollback, bounds-checked
 * recommendations. A subsystem's test file calls `runConformance("name", makeHarness)`; the
 * harness supplies the adapter plus the few things only the subsystem knows (how to cause
 * decisions, its clock, a valid and an invalid model artefact).
 */
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import type { SubsystemAdapter } from "../../src/agent/adapter.ts";
import { parseConfig } from "../../src/agent/config.ts";
import { memoryLogger } from "../../src/agent/log.ts";
import { ProxyRunner } from "../../src/agent/runner.ts";
import { Store } from "../../src/agent/store/index.ts";
import { ErrorCode, isKmlibError } from "../../src/errors.ts";
import { type EfficiencyCounters, sinceSnapshot } from "../../src/proxy/efficiency.ts";
import { MODES, type Mode } from "../../src/proxy/mode.ts";

export interface ConformanceHarness {
  /** A fresh adapter, not yet initialised. */
  readonly adapter: SubsystemAdapter;
  /** Options for `init` (the suite adds heartbeatTimeoutMs). */
  readonly options: Readonly<Record<string, unknown>>;
  readonly heartbeatTimeoutMs: number;
  /** Cause exactly `n` decisions in the subsystem. */
  drive(n: number): Promise<void>;
  /** Let `ms` pass with no heartbeat (sleep, or advance a simulated clock). */
  stall(ms: number): Promise<void>;
  /** The clock the kernel side compares heartbeats with (CLOCK_MONOTONIC ns). */
  nowNs(): bigint;
  /** A valid compiled model; different `variant`s give different models. */
  goodArtefact(variant: number): Uint8Array;
  /** An artefact the kernel side refuses to load. */
  badArtefact(): Uint8Array;
  close(): Promise<void>;
}

const total = (c: EfficiencyCounters, m: Mode) => c[m].default.decided + c[m].model.decided;

async function running(h: ConformanceHarness): Promise<SubsystemAdapter> {
  const a = h.adapter;
  await a.init({ ...h.options, heartbeatTimeoutMs: h.heartbeatTimeoutMs });
  await a.start();
  await a.heartbeat(h.nowNs());
  return a;
}

async function withHarness(make: () => Promise<ConformanceHarness>, f: (h: ConformanceHarness) => Promise<void>): Promise<void> {
  const h = await make();
  try {
    await f(h);
  } finally {
    await h.close();
  }
}

export function runConformance(name: string, make: () => Promise<ConformanceHarness>, opts: { skip?: string | false } = {}): void {
  describe(`adapter conformance: ${name}`, { skip: opts.skip ?? false }, () => {
    test("lifecycle: the RFC's states, illegal transitions are KMLIB_ILLEGAL_STATE", () =>
      withHarness(make, async (h) => {
        const a = h.adapter;
        await assert.rejects(a.start(), (e: unknown) => isKmlibError(e, ErrorCode.IllegalState));
        await a.init({ ...h.options, heartbeatTimeoutMs: h.heartbeatTimeoutMs });
        assert.equal((await a.systemState()).lifecycle, "initialized");
        await a.start();
        assert.equal((await a.systemState()).lifecycle, "running");
        await assert.rejects(a.reinit(h.options), /illegal lifecycle transition from "running"/);
        await a.stop();
        assert.equal((await a.systemState()).lifecycle, "stopped");
        await a.reinit({ ...h.options, heartbeatTimeoutMs: h.heartbeatTimeoutMs });
        await a.start();
        await a.shutdown();
        await assert.rejects(a.setMode("learning"), (e: unknown) => isKmlibError(e, ErrorCode.IllegalState));
      }));

    test("modes: who decides in each mode, as the kernel side counts it", () =>
      withHarness(make, async (h) => {
        const a = await running(h);
        await a.deployModel(1, h.goodArtefact(1));
        const n = 200;
        for (const mode of MODES) {
          await a.setMode(mode);
          await a.heartbeat(h.nowNs());
          const s = await a.systemState();
          assert.equal(s.requestedMode, mode);
          assert.equal(s.effectiveMode, mode);
          const before = await a.estimateEfficiency();
          await h.drive(n);
          const d = sinceSnapshot(await a.estimateEfficiency(), before);
          assert.equal(total(d, mode), n, `${mode}: every decision counted in its mode`);
          for (const other of MODES) if (other !== mode) assert.equal(total(d, other), 0, `${mode}: nothing counted in ${other}`);
          if (mode === "emergency" || mode === "learning") assert.equal(d[mode].model.decided, 0, `${mode}: the model never decides`);
          if (mode === "recommendation") assert.ok(d[mode].model.decided > 0, "recommendation: the model decides");
        }
        await a.shutdown();
      }));

    test("heartbeat fallback: a stale heartbeat puts the kernel side in emergency on its own, with the default deciding", () =>
      withHarness(make, async (h) => {
        const a = await running(h);
        await a.deployModel(1, h.goodArtefact(1));
        await a.setMode("recommendation");
        await a.heartbeat(h.nowNs());
        assert.equal((await a.systemState()).effectiveMode, "recommendation");
        await h.stall(h.heartbeatTimeoutMs * 1.5);
        const s = await a.systemState();
        assert.equal(s.requestedMode, "recommendation", "the agent's request is untouched");
        assert.equal(s.effectiveMode, "emergency");
        assert.equal(s.fallback, "stale-heartbeat");
        const before = await a.estimateEfficiency();
        await h.drive(50);
        const d = sinceSnapshot(await a.estimateEfficiency(), before);
        assert.equal(d.emergency.default.decided, 50, "the default decided every one");
        assert.equal(total(d, "recommendation"), 0);
        await a.heartbeat(h.nowNs());
        assert.equal((await a.systemState()).effectiveMode, "recommendation", "a fresh heartbeat restores the mode");
        await a.shutdown();
      }));

    test("feedback round trip: learning-mode decisions come back as records and survive the store", () =>
      withHarness(make, async (h) => {
        const a = await running(h);
        await a.deployModel(3, h.goodArtefact(1));
        await a.setMode("learning");
        await a.heartbeat(h.nowNs());
        await a.backPropagate();
        await h.drive(100);
        const fb = await a.backPropagate();
        assert.equal(fb.length, 100);
        for (const r of fb) {
          assert.equal(r.proxy, a.proxy);
          assert.equal(r.mode, "learning");
          assert.equal(r.source, "default");
          assert.notEqual(r.modelDecision, undefined, "the model's shadow answer is reported");
          assert.equal(r.modelVersion, 3);
        }
        assert.equal(new Set(fb.map((r) => r.seq)).size, 100, "seqs are unique");
        using store = Store.open(":memory:");
        assert.equal(store.data.addFeedback(fb), 100);
        assert.equal(store.data.addFeedback(fb), 0, "replay is idempotent");
        assert.deepEqual(store.data.feedback(a.proxy), [...fb].sort((x, y) => x.seq - y.seq));
        assert.deepEqual(await a.backPropagate(), [], "drained");
        await a.shutdown();
      }));

    test("models: activation deploys, rollback restores, a failed load means emergency and keeps the old model", () =>
      withHarness(make, async (h) => {
        using store = Store.open(":memory:");
        const cfg = parseConfig({ proxies: [{ name: h.adapter.proxy, adapter: h.adapter.kind, options: h.options }] }).proxies[0]!;
        const { logger } = memoryLogger();
        const runner = new ProxyRunner({ adapter: h.adapter, store, config: cfg, heartbeatTimeoutMs: h.heartbeatTimeoutMs, logger, nowNs: () => h.nowNs() });
        const reg = store.registry;
        const add = (artefact: Uint8Array) => reg.register({ proxy: h.adapter.proxy, kind: "test", trainingData: "conformance", artefact, artefactFormat: "test" }).version;
        const v1 = add(h.goodArtefact(1)), v2 = add(h.goodArtefact(2)), v3 = add(h.badArtefact());
        await runner.start();
        const version = async () => (await h.adapter.systemState()).modelVersion;
        assert.equal(await version(), 0, "no model before activation");
        reg.activate(h.adapter.proxy, v1);
        await runner.tick();
        assert.equal(await version(), v1);
        reg.activate(h.adapter.proxy, v2);
        await runner.tick();
        assert.equal(await version(), v2);
        reg.rollback(h.adapter.proxy);
        await runner.tick();
        assert.equal(await version(), v1, "rollback redeploys the previous version");
        assert.throws(() => reg.activate(h.adapter.proxy, 99), (e: unknown) => isKmlibError(e, ErrorCode.NotFound));
        assert.equal(reg.active(h.adapter.proxy), v1, "a non-existent version changes nothing");
        reg.activate(h.adapter.proxy, v3);
        await runner.heartbeat();
        await runner.tick();
        assert.equal(await version(), v1, "the failed model is not deployed; the previous one stays");
        assert.equal(runner.controller.mode, "emergency");
        assert.equal((await h.adapter.systemState()).effectiveMode, "emergency");
        assert.ok(store.events({ proxy: h.adapter.proxy, kind: "model" }).some((e) => /version 3 failed to load/.test(e.message)));
        reg.rollback(h.adapter.proxy);
        await runner.tick();
        assert.equal(runner.controller.mode, "learning", "a good model loaded again: recovered");
        assert.deepEqual(runner.controller.history.map((t) => t.reason), ["model-load-failed", "recover"]);
        await runner.stop();
      }));

    test("recommendations: out of bounds is KMLIB_OUT_OF_BOUNDS and changes nothing kernel-side", () =>
      withHarness(make, async (h) => {
        const a = await running(h);
        const f = a.recommendationSchema.fields[0]!;
        const values = Object.fromEntries(a.recommendationSchema.fields.map((x) => [x.name, x.min]));
        const gen = (await a.systemState()).control.generation;
        await assert.rejects(a.applyRecommendation({ modelVersion: 5, values: { ...values, [f.name]: f.max + 1 } }), (e: unknown) => isKmlibError(e, ErrorCode.OutOfBounds));
        const s = await a.systemState();
        assert.equal(s.control.generation, gen, "control record not written");
        assert.equal(s.modelVersion, 0);
        await a.applyRecommendation({ modelVersion: 5, values });
        assert.equal((await a.systemState()).modelVersion, 5, "a valid recommendation carries its model version");
        await a.shutdown();
      }));
  });
}
