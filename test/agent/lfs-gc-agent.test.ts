/**
 * `kmlib agent` running an lfs-gc proxy end to end: the real Agent (SQLite store in a temp
 * directory, the real runner, the lfs-gc adapter and model thread from the registry) on a
 * simulated clock. The runner stores the published block history, the model thread trains the
 * lifetime table and registers and activates each version through the model registry, the
 * runner deploys it, and the mode controller weighs the paired per-epoch WA outcomes.
 */
import { after, describe, test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Agent } from "../../src/agent/agent.ts";
import { CONFIG_SCHEMA } from "../../src/agent/config-schema.ts";
import { loadConfig, parseConfig } from "../../src/agent/config.ts";
import { memoryLogger } from "../../src/agent/log.ts";
import { renderMetrics } from "../../src/agent/metrics.ts";
import type { ProxyStatus } from "../../src/agent/runner.ts";
import { ErrorCode, isKmlibError } from "../../src/errors.ts";
import type { Evidence } from "../../src/proxy/controller.ts";
import { sinceSnapshot } from "../../src/proxy/efficiency.ts";
import { DEFAULT_LFS_GC_OPTIONS } from "../../src/subsystems/lfs-gc/proxy/adapter.ts";
import { TABLE_FORMAT, TABLE_KIND } from "../../src/subsystems/lfs-gc/proxy/agent-parts.ts";
import { GC_THRESHOLDS } from "../../src/subsystems/lfs-gc/proxy/session.ts";

const MAIN = new URL("../../src/cli/main.ts", import.meta.url).pathname;
const EXAMPLE = new URL("../../examples/agent-lfs-gc.json", import.meta.url).pathname;
// A real SQLite file; in memory-backed /dev/shm where there is one, since the store fsyncs
// every transaction (synchronous=FULL) and a round makes several.
const dir = mkdtempSync(join(existsSync("/dev/shm") ? "/dev/shm" : tmpdir(), "kmlib-gc-agent-"));
after(() => rmSync(dir, { recursive: true, force: true }));

/** The example's device (and the simulation's mode tests'): smaller ones give noisier epochs. */
const U = 16384;
const PER_ROUND = U / 16;
const ROUND_MS = 50;

async function runAgent(workload: string, rounds: number, stopAt?: string, retain?: { datasetRows?: number; feedback?: number; models?: number }) {
  let ms = 1_000_000;
  const round = async () => {
    ms += ROUND_MS;
    await agent.heartbeat();
    await agent.tick();
  };
  const config = parseConfig({
    agent: { store: join(dir, `${workload}.db`), heartbeatMs: 100, heartbeatTimeoutMs: 1000, evaluateMs: ROUND_MS },
    metrics: { enabled: false },
    proxies: [{ name: "gc0", adapter: "lfs-gc", ...(retain ? { retain } : {}), options: { workload, logicalBlocks: U, epochWrites: U, writesPerPoll: PER_ROUND, seed: 1 } }],
  });
  const { logger } = memoryLogger();
  const agent = await Agent.start(config, { logger, now: () => ms, nowNs: () => BigInt(ms) * 1_000_000n, timers: false });
  const runner = agent.runners[0]!;
  let done = 0;
  for (; done < rounds && runner.controller.mode !== stopAt; done++) await round();
  return { agent, runner, round, rounds: done, store: agent.store, storePath: config.agent.store };
}

describe("kmlib agent runs an lfs-gc proxy", () => {
  test("hotcold-90-10: the learned table is promoted to recommendation on paired WA evidence, every move logged with it", async () => {
    const { agent, runner, round, rounds, store, storePath } = await runAgent("hotcold-90-10", (30 * U) / PER_ROUND, "recommendation");
    try {
      assert.equal(runner.controller.evidenceKind, "paired");
      assert.equal(runner.controller.mode, "recommendation", `after ${rounds} rounds`);
      const moves = store.events({ proxy: "gc0", kind: "mode" }).reverse();
      assert.deepEqual(
        moves.map((e) => [e.data.from, e.data.to, e.data.reason]),
        [
          ["learning", "collaboration", "promote"],
          ["collaboration", "recommendation", "promote"],
        ],
      );
      for (const e of moves) {
        const ev = e.data.evidence as Evidence;
        assert.ok(ev.paired, `${e.message}: paired evidence recorded`);
        assert.ok(ev.paired.n >= GC_THRESHOLDS.minDecisions!, `${ev.paired.n} epochs behind it`);
        assert.ok(ev.gain.lo > GC_THRESHOLDS.promoteMargin!, `gain lower bound ${ev.gain.lo}`);
        assert.match(e.message, /model gain .* over \d+ paired outcomes: beats default by more than 10\.00%/);
      }
      // The model thread's tables went through the registry; the runner deployed the active one.
      const models = store.registry.list("gc0");
      assert.ok(models.length >= 2, `${models.length} table versions registered`);
      assert.ok(models.every((m) => m.kind === TABLE_KIND && m.artefactFormat === TABLE_FORMAT));
      // Each names the history it learned from (the stream starts after the device's initial fill).
      const R = DEFAULT_LFS_GC_OPTIONS.retrainWrites;
      assert.equal(models[1]!.trainingData, `gc-block-history seq [${U}, ${U + 2 * R}) (new since the previous table: [${U + R}, ${U + 2 * R}))`);
      const active = store.registry.active("gc0")!;
      assert.equal(active, models.at(-1)!.version);
      assert.equal(runner.deployedVersion, active);
      assert.ok(store.events({ proxy: "gc0", kind: "model" }).some((e) => e.message === `model version ${active} deployed (was ${active - 1})`));
      // Every host write's history record reached the store.
      const history = store.data.datasets("gc0").find((d) => d.id === "gc-block-history");
      assert.equal(history?.rows, rounds * PER_ROUND);
      // Two more epochs: the model decides there, and it keeps its place.
      const before = await runner.adapter.estimateEfficiency();
      for (let i = 0; i < (2 * U) / PER_ROUND; i++) await round();
      const d = sinceSnapshot(await runner.adapter.estimateEfficiency(), before).recommendation;
      assert.ok(d.model.decided > 0 && d.default.decided === 0, `model ${d.model.decided}, default ${d.default.decided} decisions in recommendation`);
      assert.equal(runner.controller.mode, "recommendation");
      const status = await runner.status();
      assert.equal(status.evidence, "paired");
      assert.equal(status.modelVersion, store.registry.active("gc0"));
      assert.ok(status.paired!.collaboration!.n >= GC_THRESHOLDS.minDecisions! && status.paired!.collaboration!.lo > GC_THRESHOLDS.promoteMargin!);
      const metrics = renderMetrics(await agent.statuses());
      const gain = /kmlib_paired_gain_lower\{proxy="gc0",mode="collaboration"\} (\S+)/.exec(metrics);
      assert.ok(gain && Number(gain[1]) > GC_THRESHOLDS.promoteMargin!, "the Prometheus endpoint carries the paired gain");
    } finally {
      await agent.stop();
    }
    // kmlib status shows it like any other proxy, from the store the agent left.
    const r = spawnSync(process.execPath, ["--import", "tsx", MAIN, "status", "--store", storePath], { encoding: "utf8", timeout: 30_000 });
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /gc0\s+lfs-gc\s+recommendation\s+recommendation\s+\d+/);
    assert.match(r.stdout, /paired gain/);
    assert.match(r.stdout, /learning -> collaboration: promote/);
    const json = JSON.parse(spawnSync(process.execPath, ["--import", "tsx", MAIN, "status", "--json", "--store", storePath], { encoding: "utf8", timeout: 30_000 }).stdout) as ProxyStatus[];
    assert.equal(json[0]?.adapter, "lfs-gc");
    assert.equal(json[0]?.mode, "recommendation");
  });

  test("uniform: nothing to learn, it stays in learning (the store keeping only the newest history and feedback)", async () => {
    const { agent, runner, store, rounds } = await runAgent("uniform", (16 * U) / PER_ROUND, undefined, { datasetRows: 2 * U, feedback: 1000, models: 3 });
    try {
      const kept = [...store.data.rows("gc0", "gc-block-history")].map((r) => r.seq);
      assert.equal(kept.length, 2 * U);
      assert.equal(kept.at(-1), U + rounds * PER_ROUND - 1, "the newest record (after the device's initial fill) is kept");
      assert.equal(store.data.feedbackCount("gc0"), 1000);
      assert.equal(runner.controller.mode, "learning");
      assert.deepEqual(store.events({ proxy: "gc0", kind: "mode" }), []);
      const paired = (await runner.status()).paired!;
      assert.ok(paired.learning!.n >= 12, `${paired.learning!.n} epochs weighed`);
      assert.ok(paired.learning!.lo <= GC_THRESHOLDS.promoteMargin!, "no confident gain worth the switch");
      const models = store.registry.list("gc0");
      assert.ok(models.length > 3, `${models.length} tables were still trained and deployed (in shadow)`);
      const withBytes = models.filter((m) => m.artefactSize > 0);
      assert.ok(withBytes.length <= 4 && withBytes.some((m) => m.active), `${withBytes.length} artefacts kept (retain.models 3, plus the stack's top), the active one among them`);
      assert.equal(runner.deployedVersion, store.registry.active("gc0"));
    } finally {
      await agent.stop();
    }
  });

  test("options: checked by the config schema and again when the agent starts, naming the field", async () => {
    const cfg = (options: Record<string, unknown>) => ({ agent: { store: join(dir, "bad.db") }, metrics: { enabled: false }, proxies: [{ name: "gc0", adapter: "lfs-gc", options }] });
    assert.throws(
      () => parseConfig(cfg({ spareFactor: 1.5, blocksPerSegment: 1, fallback: "lru", writesPerPoll: 0, heartbeatTimeoutMs: 5, typo: 1 })),
      (e: unknown) =>
        isKmlibError(e, ErrorCode.InvalidConfig) &&
        [
          "proxies[0].options.spareFactor: must be <= 0.9",
          "proxies[0].options.blocksPerSegment: must be >= 2",
          'proxies[0].options.fallback: must be one of "greedy", "cost-benefit", "f2fs-cb", "fifo"',
          "proxies[0].options.writesPerPoll: must be >= 1",
          "proxies[0].options.heartbeatTimeoutMs: unknown field",
          "proxies[0].options.typo: unknown field",
        ].every((m) => e.message.includes(m)) &&
        !e.message.includes('"then"'),
    );
    const start = (options: Record<string, unknown>) => Agent.start(parseConfig(cfg(options)), { logger: memoryLogger().logger, timers: false });
    await assert.rejects(start({ workload: "hotcold-95" }), (e: unknown) => isKmlibError(e, ErrorCode.InvalidConfig) && /^proxies\[0\] \(gc0\): lfs-gc options\.workload: unknown workload "hotcold-95"/.test(e.message));
    await assert.rejects(start({ logicalBlocks: 64, blocksPerSegment: 128 }), /proxies\[0\] \(gc0\): lfs-gc options\.blocksPerSegment: 128 exceeds logicalBlocks \(64\)/);
    await assert.rejects(start({ writesPerPoll: 4096, historyCapacity: 1024 }), /writesPerPoll: 4096 exceeds historyCapacity \(1024\)/);
    // The schema and the adapter know the same options (less the proxy fields the runner adds).
    const runnerFields = ["heartbeatTimeoutMs", "confidenceThreshold", "budgetLimit", "budgetWindow"];
    assert.deepEqual(Object.keys(CONFIG_SCHEMA.definitions.lfsGcOptions.properties).sort(), Object.keys(DEFAULT_LFS_GC_OPTIONS).filter((k) => !runnerFields.includes(k)).sort());
  });

  test("the example configuration is valid and names an lfs-gc proxy", () => {
    const c = loadConfig(EXAMPLE);
    assert.equal(c.proxies[0]?.adapter, "lfs-gc");
    assert.equal(c.proxies[0]?.options.workload, "hotcold-90-10");
  });
});
