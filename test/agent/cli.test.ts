import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parquetMetadata } from "hyparquet";
import { mockArtefact } from "../../src/agent/adapters/mock.ts";
import { MAIN, runKmlib } from "../helpers/cli.ts";

const dir = mkdtempSync(join(tmpdir(), "kmlib-cli-"));
process.on("exit", () => rmSync(dir, { recursive: true, force: true }));

const kmlib = (...args: string[]) => runKmlib(args, 30_000);

describe("kmlib agent, status, mode, model, datasets", () => {
  test("a config with a wrong type is refused with the field named", () => {
    const bad = join(dir, "bad.json");
    writeFileSync(bad, JSON.stringify({ agent: { heartbeatMs: "often" } }));
    const r = kmlib("agent", "--config", bad, "--check");
    assert.equal(r.code, 1);
    assert.match(r.stderr, /^kmlib: KMLIB_INVALID_CONFIG: config .*bad\.json: agent\.heartbeatMs: must be integer\n$/);
  });

  test("end to end with the mock adapter: agent, model registry, mode set, metrics, export", async () => {
    const cfg = join(dir, "kmlib.json");
    writeFileSync(
      cfg,
      JSON.stringify({
        agent: { store: "store.db", heartbeatMs: 50, heartbeatTimeoutMs: 1000, evaluateMs: 50 },
        metrics: { port: 0 },
        controller: { minDecisions: 300, promoteStreak: 2 },
        proxies: [{ name: "m0", adapter: "mock", options: { decisionsPerPoll: 200, seed: 3 } }],
      }),
    );
    writeFileSync(join(dir, "model.json"), mockArtefact(0.5));
    let r = kmlib("model", "add", "m0", join(dir, "model.json"), "--kind", "threshold", "--training-data", "synthetic", "--format", "mock", "--metrics", '{"accuracy":1}', "-c", cfg);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /registered model version 1/);
    assert.equal(kmlib("model", "activate", "m0", "1", "-c", cfg).code, 0);
    r = kmlib("model", "activate", "m0", "9", "-c", cfg);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /^kmlib: KMLIB_NOT_FOUND: model version 9 of proxy "m0" does not exist \(versions: 1\)/);

    const agent = spawn(process.execPath, ["--import", "tsx", MAIN, "agent", "--config", cfg], { stdio: ["ignore", "ignore", "pipe"] });
    let log = "";
    agent.stderr.on("data", (c: Buffer) => (log += c.toString()));
    try {
      const port = await new Promise<number>((resolve, reject) => {
        const t = setInterval(() => {
          const line = log.split("\n").find((l) => l.includes("metrics endpoint listening"));
          if (line) {
            clearInterval(t);
            resolve((JSON.parse(line) as { port: number }).port);
          } else if (agent.exitCode !== null) {
            clearInterval(t);
            reject(new Error(`agent exited: ${log}`));
          }
        }, 50);
      });
      // Wait for the controller to promote the (better) model on evidence.
      let status: Array<{ proxy: string; mode: string; modelVersion: number; pinned: boolean }> = [];
      for (let i = 0; i < 100; i++) {
        status = JSON.parse(kmlib("status", "--json", "-c", cfg).stdout) as typeof status;
        if (status[0]?.mode === "recommendation") break;
        await new Promise((res) => setTimeout(res, 100));
      }
      assert.equal(status[0]?.mode, "recommendation", "promoted on evidence");
      assert.equal(status[0]?.modelVersion, 1);

      r = kmlib("mode", "set", "m0", "emergency", "--pin", "-c", cfg);
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stdout, /m0: ok: mode emergency \(pinned\)/);
      assert.match(kmlib("status", "-c", cfg).stdout, /m0\s+mock\s+emergency \(pinned\)\s+emergency/);
      assert.equal(kmlib("mode", "set", "m0", "turbo", "-c", cfg).code, 1);
      assert.match(kmlib("mode", "set", "nope", "learning", "-c", cfg).stderr, /KMLIB_NOT_FOUND: proxy "nope"/);

      const metrics = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
      assert.match(metrics, /# TYPE kmlib_decisions_total counter/);
      assert.doesNotMatch(metrics, /kmlib_paired/, "no paired families for a rate-evidence proxy");
      const m = /kmlib_decisions_total\{proxy="m0",mode="recommendation",source="model"\} (\d+)/.exec(metrics);
      assert.ok(m && Number(m[1]) > 0, "the model's decisions are counted");
      assert.match(metrics, /kmlib_proxy_mode\{proxy="m0",mode="emergency"\} 1/);

      const lines = log.trim().split("\n").map((l) => JSON.parse(l) as { level: string; msg: string; event?: string });
      assert.ok(lines.some((l) => l.event === "mode" && /promote/.test(l.msg)), "transitions in the JSON-lines log");
    } finally {
      agent.kill("SIGTERM");
      await new Promise((res) => agent.once("exit", res));
    }
    assert.equal(agent.exitCode, 0, log.slice(-2000));

    const ds = JSON.parse(kmlib("datasets", "list", "--json", "-c", cfg).stdout) as Array<{ id: string; rows: number; state: string }>;
    assert.equal(ds[0]?.id, "mock-stream");
    assert.ok(ds[0]!.rows > 0);
    const csv = join(dir, "d.csv"), pq = join(dir, "d.parquet");
    assert.equal(kmlib("datasets", "export", "m0", "mock-stream", "--format", "csv", "-o", csv, "-c", cfg).code, 0);
    const rows = readFileSync(csv, "utf8").trim().split("\n");
    assert.equal(rows[0], "seq,x,label");
    assert.equal(rows.length - 1, ds[0]!.rows);
    assert.equal(kmlib("datasets", "export", "m0", "mock-stream", "--format", "parquet", "-o", pq, "-c", cfg).code, 0);
    const b = readFileSync(pq);
    assert.equal(Number(parquetMetadata(b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength)).num_rows), ds[0]!.rows);
    const list = kmlib("model", "list", "m0", "-c", cfg).stdout;
    assert.match(list, /\*\s+1\s+threshold/);
  });
});
