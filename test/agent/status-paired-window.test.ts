/**
 * The paired gain `kmlib status` shows is the one the controller weighs now: the outcomes since
 * the last transition, not the whole run (which after a demotion mixes in the epochs before it).
 * The whole-run figure stays in the status (`paired`, in --json).
 */
import { after, describe, test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { MockAdapter } from "../../src/agent/adapters/mock.ts";
import { parseConfig } from "../../src/agent/config.ts";
import { memoryLogger } from "../../src/agent/log.ts";
import { ProxyRunner, type ProxyStatus } from "../../src/agent/runner.ts";
import { Store } from "../../src/agent/store/index.ts";
import type { Mode } from "../../src/proxy/mode.ts";
import { addPaired, emptyPaired } from "../../src/proxy/paired.ts";

const MAIN = new URL("../../src/cli/main.ts", import.meta.url).pathname;
const dir = mkdtempSync(join(existsSync("/dev/shm") ? "/dev/shm" : tmpdir(), "kmlib-status-paired-"));
after(() => rmSync(dir, { recursive: true, force: true }));

const mean = (xs: readonly number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;

describe("kmlib status: paired gain over the controller's window", () => {
  test("after a demotion, status shows the gain since it (the controller's evidence), the whole run stays in paired", async () => {
    let ms = 1_000;
    const adapter = new MockAdapter("m0", { nowNs: () => BigInt(ms) * 1_000_000n, seed: 3 });
    const file = join(dir, "store.db");
    using store = Store.open(file, { now: () => ms });
    const cfg = parseConfig({ controller: { minDecisions: 3, promoteStreak: 2, promoteMargin: 0.1, demoteMargin: 0.05 }, proxies: [{ name: "m0", adapter: "mock" }] }).proxies[0]!;
    const runner = new ProxyRunner({ adapter, store, config: cfg, heartbeatTimeoutMs: 1000, logger: memoryLogger().logger, now: () => ms, nowNs: () => BigInt(ms) * 1_000_000n });
    let paired = emptyPaired();
    Object.assign(adapter, { estimatePaired: async () => paired });
    const outcome = async (mode: Mode, gain: number) => {
      paired = addPaired(paired, mode, gain);
      ms += 10;
      await runner.heartbeat();
      return runner.tick();
    };
    const status = () => store.statuses()[0]!.status as unknown as ProxyStatus;

    paired = addPaired(paired, "learning", 0.9); // before start: neither window counts it, the whole run does
    await runner.start();
    const started = ms;
    const early = [0.5, 0.52, 0.48, 0.5];
    let t;
    for (const g of early) t = await outcome("learning", g);
    assert.equal(t?.to, "collaboration", "promoted on the early gains");
    assert.equal(status().pairedWeighedSince, t!.at);
    assert.equal(status().pairedWeighed!.collaboration!.n, 0, "the new mode's window starts empty");
    assert.ok(t!.at > started);

    const poor = [-0.01, -0.012, -0.008];
    for (const g of poor) t = (await outcome("collaboration", g)) ?? t;
    assert.deepEqual([t?.from, t?.to, t?.reason], ["collaboration", "learning", "demote"]);
    const demotedAt = t!.at;

    const late = [0.02, 0.03];
    for (const g of late) assert.equal(await outcome("learning", g), undefined, "two outcomes: not enough to move");
    const s = status();
    assert.equal(s.mode, "learning");
    assert.equal(s.pairedWeighedSince, demotedAt);
    const w = s.pairedWeighed!.learning!;
    assert.equal(w.n, late.length, "only the outcomes since the demotion");
    assert.ok(Math.abs(w.mean - mean(late)) < 1e-6, `${w.mean} vs ${mean(late)}`);
    assert.ok(w.lo <= w.mean && w.mean <= w.hi);
    const whole = s.paired!.learning!;
    assert.equal(whole.n, 1 + early.length + late.length, "the whole run: the baseline, the early and the late outcomes");
    assert.ok(Math.abs(whole.mean - mean([0.9, ...early, ...late])) < 1e-6);
    assert.equal(s.paired!.collaboration!.n, poor.length);

    // The CLI: the table shows the window's figure; --json carries both.
    const cli = (...args: string[]) => spawnSync(process.execPath, ["--import", "tsx", MAIN, ...args], { encoding: "utf8", timeout: 30_000 });
    const text = cli("status", "--store", file);
    assert.equal(text.status, 0, text.stderr);
    const pct = (x: number) => `${(100 * x).toFixed(1)}%`;
    assert.ok(text.stdout.includes(`${pct(w.mean)} [${pct(w.lo)}, ${pct(w.hi)}] n=${w.n}`), text.stdout);
    assert.ok(!text.stdout.includes(`n=${whole.n}`), "not the whole run's figure");
    assert.match(text.stdout, /since the last transition \(whole run: --json, paired\)/);
    const json = JSON.parse(cli("status", "--store", file, "--json").stdout) as ProxyStatus[];
    assert.equal(json[0]!.pairedWeighed!.learning!.n, w.n);
    assert.equal(json[0]!.paired!.learning!.n, whole.n);
    await runner.stop();
  });
});
