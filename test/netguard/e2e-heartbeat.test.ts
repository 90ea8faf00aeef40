/**
 * @module test/netguard/e2e-heartbeat
 * The heartbeat fallback on the real kernel with real traffic: an agent process runs the
 * data path in recommendation with a model that drops UDP; during a UDP flood it is
 * SIGKILLed. With nobody left in user space, the data path must fall back to the default
 * rules on its own within the timeout, keep the server reachable (curl), and never ask the
 * dead model again.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { proceeds, requires } from "../helpers/kernel.ts";
import { Lab, labStatus } from "../../src/subsystems/netguard/lab/index.ts";
import { heartbeatFallback } from "../../src/subsystems/netguard/e2e/heartbeat.ts";
import { encodeArtefact, inputsFor } from "../../src/subsystems/netguard/e2e/model-program.ts";
import { netguardDemoMissing } from "../../src/cli/commands/netguard.ts";
import { validateIr } from "../../src/ml/index.ts";

/** Attack when the protocol number is above TCP's (UDP floods), benign otherwise. */
const udpModel = encodeArtefact({
  inputs: inputsFor(["proto"]),
  origin: "test",
  ir: validateIr({
    kind: "tree", nFeatures: 1, nClasses: 2, featureNames: ["proto"], classNames: ["benign", "attack"], quant: [{ scale: 1, offset: 0 }], scoreFracBits: 0,
    tree: { feature: [0], threshold: [6], left: [-1], right: [-2], leafValue: [1, 0, 0, 1] },
  }),
});

test("SIGKILL the agent during a flood: the kernel falls back to the default rules on its own and the server stays reachable", { timeout: 90_000 }, async (t) => {
  if (!requires(t, "bpf", "netns", "hping3") || !proceeds(t, netguardDemoMissing())) return;
  const timeoutMs = 800;
  const lab = Lab.up({ tag: "e2ehb" });
  try {
    const r = await heartbeatFallback(lab, udpModel, { timeoutMs, heartbeatMs: 100, attackMs: 5000, killAfterMs: 1200 });
    assert.ok(r.before.modelDecisions > 0 && r.before.recommendation > 0, `the model was deciding before the kill: ${JSON.stringify(r.before)}`);
    // the last heartbeat was at most one interval before the kill
    assert.ok(r.fallbackAfterMs >= timeoutMs - 150 && r.fallbackAfterMs <= timeoutMs + 500, `fell back after ${r.fallbackAfterMs} ms`);
    assert.ok(r.after.packets > 1000, `packets after the fallback: ${r.after.packets}`);
    assert.equal(r.after.emergency, r.after.packets, "every later packet in emergency");
    assert.equal(r.after.heartbeatLost, r.after.packets, "flagged as a lost heartbeat");
    assert.equal(r.after.modelDecisions, 0, "the model never decides again");
    assert.ok(r.after.defaultDrops > r.after.packets / 2, `the default rate limit drops the flood: ${JSON.stringify(r.after)}`);
    assert.equal(r.requestedModeAfter, "recommendation", "nobody wrote the control map: the fallback is the kernel's own");
    assert.equal(r.curlAfterFallback.requests, 10);
    assert.equal(r.curlAfterFallback.ok, 10, "the server stays reachable");
    assert.ok(r.detached, "the XDP program goes once its pins are removed");
  } finally {
    lab.down();
  }
  assert.equal(labStatus("e2ehb").stateFile, false);
});
