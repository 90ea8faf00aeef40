/**
 * @module subsystems/netguard/datapath
 * The netguard data path loaded in the kernel: creates the maps, loads the main and decide
 * programs (and a model when given), fills the PROG_ARRAY, writes the control map, and
 * offers what user space needs: control updates, model hot swap, allowlist edits, counters,
 * flow state, ring-buffer records, test runs. Attaching to an interface is the link
 * layer's job (`main` is the program to attach). Needs CAP_BPF + CAP_NET_ADMIN;
 * Linux >= 5.8 (ring buffer), tail calls mixed with bpf-to-bpf calls need an x86-64 or arm64 JIT.
 */
import { createMap, loadProgram, RingBufReader, type BpfMap, type Program, type TestRunOutput } from "../../bpf/index.ts";
import { ErrorCode, KmlibError } from "../../errors.ts";
import { type Control, type Mode, decodeControl, defaultControl, encodeControl } from "./control.ts";
import { AllowKey, ProgSlot } from "./layout.ts";
import { parsePrefix } from "./address.ts";
import { decodeFlowState, type FlowRecord } from "./reference/flow.ts";
import { decodeRecord, decodeStats, type NetguardRecord, type NetguardStats } from "./record.ts";
import { MapName, buildNetguardProgram, type NetguardOptions, type NetguardProgSpec, type NetguardProgram } from "./program.ts";

const KEY0 = new Uint8Array(4);

export interface DataPathOptions extends NetguardOptions {
  /** Initial control (default: defaultControl()). */
  control?: Control;
  /** Keep the verifier log of successful loads (for instruction counts). */
  logLevel?: 0 | 1 | 2;
}

export class NetguardDataPath {
  readonly spec: NetguardProgram;
  readonly maps: Readonly<Record<MapName, BpfMap>>;
  readonly main: Program;
  readonly decide: Program;
  #model: Program | undefined;
  #closed = false;

  private constructor(spec: NetguardProgram, maps: Record<MapName, BpfMap>, main: Program, decide: Program) {
    this.spec = spec;
    this.maps = maps;
    this.main = main;
    this.decide = decide;
  }

  static load(opts: DataPathOptions = {}): NetguardDataPath {
    const { control, logLevel, ...gen } = opts;
    const spec = buildNetguardProgram(gen);
    const maps: Partial<Record<MapName, BpfMap>> = {};
    const progs: Program[] = [];
    try {
      for (const m of spec.maps) maps[m.name] = createMap(m);
      const all = maps as Record<MapName, BpfMap>;
      const load = (p: NetguardProgSpec) => loadProgram({ name: p.name, type: p.type, license: p.license, instructions: p.assembled, maps: all }, logLevel ? { logLevel } : {});
      const decide = load(spec.decide);
      progs.push(decide);
      const main = load(spec.main);
      progs.push(main);
      all[MapName.PROGS].setProgram(ProgSlot.DECIDE, decide);
      all[MapName.CONTROL].update(KEY0, encodeControl(control ?? defaultControl()));
      return new NetguardDataPath(spec, all, main, decide);
    } catch (e) {
      for (const p of progs) p.close();
      for (const m of Object.values(maps)) m.close();
      throw e;
    }
  }

  /** Load a model program built for this data path (buildModelProgram / buildThresholdModel). */
  loadModel(p: NetguardProgSpec, logLevel?: 0 | 1 | 2): Program {
    if (p.type !== this.spec.main.type) throw new KmlibError(ErrorCode.InvalidArgument, `model "${p.name}" is a ${p.type} program, the data path is ${this.spec.main.type}`);
    return loadProgram({ name: p.name, type: p.type, license: p.license, instructions: p.assembled, maps: this.maps }, logLevel ? { logLevel } : {});
  }

  /**
   * Put `model` in the model slot (one atomic PROG_ARRAY update: every packet runs the old or
   * the new model, whole), then bump the generation so cached verdicts of the old model
   * expire. Returns the previous model, which the caller closes when it wants.
   */
  swapModel(model: Program): Program | undefined {
    const old = this.#model;
    this.maps[MapName.PROGS].setProgram(ProgSlot.MODEL, model);
    this.#model = model;
    this.updateControl((c) => ({ ...c, generation: (c.generation + 1) >>> 0 }));
    return old;
  }

  /** Empty the model slot (the modes fall back to the default); returns the removed model. */
  removeModel(): Program | undefined {
    const old = this.#model;
    const k = new Uint8Array(4);
    new DataView(k.buffer).setUint32(0, ProgSlot.MODEL, true);
    this.maps[MapName.PROGS].delete(k);
    this.#model = undefined;
    this.updateControl((c) => ({ ...c, generation: (c.generation + 1) >>> 0 }));
    return old;
  }

  get model(): Program | undefined {
    return this.#model;
  }

  control(): Control {
    return decodeControl(this.maps[MapName.CONTROL].lookup(KEY0)!);
  }

  setControl(c: Control): void {
    this.maps[MapName.CONTROL].update(KEY0, encodeControl(c));
  }

  /** Read-modify-write of the control entry (single writer: the agent). */
  updateControl(fn: (c: Control) => Control): Control {
    const next = fn(this.control());
    this.setControl(next);
    return next;
  }

  setMode(mode: Mode): void {
    this.updateControl((c) => ({ ...c, mode }));
  }

  /** Agent heartbeat: stamp CLOCK_MONOTONIC (the clock of bpf_ktime_get_ns). */
  heartbeat(timeoutNs?: bigint): void {
    const now = process.hrtime.bigint();
    this.updateControl((c) => ({ ...c, heartbeatNs: now, ...(timeoutNs === undefined ? {} : { heartbeatTimeoutNs: timeoutNs }) }));
  }

  #allowKey(prefix: string): Uint8Array {
    const p = parsePrefix(prefix);
    const k = new Uint8Array(AllowKey.SIZE);
    new DataView(k.buffer).setUint32(AllowKey.PREFIXLEN, p.bits, true);
    k.set(p.address.bytes, AllowKey.ADDR);
    return k;
  }

  /** Allow a prefix ("10.0.0.0/8", "fd00::1"): no model verdict can drop it. */
  allow(prefix: string): void {
    this.maps[MapName.ALLOW].update(this.#allowKey(prefix), new Uint8Array([1, 0, 0, 0]));
  }

  disallow(prefix: string): boolean {
    return this.maps[MapName.ALLOW].delete(this.#allowKey(prefix));
  }

  stats(): NetguardStats {
    return decodeStats(this.maps[MapName.STATS].lookupPerCpu(KEY0) ?? []);
  }

  resetStats(): void {
    const m = this.maps[MapName.STATS];
    m.updatePerCpu(KEY0, Array.from({ length: m.cpus }, () => new Uint8Array(m.valueSize)));
  }

  /** The state of one flow by its canonical key (reference/parse.ts `flowKey`). */
  flow(key: Uint8Array): FlowRecord | undefined {
    const v = this.maps[MapName.FLOWS].lookup(key);
    return v && decodeFlowState(v);
  }

  *flows(): Generator<[Uint8Array, FlowRecord]> {
    for (const [k, v] of this.maps[MapName.FLOWS].entries()) yield [k, decodeFlowState(v)];
  }

  /** A reader of sampled flow records (close it before the data path). */
  records(): NetguardRecordReader {
    return new NetguardRecordReader(new RingBufReader(this.maps[MapName.EVENTS]));
  }

  /** BPF_PROG_TEST_RUN of the main program on one frame. */
  testRun(frame: Uint8Array, repeat = 1): TestRunOutput {
    return this.main.testRun({ data: frame, repeat });
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.main.close();
    this.decide.close();
    this.#model?.close();
    for (const m of Object.values(this.maps)) m.close();
  }

  [Symbol.dispose](): void {
    this.close();
  }
}

/** Decodes ring-buffer flow records. */
export class NetguardRecordReader {
  readonly ring: RingBufReader;
  constructor(ring: RingBufReader) {
    this.ring = ring;
  }

  /** Everything available now. */
  read(max = Infinity): NetguardRecord[] {
    return this.ring.readBatch(max).map(decodeRecord);
  }

  wait(): Promise<void> {
    return this.ring.wait();
  }

  close(): void {
    this.ring.close();
  }

  [Symbol.dispose](): void {
    this.close();
  }
}
