import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { loadConfig, parseConfig } from "../../src/agent/config.ts";
import { DEFAULT_THRESHOLDS } from "../../src/proxy/controller.ts";
import { ErrorCode, isKmlibError } from "../../src/errors.ts";

const invalid = (raw: unknown, re: RegExp) =>
  assert.throws(() => parseConfig(raw), (e: unknown) => {
    assert.ok(isKmlibError(e, ErrorCode.InvalidConfig), String(e));
    assert.match(e.message, re);
    return true;
  });

describe("agent config", () => {
  test("an empty file gets every default: 1 s heartbeat timeout, metrics on 127.0.0.1", () => {
    const c = parseConfig({}, "/etc/kmlib");
    assert.equal(c.agent.heartbeatTimeoutMs, 1000);
    assert.equal(c.agent.store, "/etc/kmlib/kmlib-store.db");
    assert.deepEqual(c.metrics, { enabled: true, host: "127.0.0.1", port: 9464 });
    assert.deepEqual(c.controller, DEFAULT_THRESHOLDS);
    assert.deepEqual(c.proxies, []);
  });

  test("proxy settings get defaults and inherit the global controller thresholds", () => {
    const c = parseConfig({ controller: { minDecisions: 50, promoteMargin: 0.05 }, proxies: [{ name: "ng0", adapter: "mock", controller: { minDecisions: 7 } }] });
    const p = c.proxies[0]!;
    assert.equal(p.initialMode, "learning");
    assert.deepEqual(p.budget, { limit: 500, window: 1000 });
    assert.equal(p.controller.minDecisions, 7);
    assert.equal(p.controller.promoteMargin, 0.05);
    assert.equal(c.controller.minDecisions, 50);
  });

  test("wrong types name the field", () => {
    invalid({ agent: { heartbeatMs: "fast" } }, /^agent\.heartbeatMs: must be integer$/);
    invalid({ agent: { heartbeatMs: 1.5 } }, /agent\.heartbeatMs: must be integer/);
    invalid({ metrics: { port: 70000 } }, /metrics\.port: must be <= 65535/);
    invalid({ proxies: [{ name: "a", adapter: "mock", initialMode: "turbo" }] }, /proxies\[0\]\.initialMode: must be one of "emergency"/);
    invalid({ proxies: [{ name: "a" }] }, /proxies\[0\]\.adapter: is required/);
    invalid({ agent: { hearbeatMs: 100 } }, /agent\.hearbeatMs: unknown field/);
    invalid({ controller: { confidence: 0.3 } }, /controller\.confidence: must be > 0\.5/);
    invalid([], /\(root\): must be object/);
  });

  test("all errors are reported at once", () => {
    invalid({ agent: { heartbeatMs: "x", evaluateMs: -1 }, metrics: { enabled: "yes" } }, /agent\.heartbeatMs.*agent\.evaluateMs.*metrics\.enabled|agent\.heartbeatMs.*metrics\.enabled/);
  });

  test("cross-field rules: heartbeat inside its timeout, unique proxy names, thresholds consistent", () => {
    invalid({ agent: { heartbeatMs: 600, heartbeatTimeoutMs: 1000 } }, /agent\.heartbeatMs: must be at most half/);
    invalid({ proxies: [{ name: "a", adapter: "mock" }, { name: "a", adapter: "mock" }] }, /proxies\[1\]\.name: "a" used twice/);
    invalid({ proxies: [{ name: "a", adapter: "mock", controller: { demoteMargin: 0.5 } }] }, /proxies\[0\]\.controller\.demoteMargin/);
  });

  test("files: missing is KMLIB_NOT_FOUND, bad JSON is KMLIB_INVALID_CONFIG, both name the file", () => {
    const dir = mkdtempSync(join(tmpdir(), "kmlib-config-"));
    try {
      const p = join(dir, "agent.json");
      assert.throws(() => loadConfig(p), (e: unknown) => isKmlibError(e, ErrorCode.NotFound));
      writeFileSync(p, "{ agent: ");
      assert.throws(() => loadConfig(p), (e: unknown) => isKmlibError(e, ErrorCode.InvalidConfig) && e.message.includes(p));
      writeFileSync(p, JSON.stringify({ agent: { heartbeatMs: true } }));
      assert.throws(() => loadConfig(p), /agent\.json: agent\.heartbeatMs: must be integer/);
      writeFileSync(p, JSON.stringify({ agent: { store: "s.db" } }));
      assert.equal(loadConfig(p).agent.store, join(dir, "s.db"));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
