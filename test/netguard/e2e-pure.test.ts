/**
 * @module test/netguard/e2e-pure
 * The end-to-end job's pure pieces: the model inputs the kernel computes (shift, saturation),
 * the confidence rule, artefacts, per-flow scoring, training balance, the CIC-IDS2017 mapping
 * and the plot. No kernel.
 */
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { confidenceOf, decodeArtefact, encodeArtefact, inputsFor, inputsOf, modelBody, predictFeatures } from "../../src/subsystems/netguard/e2e/model-program.ts";
import { FlowBook, RecordLabels, scores } from "../../src/subsystems/netguard/e2e/flows.ts";
import { balanceByKind, type TrainingRow } from "../../src/subsystems/netguard/e2e/train.ts";
import { CICIDS_COLUMN_MAP, UNMAPPED_FEATURES, cicToContract, balanceAttacks } from "../../src/subsystems/netguard/e2e/cicids.ts";
import { plotSvg } from "../../src/subsystems/netguard/e2e/plot.ts";
import { FEATURE_NAMES, NUM_FEATURES, featureIndex } from "../../src/subsystems/netguard/features.ts";
import { DecisionSource, Flag } from "../../src/subsystems/netguard/layout.ts";
import { planLab } from "../../src/subsystems/netguard/lab/index.ts";
import type { NetguardRecord } from "../../src/subsystems/netguard/record.ts";
import { ErrorCode, isKmlibError } from "../../src/errors.ts";
import { makeDataset, validateIr, type IrModel } from "../../src/ml/index.ts";
import { assemble } from "../../src/bpf/asm/index.ts";

const feat = (vals: Partial<Record<string, bigint>>): bigint[] => FEATURE_NAMES.map((n) => vals[n] ?? 0n);
const tree = (nFeatures: number, feature: number, threshold: number, leafValue = [1, 0, 0, 1]): IrModel =>
  validateIr({
    kind: "tree", nFeatures, nClasses: 2, featureNames: Array.from({ length: nFeatures }, (_, i) => `f${i}`), classNames: ["benign", "attack"],
    quant: Array.from({ length: nFeatures }, () => ({ scale: 1, offset: 0 })), scoreFracBits: 0,
    tree: { feature: [feature], threshold: [threshold], left: [-1], right: [-2], leafValue },
  });

describe("netguard model inputs and answers", () => {
  test("ns features are shifted down by 10, everything saturates at INT32_MAX, order follows the inputs", () => {
    const inputs = inputsFor(["flow_age", "dst_port", "bytes_fwd"]);
    assert.deepEqual(inputs.map((i) => i.shift), [10, 0, 0]);
    const x = inputsOf(inputs, feat({ flow_age: 5n * 1024n + 1023n, dst_port: 443n, bytes_fwd: 1n << 40n }));
    assert.deepEqual([...x], [5, 443, 2147483647]);
  });

  test("predictions follow the tree; confidence is max/sum per mille for trees and forests", () => {
    const m = { inputs: inputsFor(["dst_port"]), ir: tree(1, 0, 1000, [3, 1, 1, 3]), origin: "t" };
    assert.deepEqual(predictFeatures(m, feat({ dst_port: 80n })), { verdict: 0, conf: 750, class: 0 });
    assert.deepEqual(predictFeatures(m, feat({ dst_port: 4000n })), { verdict: 1, conf: 750, class: 1 });
    assert.equal(confidenceOf(m.ir, [0, 0]), 0);
    assert.equal(confidenceOf(m.ir, [7, 0]), 1000);
  });

  test("the model body assembles; it refuses a model whose inputs and features disagree", () => {
    const m = { inputs: inputsFor(["dst_port", "syn"]), ir: tree(2, 1, 3), origin: "t" };
    assert.ok(assemble(modelBody(m)).bytes.length > 0);
    assert.throws(() => modelBody({ ...m, inputs: inputsFor(["dst_port"]) }), (e: unknown) => isKmlibError(e, ErrorCode.InvalidModel) && /1 inputs for a model of 2 features/.test((e as Error).message));
  });

  test("artefacts round-trip; wrong format, contract version or feature names are InvalidModel", () => {
    const m = { inputs: inputsFor(["proto"]), ir: tree(1, 0, 6), origin: "unit" };
    const back = decodeArtefact(encodeArtefact(m));
    assert.deepEqual(back.inputs, m.inputs);
    assert.equal(back.origin, "unit");
    assert.deepEqual(predictFeatures(back, feat({ proto: 17n })), predictFeatures(m, feat({ proto: 17n })));
    const doc = JSON.parse(new TextDecoder().decode(encodeArtefact(m))) as Record<string, unknown>;
    const bad = (patch: Record<string, unknown>) => new TextEncoder().encode(JSON.stringify({ ...doc, ...patch }));
    assert.throws(() => decodeArtefact(new TextEncoder().encode("nope")), (e: unknown) => isKmlibError(e, ErrorCode.InvalidModel));
    assert.throws(() => decodeArtefact(bad({ format: "other" })), /not a kmlib-netguard-model v1 artefact/);
    assert.throws(() => decodeArtefact(bad({ featureContract: 99 })), /feature contract v99/);
    assert.throws(() => decodeArtefact(bad({ inputs: [{ feature: "src_addr", shift: 0 }] })), /unknown contract feature "src_addr"/);
  });
});

function rec(src: string, dport: number, o: { model?: 0 | 1; dflt?: 0 | 1; final?: 0 | 1; sport?: number } = {}): NetguardRecord {
  const addr = (ip: string) => Uint8Array.from([0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, ...ip.split(".").map(Number)]);
  return {
    tsNs: 0n, key: { family: 4, proto: 6, addrA: addr("10.77.0.1"), addrB: addr(src), portA: dport, portB: o.sport ?? 40000 },
    mode: 3, defaultVerdict: o.dflt ?? 0, modelVerdict: o.model ?? 0, modelConf: 1000, finalVerdict: o.final ?? o.model ?? 0,
    source: DecisionSource.MODEL, flags: o.model === undefined ? 0 : Flag.MODEL_RAN, generation: 1, features: feat({ dst_port: BigInt(dport) }),
  };
}

describe("scoring flows", () => {
  const labels = new RecordLabels(planLab({ tag: "unit" }));

  test("labels come from the sender's namespace; unknown senders are left out", () => {
    assert.equal(labels.label(rec("10.77.2.1", 80)), 1);
    assert.equal(labels.label(rec("10.77.1.1", 80)), 0);
    assert.equal(labels.label(rec("192.0.2.1", 80)), undefined);
    assert.equal(labels.kind(rec("10.77.1.1", 80)), "http (curl, wrk)");
  });

  test("a flow is flagged when more than half of its answered packets would be dropped", () => {
    const book = new FlowBook(labels);
    // attack flow: 2 of 3 dropped -> flagged; benign flow: 1 of 2 -> not flagged; benign: 2 of 2 -> flagged
    book.add([rec("10.77.2.1", 80, { model: 1 }), rec("10.77.2.1", 80, { model: 1 }), rec("10.77.2.1", 80, { model: 0 })]);
    book.add([rec("10.77.1.1", 80, { model: 1, sport: 1 }), rec("10.77.1.1", 80, { model: 0, sport: 1 })]);
    book.add([rec("10.77.1.2", 80, { model: 1, sport: 2 }), rec("10.77.1.2", 80, { model: 1, sport: 2 })]);
    book.add([rec("192.0.2.9", 80, { model: 1 })]);
    assert.equal(book.unlabelled, 1);
    const f = book.perFlow("model");
    assert.deepEqual([f.tp, f.fp, f.tn, f.fn], [1, 1, 1, 0]);
    assert.equal(f.falsePositiveRate, 0.5);
    const p = book.perPacket("model");
    assert.deepEqual([p.tp, p.fp, p.tn, p.fn], [2, 3, 1, 1]);
    // packets the model did not answer do not count for it
    assert.equal(book.perFlow("default").tp + book.perFlow("default").fn, 1);
  });

  test("F1 and FPR by the book; no division by zero", () => {
    const s = scores({ tp: 8, fp: 2, tn: 18, fn: 2 });
    assert.equal(s.precision, 0.8);
    assert.equal(s.recall, 0.8);
    assert.ok(Math.abs(s.f1 - 0.8) < 1e-12);
    assert.equal(s.falsePositiveRate, 0.1);
    assert.deepEqual(scores({ tp: 0, fp: 0, tn: 0, fn: 0 }), { tp: 0, fp: 0, tn: 0, fn: 0, precision: 0, recall: 0, f1: 0, falsePositiveRate: 0 });
  });
});

describe("training data", () => {
  const row = (label: 0 | 1, i: number): TrainingRow => ({ label, host: "x", record: rec("10.77.2.1", i), features: feat({ dst_port: BigInt(i) }) });

  test("generators are capped or repeated, benign weighs more, validation rows never reach training", () => {
    const rows = [...Array.from({ length: 100 }, (_, i) => row(1, i)), ...Array.from({ length: 10 }, (_, i) => row(1, 1000 + i)), ...Array.from({ length: 20 }, (_, i) => row(0, 2000 + i))];
    const kindOf = (r: TrainingRow) => (r.label === 0 ? "web" : Number(r.features[featureIndex("dst_port")]) >= 1000 ? "scan" : "flood");
    const b = balanceByKind(rows, kindOf, { cap: 40, floor: 30, benignWeight: 2, validationEvery: 5 });
    assert.deepEqual(b.kinds, { "0:web": 20, "1:flood": 100, "1:scan": 10 });
    const count = (k: string) => b.rows.filter((r) => `${r.label}:${kindOf(r)}` === k).length;
    assert.equal(count("1:flood"), 40, "capped");
    assert.equal(count("1:scan"), 30, "repeated up to the floor");
    assert.equal(count("0:web"), 60, "benign floor scaled by its weight");
    assert.equal(b.validation.length, 20 + 2 + 4);
    for (const v of b.validation) assert.ok(!b.rows.includes(v));
    assert.deepEqual(balanceByKind(rows, kindOf, { cap: 40, seed: 7 }).rows, balanceByKind(rows, kindOf, { cap: 40, seed: 7 }).rows);
  });

  test("CIC-IDS2017 columns map onto the contract (durations us -> ns); unmapped features stay 0", () => {
    const cols = CICIDS_COLUMN_MAP.map((m) => m.column);
    const x = Float64Array.from(cols.map((c) => (c === "Flow Duration" ? 2048 : c === "Dst Port" ? 80 : c === "FWD Init Win Bytes" ? -1 : 1)));
    const ds = makeDataset({ x, y: Int32Array.of(1), featureNames: cols, classNames: ["BENIGN", "ATTACK"] });
    const { contract, ds: mapped } = cicToContract(ds);
    assert.equal(contract[0]!.length, NUM_FEATURES);
    assert.equal(contract[0]![featureIndex("flow_age")], 2_048_000n);
    assert.equal(contract[0]![featureIndex("dst_port")], 80n);
    assert.equal(contract[0]![featureIndex("init_win_fwd")], 0n, "-1 (absent) reads as 0, as the kernel keeps it");
    for (const u of UNMAPPED_FEATURES) assert.equal(contract[0]![featureIndex(u)], 0n);
    assert.equal(mapped.x[mapped.featureNames.indexOf("flow_age")], 2000, "then shifted like the kernel's input (>> 10)");
    assert.ok(!CICIDS_COLUMN_MAP.some((m) => /IP|Timestamp|Src Port/.test(m.column)), "no addresses or identifiers");
  });

  test("attack rows are subsampled to the benign count", () => {
    const ds = makeDataset({ x: Float64Array.from({ length: 10 }, (_, i) => i), y: Int32Array.from([0, 0, 1, 1, 1, 1, 1, 1, 1, 1]), featureNames: ["a"], classNames: ["b", "a"] });
    const b = balanceAttacks(ds, 1, 3);
    assert.equal(b.nRows, 4);
    assert.equal([...b.y].filter((v) => v === 1).length, 2);
  });
});

test("the plot: well-formed SVG with the series, the mode band and the transitions", () => {
  const svg = plotSvg({
    bucketSeconds: 0.5,
    buckets: [{ t: 0, attackDropped: 100, attackPassed: 0, benignDropped: 0, benignPassed: 50, mode: "learning" }, { t: 0.5, attackDropped: 1000, attackPassed: 1, benignDropped: 0, benignPassed: 40, mode: "recommendation" }],
    transitions: [{ t: 0.4, label: "learning→recommendation (promote)" }],
    phases: [{ start: 0, end: 1, label: "held-out: syn-flood+benign" }],
  }, "t & <title>");
  assert.match(svg, /^<svg[^]*<\/svg>$/);
  assert.match(svg, /t &amp; &lt;title&gt;/);
  assert.equal((svg.match(/<polyline/g) ?? []).length, 4);
  assert.match(svg, /learning→recommendation \(promote\)/);
  assert.match(svg, />held-out</);
});
