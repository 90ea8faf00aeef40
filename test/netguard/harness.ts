/**
 * @module test/netguard/harness
 * Runs frames through the loaded netguard data path (BPF_PROG_TEST_RUN) and through the
 * TypeScript reference side by side, asserting they agree bit for bit: the verdict, the
 * ring-buffer record (features included; sampling at 65536 so every parsed packet is
 * recorded, and its timestamp drives the reference's clock), the flow state and the counters.
 */
import assert from "node:assert/strict";
import { NetguardDataPath, type NetguardRecordReader } from "../../src/subsystems/netguard/datapath.ts";
import { NetguardReference, type Decision } from "../../src/subsystems/netguard/reference/datapath.ts";
import { buildThresholdModel, buildCompiledModel, ATTACH, type Attach } from "../../src/subsystems/netguard/program.ts";
import { compiledModelFn } from "../../src/subsystems/netguard/gen/compiled.ts";
import type { CompiledModel } from "../../src/compile/compile.ts";
import { thresholdModelFn, type ThresholdModel } from "../../src/subsystems/netguard/gen/model.ts";
import { defaultControl, type Control, type Mode } from "../../src/subsystems/netguard/control.ts";
import { parsePrefix } from "../../src/subsystems/netguard/address.ts";
import { encodeFlowState } from "../../src/subsystems/netguard/reference/flow.ts";
import { decodeRecord, statsFromCounters, type NetguardRecord } from "../../src/subsystems/netguard/record.ts";
import { Verdict } from "../../src/subsystems/netguard/layout.ts";
import type { NetguardOptions } from "../../src/subsystems/netguard/program.ts";

export interface Sent {
  readonly retval: number;
  readonly verdict: Verdict;
  readonly decision: Decision | undefined;
  readonly record: NetguardRecord | undefined;
}

export class Harness {
  readonly dp: NetguardDataPath;
  readonly ref = new NetguardReference();
  readonly reader: NetguardRecordReader;
  readonly attach: Attach;

  constructor(attach: Attach, control: Partial<Control> = {}, opts: NetguardOptions = {}) {
    this.attach = attach;
    const c = { ...defaultControl(), sampleRate: 65536, ...control };
    this.dp = NetguardDataPath.load({ ...opts, attach, control: c });
    this.ref.control = this.dp.control();
    this.reader = this.dp.records();
  }

  setControl(patch: Partial<Control>): void {
    this.ref.control = this.dp.updateControl((c) => ({ ...c, ...patch }));
  }

  setMode(mode: Mode): void {
    this.setControl({ mode });
  }

  /** Install a threshold model in both (undefined empties the slot). */
  setModel(m: ThresholdModel | undefined): void {
    if (m) {
      this.dp.swapModel(this.dp.loadModel(buildThresholdModel(this.attach, m)))?.close();
      this.ref.model = thresholdModelFn(m);
    } else {
      this.dp.removeModel()?.close();
      this.ref.model = undefined;
    }
    this.ref.control = this.dp.control();
  }

  /** Install a model kmlib compiled (function form, inline) in both. */
  setCompiledModel(compiled: CompiledModel): void {
    this.dp.swapModel(this.dp.loadModel(buildCompiledModel(this.attach, compiled)))?.close();
    this.ref.model = compiledModelFn(compiled.ir);
    this.ref.control = this.dp.control();
  }

  allow(prefix: string): void {
    this.dp.allow(prefix);
    this.ref.allowlist.push(parsePrefix(prefix));
  }

  verdictOf(retval: number): Verdict {
    const a = ATTACH[this.attach];
    assert.ok(retval === a.pass || retval === a.drop, `retval ${retval} is neither pass nor drop`);
    return retval === a.pass ? Verdict.PASS : Verdict.DROP;
  }

  /** One frame through both; asserts agreement. */
  send(frame: Uint8Array): Sent {
    const { retval } = this.dp.testRun(frame);
    const verdict = this.verdictOf(retval);
    const raw = this.reader.ring.readBatch();
    if (raw.length === 0) {
      const d = this.ref.process(frame, 0n);
      assert.equal(d, undefined, "the kernel did not record a packet the reference parsed");
      assert.equal(verdict, Verdict.PASS, "unparsed frames pass");
      return { retval, verdict, decision: undefined, record: undefined };
    }
    assert.equal(raw.length, 1, "one record per packet");
    const record = decodeRecord(raw[0]!);
    const decision = this.ref.process(frame, record.tsNs);
    assert.ok(decision, "the reference did not parse a packet the kernel recorded");
    assert.deepEqual(raw[0], decision.record, `record of packet differs:\nkernel    ${JSON.stringify(record, big)}\nreference ${JSON.stringify(decodeRecord(decision.record!), big)}`);
    assert.equal(verdict, decision.verdict);
    return { retval, verdict, decision, record };
  }

  sendAll(frames: readonly Uint8Array[]): Sent[] {
    return frames.map((f) => this.send(f));
  }

  /** Every reference flow is in the kernel's flow map with identical bytes, and the counters agree. */
  checkState(): void {
    for (const [hex, f] of this.ref.flows) {
      const k = this.dp.maps.ng_flows.lookup(Uint8Array.from(Buffer.from(hex, "hex")));
      assert.ok(k, `flow ${hex} missing in the kernel`);
      assert.deepEqual(k, encodeFlowState(f), `flow ${hex} differs`);
    }
    assert.deepEqual(this.dp.stats(), statsFromCounters(this.ref.counters));
  }

  close(): void {
    this.reader.close();
    this.dp.close();
  }

  [Symbol.dispose](): void {
    this.close();
  }
}

function big(_k: string, v: unknown): unknown {
  return typeof v === "bigint" ? v.toString() : v instanceof Uint8Array ? Buffer.from(v).toString("hex") : v;
}
