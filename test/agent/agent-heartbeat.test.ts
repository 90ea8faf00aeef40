import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { type ChildProcess, spawn } from "node:child_process";
import { once } from "node:events";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { FeedbackDataPath } from "../../src/agent/kernel/feedback-data-path.ts";
import { KernelProxy } from "../../src/agent/kernel/kernel-proxy.ts";
import { Store } from "../../src/agent/store/index.ts";
import { unpin, XdpAction } from "../../src/bpf/index.ts";
import { monotonicNs } from "../../src/proxy/control.ts";
import { sinceSnapshot } from "../../src/proxy/efficiency.ts";
import { assertAnswers, awaitFallback } from "../helpers/fallback.ts";
import { requires } from "../helpers/kernel.ts";

const MAIN = new URL("../../src/cli/main.ts", import.meta.url).pathname;
const PACKET = new Uint8Array(64);

function startAgent(cfg: string): { child: ChildProcess; log: () => string; started: Promise<void> } {
  const child = spawn(process.execPath, ["--import", "tsx", MAIN, "agent", "--config", cfg], { stdio: ["ignore", "ignore", "pipe"] });
  let log = "";
  child.stderr!.on("data", (c: Buffer) => (log += c.toString()));
  const started = new Promise<void>((resolve, reject) => {
    const t0 = Date.now();
    const iv = setInterval(() => {
      if (log.includes('"msg":"agent started"')) {
        clearInterval(iv);
        resolve();
      } else if (child.exitCode !== null || Date.now() - t0 > 20_000) {
        clearInterval(iv);
        reject(new Error(`agent did not start: ${log}`));
      }
    }, 20);
  });
  return { child, log: () => log, started };
}

describe("kmlib agent on the real kernel", () => {
  test("SIGKILL the agent: its pinned eBPF proxy falls back to emergency at heartbeat + timeout; a restarted agent records it and recovers", async (t) => {
    if (!requires(t, "bpf")) return;
    const dir = mkdtempSync(join(tmpdir(), "kmlib-agent-hb-"));
    const pin = `test-agent-${process.pid}`;
    const timeoutMs = 400;
    unpin(pin);
    const cfg = join(dir, "kmlib.json");
    writeFileSync(
      cfg,
      JSON.stringify({
        agent: { store: "store.db", heartbeatMs: 50, heartbeatTimeoutMs: timeoutMs, evaluateMs: 100 },
        metrics: { enabled: false },
        proxies: [{ name: "hb0", adapter: "ebpf-demo", initialMode: "recommendation", options: { pin } }],
      }),
    );
    let agent = startAgent(cfg);
    try {
      await agent.started;
      // A data path of our own on the agent's pinned control, counters and budget maps.
      using kp = KernelProxy.open("hb0", { pin });
      assert.ok(kp.reattached);
      using dp = FeedbackDataPath.load(kp, { name: "kmlib_hb", ringBytes: 1 << 16 });
      const { prog } = dp;
      dp.writeRecommendation(1n, XdpAction.DROP, 65536n);
      await assertAnswers(prog, XdpAction.DROP, timeoutMs * 2, "recommendation: the model decides while the agent heartbeats");
      const killedAt = monotonicNs();
      agent.child.kill("SIGKILL");
      await once(agent.child, "exit");
      const deadline = kp.readControl().heartbeatNs + BigInt(timeoutMs) * 1_000_000n;
      const { lastModelAt, firstDefaultAt } = await awaitFallback(prog, XdpAction.PASS, killedAt, timeoutMs);
      t.diagnostic(`kmlib agent SIGKILLed: kernel side in emergency after ${(Number(firstDefaultAt - killedAt) / 1e6).toFixed(1)} ms (timeout ${timeoutMs} ms)`);
      assert.ok(firstDefaultAt > deadline && lastModelAt <= deadline, "switch exactly at last heartbeat + timeout");
      assert.ok(Number(firstDefaultAt - killedAt) / 1e6 <= timeoutMs + 150);
      const before = kp.readCounters();
      prog.testRun({ data: PACKET, repeat: 50 });
      const d = sinceSnapshot(kp.readCounters(), before);
      assert.equal(d.emergency.default.decided, 50, "emergency: the default decides");
      assert.equal(kp.readControl().mode, "recommendation", "the kernel fell back alone; the requested mode is untouched");

      agent = startAgent(cfg);
      await agent.started;
      {
        using store = Store.open(join(dir, "store.db"), { readonly: true });
        const reasons = store.events({ proxy: "hb0", kind: "mode" }).reverse().map((e) => e.data.reason);
        assert.deepEqual(reasons, ["heartbeat-lost", "recover"], "the restarted agent records the fallback and recovers to learning");
        assert.match(store.events({ proxy: "hb0", kind: "mode" }).at(-1)!.message, /kernel side found in emergency: last heartbeat \d+ ms ago/);
      }
      assert.equal(kp.readControl().mode, "learning");
      assert.equal(prog.testRun({ data: PACKET }).retval, XdpAction.PASS, "learning: the default decides, the model in shadow");
      agent.child.kill("SIGTERM");
      await once(agent.child, "exit");
      assert.equal(agent.child.exitCode, 0, agent.log().slice(-1500));
    } finally {
      if (agent.child.exitCode === null && agent.child.signalCode === null) agent.child.kill("SIGKILL");
      unpin(pin);
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
