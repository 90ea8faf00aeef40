/**
 * @module test/netguard/e2e-demo
 * The main job on the real kernel, shortened (2.5 s phases, no CIC-IDS2017 path, no
 * heartbeat check — e2e-heartbeat.test.ts has it): asserts the report's invariants, not its
 * exact figures — the controller promoted the model with its reasons recorded, attacks were
 * dropped in recommendation mode while benign traffic passed, the false-positive rate stayed
 * bounded, nothing was lost across swaps, and the kernel's model answered exactly as the
 * TypeScript reference.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { proceeds, requires } from "../helpers/kernel.ts";
import { runNetguardDemo } from "../../src/subsystems/netguard/e2e/pipeline.ts";
import { netguardDemoMissing } from "../../src/cli/commands/netguard.ts";
import { labStatus } from "../../src/subsystems/netguard/lab/index.ts";

const quiet = { phase: <T>(_n: string, fn: () => T | Promise<T>) => Promise.resolve(fn()), info: () => {} };

test("netguard end to end: promotion on measured efficiency, attacks dropped in recommendation, benign passes, no loss in swaps", { timeout: 180_000 }, async (t) => {
  if (!requires(t, "bpf", "netns", "hping3") || !proceeds(t, netguardDemoMissing())) return;
  const out = mkdtempSync(join(tmpdir(), "kmlib-e2e-test-"));
  try {
    const r = await runNetguardDemo(quiet, { tag: "e2etest", out, phaseMs: 2500, cicids: false, heartbeat: false, costRounds: 1, promotionRounds: 2 });

    // the headline fields exist with sane values
    for (const k of ["f1", "falsePositiveRate", "nsPerPacket", "packetsLostInSwap"] as const) assert.equal(typeof r[k], "number", k);
    assert.equal(typeof r.defaultRules.f1, "number");

    // promotion happened, one step at a time, each with its evidence
    const promotions = r.modeTransitions.filter((x) => x.reason === "promote");
    assert.ok(promotions.some((x) => x.from === "learning" && x.to === "collaboration"), JSON.stringify(r.modeTransitions));
    assert.ok(promotions.some((x) => x.from === "collaboration" && x.to === "recommendation"), JSON.stringify(r.modeTransitions));
    for (const p of promotions) assert.match(p.detail, /beats default by more than/);
    assert.equal(r.promotedTo, "recommendation");

    // attacks dropped in recommendation mode, benign traffic passing
    const rec = r.heldOut.byMode.recommendation!;
    assert.ok(rec.attack.packets > 1000, `attack packets judged in recommendation: ${rec.attack.packets}`);
    assert.ok(rec.attack.dropped / rec.attack.packets > 0.9, `attack drop rate ${rec.attack.dropped}/${rec.attack.packets}`);
    assert.ok(rec.benign.packets > 1000);
    assert.ok(rec.benign.dropped / rec.benign.packets < 0.02, `benign drop rate ${rec.benign.dropped}/${rec.benign.packets}`);
    assert.ok(r.heldOut.curl.requests > 20 && r.heldOut.curl.ok / r.heldOut.curl.requests >= 0.95, `curl ${r.heldOut.curl.ok}/${r.heldOut.curl.requests}`);

    // bounded false positives on held-out flows, and a detector worth the name
    assert.ok(r.falsePositiveRate <= 0.05, `model FPR ${r.falsePositiveRate}`);
    assert.ok(r.f1 >= 0.8, `model F1 ${r.f1}`);

    // zero loss across swaps under load
    assert.ok(r.swap.sent > 1000 && r.swap.swaps > 20, JSON.stringify(r.swap));
    assert.equal(r.packetsLostInSwap, 0);
    assert.equal(r.swap.seen, r.swap.sent);
    assert.equal(r.swap.ringbufFail, 0);
    assert.ok(r.swap.generations >= 2);

    // the kernel's model is the trained model, bit for bit
    assert.ok(r.kernelAgreement.checked > 1000);
    assert.equal(r.kernelAgreement.agree, r.kernelAgreement.checked);

    // a model costs time over an empty program, and a plausible amount of it
    assert.ok(r.nsPerPacket > r.cost.emptyNsPerPacket && r.nsPerPacket < 100_000);

    // the files, and the lab is gone
    assert.equal(JSON.parse(readFileSync(r.files.json, "utf8")).packetsLostInSwap, 0);
    assert.match(readFileSync(r.files.svg, "utf8"), /^<svg[^]*<\/svg>$/);
    assert.ok(existsSync(r.files.text));
    assert.equal(labStatus("e2etest").stateFile, false);
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
});
