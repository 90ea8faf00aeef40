import { test, describe } from "node:test";
import assert from "node:assert/strict";
import { requires } from "../helpers/kernel.ts";
import { Harness } from "./harness.ts";
import { mixedTraffic } from "./traffic.ts";
import { compileModel } from "../../src/compile/compile.ts";
import type { IrModel } from "../../src/ml/ir/types.ts";
import { Mode, gcra } from "../../src/subsystems/netguard/control.ts";
import { DecisionSource, Verdict } from "../../src/subsystems/netguard/layout.ts";
import { buildCompiledModel } from "../../src/subsystems/netguard/program.ts";
import { confidenceScale, compiledModelFn } from "../../src/subsystems/netguard/gen/compiled.ts";
import { modelResult } from "../../src/subsystems/netguard/reference/datapath.ts";
import { NUM_FEATURES, featureIndex, modelInput } from "../../src/subsystems/netguard/features.ts";
import { isKmlibError, ErrorCode } from "../../src/errors.ts";

const ident = (n: number) => Array.from({ length: n }, () => ({ scale: 1, offset: 0 }));

/** A tree over three features in the model's own order (not the contract's). */
const tree: IrModel = {
  kind: "tree", nFeatures: 3, nClasses: 2, featureNames: ["pkts_bwd", "syn", "flow_age"], classNames: ["benign", "attack"],
  quant: ident(3), scoreFracBits: 10,
  tree: {
    feature: [1, 0, 2], threshold: [0, 0, 50], left: [-1, -2, -3], right: [1, 2, -4],
    leafValue: [1000, 24, 100, 924, 700, 324, 300, 724],
  },
};
/** Boosted stumps, one score: attack for ports above 1000 unless the flow has many packets back. */
const boosted: IrModel = {
  kind: "boosted", nFeatures: 2, nClasses: 2, featureNames: ["dst_port", "pkts_bwd"], classNames: ["benign", "attack"],
  quant: ident(2), scoreFracBits: 10, bias: [-100], treeScore: [0, 0],
  trees: [
    { feature: [0], threshold: [1000], left: [-1], right: [-2], leafValue: [-3000, 2500] },
    { feature: [1], threshold: [2], left: [-1], right: [-2], leafValue: [0, -5000] },
  ],
};

describe("compiled models in the netguard model slot", () => {
  test("model inputs: picked by name, times in 1024-ns units, saturating at 2^31 - 1", () => {
    const f = new Array<bigint>(NUM_FEATURES).fill(0n);
    f[featureIndex("flow_age")] = 5n * 1024n + 1023n;
    f[featureIndex("bytes_fwd")] = 1n << 40n;
    assert.deepEqual(modelInput(f, ["flow_age", "bytes_fwd", "syn"]), [5, 2147483647, 0]);
  });

  test("only inline function-form models with identity quantization and known features are hosted", () => {
    const bad = (m: Parameters<typeof buildCompiledModel>[1], re: RegExp) =>
      assert.throws(() => buildCompiledModel("xdp", m), (e) => isKmlibError(e, ErrorCode.InvalidModel) && re.test(e.message));
    bad(compileModel(tree, { form: "record" }), /form "record"/);
    bad(compileModel(tree, { form: "function", strategy: "table" }), /strategy "table"/);
    bad(compileModel({ ...tree, featureNames: ["pkts_bwd", "syn", "src_ip"] }, { form: "function", strategy: "inline" }), /"src_ip"/);
    bad(compileModel({ ...tree, quant: [{ scale: 2, offset: 0 }, ...ident(2)] }, { form: "function", strategy: "inline" }), /quantized/);
  });

  test("confidence: certain leaves give 1000, even ones 500", () => {
    const s = confidenceScale(tree);
    const conf = (margin: number) => 500 + Math.min(500, Number((BigInt(margin) * BigInt(s.mul)) >> BigInt(s.shift)));
    assert.equal(conf(1024), 1000);
    assert.equal(conf(0), 500);
    assert.ok(Math.abs(conf(512) - 750) <= 1);
    const x = new Array<bigint>(NUM_FEATURES).fill(0n);
    x[featureIndex("syn")] = 3n; // syn > 0: node 1; pkts_bwd 0 <= 0: leaf 1 = [100, 924], an attack by 824
    const r = modelResult(compiledModelFn(tree)(x));
    assert.equal(r.verdict, Verdict.DROP);
    assert.equal(r.conf, conf(924 - 100));
  });

  for (const attach of ["xdp", "tc"] as const) {
    for (const [name, ir] of [["tree", tree], ["boosted", boosted]] as const) {
      test(`${attach}: a compiled ${name} decides in recommendation mode exactly as evaluateIr says`, (t) => {
        if (!requires(t, "bpf")) return;
        using h = new Harness(attach, { ...gcra({ pps: 1e9, burst: 1e9 }), synWindowNs: 0n, mode: Mode.RECOMMENDATION, cacheMaxPkts: 0 });
        h.setCompiledModel(compileModel(ir, { form: "function", strategy: "inline" }));
        const frames = mixedTraffic();
        const sent = [...h.sendAll(frames), ...h.sendAll(frames)];
        const judged = sent.filter((s) => s.record);
        assert.ok(judged.every((s) => s.record!.source === DecisionSource.MODEL), "the model decided every parsed packet");
        const drops = judged.filter((s) => s.verdict === Verdict.DROP).length;
        assert.ok(drops > 0 && drops < judged.length, `the model both drops and passes (${drops}/${judged.length})`);
        assert.ok(new Set(judged.map((s) => s.record!.modelConf)).size > 1, "confidence varies with the margin");
        h.checkState();
      });
    }
  }
});
