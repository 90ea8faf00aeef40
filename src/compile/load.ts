/**
 * @module compile/load
 * Puts a compiled model in the kernel: creates its maps (table double buffer, control word,
 * I/O map, tail-call chain), fills them, loads its programs and wires the chain. The result,
 * `LoadedModel`, runs the record form through BPF_PROG_TEST_RUN (`predict`) and swaps table
 * parameters in place (`swap`, the protocol in ./table-emit.ts). Needs CAP_BPF (+
 * CAP_NET_ADMIN for XDP programs); kernel >= 6.6 (cpu v4 sign-extending loads).
 */
import { createMap, loadProgram, type BpfMap, type MapRef, type Program, type ProgTypeName } from "../bpf/index.ts";
import type { BpfSys } from "../bpf/index.ts";
import { ErrorCode, KmlibError } from "../errors.ts";
import { validateIr } from "../ml/ir/validate.ts";
import type { IrModel, IrResult } from "../ml/ir/types.ts";
import { decodeRecord, encodeRecord } from "./abi.ts";
import type { CompiledModel } from "./compile.ts";
import { encodeTable } from "./table-layout.ts";

export interface LoadModelOptions {
  /** Program type (default XDP; the I/O form may use the caller's type, tail calls need it). */
  progType?: ProgTypeName;
  /** Extra maps the programs reference (a continuation PROG_ARRAY). */
  maps?: Readonly<Record<string, MapRef>>;
  /** Keep the verifier log of a successful load (level 1 or 2). */
  logLevel?: 0 | 1 | 2;
  sys?: BpfSys;
}

const u32 = (v: number) => {
  const b = new Uint8Array(4);
  new DataView(b.buffer).setUint32(0, v >>> 0, true);
  return b;
};

export class LoadedModel {
  readonly compiled: CompiledModel;
  /** programs[0] is the entry (chain stage 0 with tail calls). */
  readonly programs: Program[] = [];
  readonly maps = new Map<string, BpfMap>();
  /** Milliseconds spent in BPF_PROG_LOAD (verifier + JIT), all programs. */
  readonly loadMs: number = 0;
  #version = 0;
  #closed = false;

  constructor(compiled: CompiledModel, o: LoadModelOptions = {}) {
    this.compiled = compiled;
    const sys = o.sys;
    try {
      for (const m of compiled.maps) {
        this.maps.set(m.name, createMap({ name: m.name, type: m.type, keySize: m.keySize, valueSize: m.valueSize, maxEntries: m.maxEntries }, sys ? { sys } : {}));
      }
      if (compiled.table) {
        this.map("table").update(u32(0), encodeTable(compiled.ir, compiled.table));
        this.map("control").update(u32(0), new Uint8Array(8));
      }
      const maps: Record<string, MapRef> = { ...o.maps };
      for (const [name, m] of this.maps) maps[name] = m;
      const type = o.progType ?? "XDP";
      let ms = 0;
      for (const p of compiled.programs) {
        const t0 = performance.now();
        this.programs.push(loadProgram({ name: p.name, type, instructions: p.items, maps }, { logLevel: o.logLevel ?? 0, ...(sys ? { sys } : {}) }));
        ms += performance.now() - t0;
      }
      this.loadMs = ms;
      if (compiled.layout === "tailcalls") {
        const chain = this.map("chain");
        this.programs.forEach((p, i) => chain.setProgram(i, p));
      }
    } catch (e) {
      this.close();
      throw e;
    }
  }

  map(role: CompiledModel["maps"][number]["role"]): BpfMap {
    const plan = this.compiled.maps.find((m) => m.role === role);
    const m = plan && this.maps.get(plan.name);
    if (!m) throw new KmlibError(ErrorCode.NotFound, `compiled model has no ${role} map (strategy ${this.compiled.strategy}, layout ${this.compiled.layout})`);
    return m;
  }

  get entry(): Program {
    return this.programs[0]!;
  }

  /** Verifier-processed instructions of every program (the kernel's count). */
  verifiedInsns(): number {
    return this.programs.reduce((n, p) => n + p.info().verifiedInsns, 0);
  }

  /** Runs the record form on one row in the kernel (BPF_PROG_TEST_RUN). */
  predict(x: ArrayLike<number>): IrResult & { retval: number } {
    if (this.compiled.form !== "record") throw new KmlibError(ErrorCode.InvalidArgument, `predict() runs the record form; this model was compiled as ${this.compiled.form}`);
    if (x.length !== this.compiled.nFeatures) {
      throw new KmlibError(ErrorCode.InvalidArgument, `feature count mismatch: model expects ${this.compiled.nFeatures} features, got ${x.length}`);
    }
    const r = this.entry.testRun({ data: encodeRecord(x, this.compiled.nScores) });
    return { ...decodeRecord(r.data, this.compiled.nFeatures, this.compiled.nScores), retval: r.retval };
  }

  /** The live parameter version (table strategy). */
  get version(): number {
    return this.#version;
  }

  /**
   * Table strategy: replace the parameters with `ir`'s (same shape, within capacity) without
   * reloading: write the idle image, then publish version + 1. One writer at a time.
   */
  swap(irIn: IrModel): number {
    const shape = this.compiled.table;
    if (!shape) throw new KmlibError(ErrorCode.InvalidArgument, `only the table strategy swaps parameters; this model is ${this.compiled.strategy} (recompile and reload it)`);
    const ir = validateIr(irIn);
    const image = encodeTable(ir, shape);
    const next = this.#version + 1;
    this.map("table").update(u32(next & 1), image);
    const ctl = new Uint8Array(8);
    new DataView(ctl.buffer).setUint32(0, next >>> 0, true);
    this.map("control").update(u32(0), ctl);
    this.#version = next;
    return next;
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    for (const p of this.programs) p.close();
    for (const m of this.maps.values()) m.close();
  }

  [Symbol.dispose](): void {
    this.close();
  }
}

/** Loads a compiled model (see LoadedModel). */
export function loadModel(compiled: CompiledModel, o: LoadModelOptions = {}): LoadedModel {
  return new LoadedModel(compiled, o);
}
