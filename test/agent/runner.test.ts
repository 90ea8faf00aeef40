import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { MockAdapter, mockArtefact } from "../../src/agent/adapters/mock.ts";
import { parseConfig } from "../../src/agent/config.ts";
import { memoryLogger } from "../../src/agent/log.ts";
import { ProxyRunner } from "../../src/agent/runner.ts";
import { Store } from "../../src/agent/store/index.ts";
import { addPaired, emptyPaired } from "../../src/proxy/paired.ts";

function setup(controller: Record<string, unknown> = {}) {
  let now = 1_000_000_000n;
  let ms = 0;
  const adapter = new MockAdapter("m0", { nowNs: () => now, seed: 11 });
  const store = Store.open(":memory:", { now: () => ms });
  const cfg = parseConfig({ controller: { minDecisions: 400, promoteStreak: 2, ...controller }, proxies: [{ name: "m0", adapter: "mock" }] }).proxies[0]!;
  const { logger, lines } = memoryLogger();
  const runner = new ProxyRunner({ adapter, store, config: cfg, heartbeatTimeoutMs: 1000, logger, now: () => ms, nowNs: () => now });
  const step = async (n: number) => {
    now += 10_000_000n;
    ms += 10;
    await runner.heartbeat();
    adapter.simulate(n);
    return runner.tick();
  };
  return { adapter, store, runner, step, lines };
}

describe("proxy runner (agent loop) with the mock adapter", () => {
  test("a better model is promoted to recommendation on evidence; transitions are logged with evidence", async () => {
    const { store, runner, step, lines } = setup();
    store.registry.register({ proxy: "m0", kind: "threshold", trainingData: "synthetic", artefact: mockArtefact(0.5), artefactFormat: "mock" });
    store.registry.activate("m0", 1);
    await runner.start();
    for (let i = 0; i < 60 && runner.controller.mode !== "recommendation"; i++) await step(200);
    assert.equal(runner.controller.mode, "recommendation");
    const modeEvents = store.events({ proxy: "m0", kind: "mode" }).reverse();
    assert.deepEqual(modeEvents.map((e) => [e.data.from, e.data.to, e.data.reason]), [["learning", "collaboration", "promote"], ["collaboration", "recommendation", "promote"]]);
    assert.ok((modeEvents[0]!.data.evidence as { gain: { lo: number } }).gain.lo > 0.01);
    const status = store.statuses()[0]!.status as { mode: string; effectiveMode: string; modelVersion: number; feedbackStored: number };
    assert.equal(status.mode, "recommendation");
    assert.equal(status.effectiveMode, "recommendation");
    assert.equal(status.modelVersion, 1);
    assert.ok(status.feedbackStored > 0);
    assert.ok(store.data.datasets("m0")[0]!.rows > 0, "published dataset rows stored");
    const parsed = lines.map((l) => JSON.parse(l) as { level: string; proxy?: string; event?: string });
    assert.ok(parsed.some((l) => l.event === "mode" && l.proxy === "m0"), "structured log lines carry proxy and event");
    await runner.stop();
  });

  test("without a model nothing is promoted; a CLI mode request is applied and answered", async () => {
    const { store, runner, step } = setup();
    await runner.start();
    for (let i = 0; i < 10; i++) await step(200);
    assert.equal(runner.controller.mode, "learning");
    const id = store.request("m0", "mode", { mode: "emergency", pin: true });
    await step(10);
    assert.equal(runner.controller.mode, "emergency");
    assert.match(store.requestById(id)!.result!, /^ok: mode emergency \(pinned\)/);
    const bad = store.request("m0", "mode", { mode: "turbo" });
    await step(10);
    assert.match(store.requestById(bad)!.result!, /^error: KMLIB_INVALID_ARGUMENT: unknown mode "turbo"/);
    await runner.stop();
  });

  test("a restarted agent finds the kernel side in emergency from a stale heartbeat, records it, and recovers", async () => {
    const { store, runner } = setup();
    // A kernel side that outlived its agent: in recommendation, last heartbeat 5 s ago.
    const fresh = new MockAdapter("m0", { nowNs: () => 6_000_000_000n });
    await fresh.init({});
    await fresh.start();
    await fresh.setMode("recommendation");
    await fresh.heartbeat(1_000_000_000n);
    assert.equal((await fresh.systemState()).effectiveMode, "emergency");
    // The new agent attaches to the running kernel side (no init/start of its own).
    const r2 = new ProxyRunner({ adapter: Object.assign(bind(fresh), { init: async () => {}, start: async () => {} }), store, config: runner.config, heartbeatTimeoutMs: 1000, logger: memoryLogger().logger, nowNs: () => 6_000_000_000n });
    await r2.start();
    assert.deepEqual(r2.controller.history.map((t) => t.reason), ["heartbeat-lost", "recover"]);
    assert.match(r2.controller.history[0]!.detail, /last heartbeat 5000 ms ago/);
    assert.equal((await fresh.systemState()).effectiveMode, "learning");
  });

  test("an adapter with paired outcomes gets a paired controller, weighing each outcome once; without them, rates", async () => {
    const { adapter, store, runner, step } = setup({ minDecisions: 3, promoteStreak: 2, promoteMargin: 0.1, demoteMargin: 0.05 });
    let paired = emptyPaired();
    const outcome = (gain: number) => (paired = addPaired(paired, "learning", gain));
    Object.assign(adapter, { estimatePaired: async () => paired });
    outcome(0.9); // before start: the baseline, not evidence
    await runner.start();
    assert.equal(runner.controller.evidenceKind, "paired");
    for (const g of [0.5, 0.52, 0.48]) outcome(g);
    await step(10);
    for (let i = 0; i < 5; i++) await step(10);
    assert.equal(runner.controller.mode, "learning", "rounds without a new outcome do not extend the streak");
    outcome(0.5);
    const t = await step(10);
    assert.equal(t?.to, "collaboration");
    assert.equal(t?.evidence?.paired?.n, 4, "the baseline outcome is not counted");
    const ev = store.events({ proxy: "m0", kind: "mode" })[0]!;
    assert.equal((ev.data.evidence as { paired: { n: number } }).paired.n, 4);
    const status = store.statuses()[0]!.status as { evidence: string; paired: Record<string, { n: number }> };
    assert.equal(status.evidence, "paired");
    assert.equal(status.paired.learning!.n, 5);
    await runner.stop();
    const plain = setup();
    await plain.runner.start();
    assert.equal(plain.runner.controller.evidenceKind, "rate");
    assert.equal((await plain.runner.status()).paired, undefined);
    await plain.runner.stop();
  });
});

/** The adapter's methods bound to it, so a test can override a few. */
function bind(a: MockAdapter): MockAdapter {
  const out: Record<string, unknown> = { kind: a.kind, proxy: a.proxy, columns: a.columns, recommendationSchema: a.recommendationSchema };
  for (const k of Object.getOwnPropertyNames(MockAdapter.prototype)) {
    const v = (a as unknown as Record<string, unknown>)[k];
    if (typeof v === "function" && k !== "constructor") out[k] = (v as (...x: unknown[]) => unknown).bind(a);
  }
  return out as unknown as MockAdapter;
}
