/**
 * An adapter's own events (`drainEvents`): the runner logs them after each poll with the mode at
 * the time, before the transition the same round may make; the agent's own kinds are refused.
 * `kmlib status` lists them among the last transitions.
 */
import { after, describe, test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { AdapterEvent } from "../../src/agent/adapter.ts";
import { MockAdapter } from "../../src/agent/adapters/mock.ts";
import { parseConfig } from "../../src/agent/config.ts";
import { memoryLogger } from "../../src/agent/log.ts";
import { ProxyRunner } from "../../src/agent/runner.ts";
import { Store } from "../../src/agent/store/index.ts";
import { addPaired, emptyPaired } from "../../src/proxy/paired.ts";

const MAIN = new URL("../../src/cli/main.ts", import.meta.url).pathname;
const dir = mkdtempSync(join(existsSync("/dev/shm") ? "/dev/shm" : tmpdir(), "kmlib-adapter-events-"));
after(() => rmSync(dir, { recursive: true, force: true }));

describe("proxy runner: adapter events", () => {
  test("logged in order with the mode, before the round's transition; reserved kinds dropped with a warning; shown by kmlib status", async () => {
    let ms = 1_000;
    const adapter = new MockAdapter("m0", { nowNs: () => BigInt(ms) * 1_000_000n, seed: 5 });
    const file = join(dir, "store.db");
    using store = Store.open(file, { now: () => ms });
    const cfg = parseConfig({ controller: { minDecisions: 2, promoteStreak: 1, promoteMargin: 0.1 }, proxies: [{ name: "m0", adapter: "mock" }] }).proxies[0]!;
    const { logger, lines } = memoryLogger();
    const runner = new ProxyRunner({ adapter, store, config: cfg, heartbeatTimeoutMs: 1000, logger, now: () => ms, nowNs: () => BigInt(ms) * 1_000_000n });
    let pending: AdapterEvent[] = [{ kind: "workload", message: "host workload part 1", data: { part: 1 } }];
    let paired = emptyPaired();
    Object.assign(adapter, {
      estimatePaired: async () => paired,
      drainEvents: () => {
        const out = pending;
        pending = [];
        return out;
      },
    });
    await runner.start();
    const round = async () => {
      ms += 10;
      await runner.heartbeat();
      return runner.tick();
    };
    paired = addPaired(paired, "learning", 0.5);
    assert.equal(await round(), undefined);
    pending = [
      { kind: "workload", message: "host workload part 2", data: { part: 2 } },
      { kind: "mode", message: "learning -> recommendation: forged" },
    ];
    paired = addPaired(paired, "learning", 0.5);
    const t = await round();
    assert.equal(t?.to, "collaboration");

    const log = store.events({ proxy: "m0" }).reverse();
    assert.deepEqual(
      log.map((e) => [e.kind, e.message.split(":")[0]]),
      [
        ["agent", "proxy started in learning (adapter mock, paired evidence)"],
        ["workload", "host workload part 1"],
        ["workload", "host workload part 2"],
        ["mode", "learning -> collaboration"],
      ],
    );
    assert.deepEqual(log[2]!.data, { part: 2, mode: "learning" }, "with the mode at the time");
    assert.ok(lines.some((l) => l.includes("reserved kind") && l.includes("forged")), "the forged transition is dropped with a warning");
    await runner.stop();

    // kmlib status lists them among the last transitions, in order, tagged with their kind.
    const r = spawnSync(process.execPath, ["--import", "tsx", MAIN, "status", "--store", file], { encoding: "utf8", timeout: 30_000 });
    assert.equal(r.status, 0, r.stderr);
    const tail = r.stdout.slice(r.stdout.indexOf("last transitions and subsystem events:"));
    assert.match(tail, /m0 {2}\[workload\] host workload part 1\n.*m0 {2}\[workload\] host workload part 2\n.*m0 {2}learning -> collaboration: promote/);
    assert.doesNotMatch(tail, /proxy started|forged/);
  });
});
