import { test } from "node:test";
import assert from "node:assert/strict";
import { requires } from "../helpers/kernel.ts";
import { NetguardDataPath } from "../../src/subsystems/netguard/datapath.ts";
import { buildNetguardModelProgram, inputsFor } from "../../src/subsystems/netguard/e2e/model-program.ts";
import { FEATURE_NAMES } from "../../src/subsystems/netguard/features.ts";
import { synthForest } from "../../src/compile/synthetic.ts";

// Regression: a branch-free argmax let the model slot's range check on the class make every
// accumulator precise, and the verifier stopped pruning between trees (E2BIG at 1M insns).
test("the model slot loads forests of the demo's size and larger (verifier keeps pruning between trees)", async (t) => {
  if (!requires(t, "bpf")) return;
  using dp = NetguardDataPath.load();
  for (const [trees, depth] of [[12, 8], [32, 8]] as const) {
    const ir = synthForest(trees, depth, FEATURE_NAMES.length, 1);
    using prog = dp.loadModel(buildNetguardModelProgram({ inputs: inputsFor(FEATURE_NAMES), ir, origin: "synthetic" }));
    const verified = prog.info().verifiedInsns ?? 0;
    assert.ok(verified > 0 && verified < 200_000, `${trees}x${depth}: ${verified} instructions verified`);
  }
});
