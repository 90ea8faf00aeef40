/**
 * @module bpf/sys/fake
 * A scripted `BpfSys` for unit tests (a fake, never used in production): a test tells it
 * what the kernel answers to each call (`fake.on("progLoad", args => -13)` or queued answers
 * with `fake.answer("mapCreate", 5, -1)`), and reads back what was called (`fake.calls`).
 * A call nobody scripted throws, naming the method, so a test never passes by accident.
 */
import type { BpfSys, FdWatch, Mapping, TestRunResult } from "./types.ts";

export type FakeMethod = Exclude<keyof BpfSys, "name">;
type Handler<M extends FakeMethod> = (...args: Parameters<BpfSys[M]>) => ReturnType<BpfSys[M]>;
/** A queued answer: the value returned, or a handler computing it from the arguments. */
export type FakeAnswer<M extends FakeMethod> = ReturnType<BpfSys[M]> | Handler<M>;

export interface FakeCall {
  readonly method: FakeMethod;
  readonly args: readonly unknown[];
}

export class FakeBpfSys implements BpfSys {
  readonly name = "fake";
  readonly calls: FakeCall[] = [];
  readonly #handlers = new Map<FakeMethod, (...args: never[]) => unknown>();
  readonly #queues = new Map<FakeMethod, unknown[]>();

  constructor() {
    // Harmless defaults; a test overrides them with `on`.
    this.on("close", () => 0);
    this.on("numPossibleCpus", () => 2);
    this.on("pageSize", () => 4096);
  }

  /** Answer every call of `method` with `handler`. */
  on<M extends FakeMethod>(method: M, handler: Handler<M>): this {
    this.#handlers.set(method, handler as (...args: never[]) => unknown);
    return this;
  }

  /** Queue answers for the next calls of `method`; they take priority over `on`. */
  answer<M extends FakeMethod>(method: M, ...answers: FakeAnswer<M>[]): this {
    const q = this.#queues.get(method) ?? [];
    q.push(...answers);
    this.#queues.set(method, q);
    return this;
  }

  /** Calls made to `method`, in order. */
  callsOf(method: FakeMethod): readonly unknown[][] {
    return this.calls.filter((c) => c.method === method).map((c) => [...c.args]);
  }

  #dispatch<M extends FakeMethod>(method: M, args: unknown[]): ReturnType<BpfSys[M]> {
    this.calls.push({ method, args });
    const q = this.#queues.get(method);
    const next = q && q.length > 0 ? q.shift() : this.#handlers.get(method);
    if (next === undefined) throw new Error(`FakeBpfSys: unscripted call ${method}(${args.map(describe).join(", ")})`);
    return (typeof next === "function" ? (next as (...a: unknown[]) => unknown)(...args) : next) as ReturnType<BpfSys[M]>;
  }

  progLoad(...a: Parameters<BpfSys["progLoad"]>): number { return this.#dispatch("progLoad", a); }
  mapCreate(...a: Parameters<BpfSys["mapCreate"]>): number { return this.#dispatch("mapCreate", a); }
  mapUpdate(...a: Parameters<BpfSys["mapUpdate"]>): number { return this.#dispatch("mapUpdate", a); }
  mapLookup(...a: Parameters<BpfSys["mapLookup"]>): number { return this.#dispatch("mapLookup", a); }
  mapLookupAndDelete(...a: Parameters<BpfSys["mapLookupAndDelete"]>): number { return this.#dispatch("mapLookupAndDelete", a); }
  mapDelete(...a: Parameters<BpfSys["mapDelete"]>): number { return this.#dispatch("mapDelete", a); }
  mapGetNextKey(...a: Parameters<BpfSys["mapGetNextKey"]>): number { return this.#dispatch("mapGetNextKey", a); }
  mapFreeze(...a: Parameters<BpfSys["mapFreeze"]>): number { return this.#dispatch("mapFreeze", a); }
  mapLookupBatch(...a: Parameters<BpfSys["mapLookupBatch"]>): number { return this.#dispatch("mapLookupBatch", a); }
  mapLookupAndDeleteBatch(...a: Parameters<BpfSys["mapLookupAndDeleteBatch"]>): number { return this.#dispatch("mapLookupAndDeleteBatch", a); }
  mapUpdateBatch(...a: Parameters<BpfSys["mapUpdateBatch"]>): number { return this.#dispatch("mapUpdateBatch", a); }
  mapDeleteBatch(...a: Parameters<BpfSys["mapDeleteBatch"]>): number { return this.#dispatch("mapDeleteBatch", a); }
  objPin(...a: Parameters<BpfSys["objPin"]>): number { return this.#dispatch("objPin", a); }
  objGet(...a: Parameters<BpfSys["objGet"]>): number { return this.#dispatch("objGet", a); }
  objGetInfo(...a: Parameters<BpfSys["objGetInfo"]>): number { return this.#dispatch("objGetInfo", a); }
  getNextId(...a: Parameters<BpfSys["getNextId"]>): number { return this.#dispatch("getNextId", a); }
  getFdById(...a: Parameters<BpfSys["getFdById"]>): number { return this.#dispatch("getFdById", a); }
  linkCreate(...a: Parameters<BpfSys["linkCreate"]>): number { return this.#dispatch("linkCreate", a); }
  linkUpdate(...a: Parameters<BpfSys["linkUpdate"]>): number { return this.#dispatch("linkUpdate", a); }
  linkDetach(...a: Parameters<BpfSys["linkDetach"]>): number { return this.#dispatch("linkDetach", a); }
  progTestRun(...a: Parameters<BpfSys["progTestRun"]>): TestRunResult { return this.#dispatch("progTestRun", a); }
  progTestRunAsync(...a: Parameters<BpfSys["progTestRunAsync"]>): Promise<TestRunResult> { return this.#dispatch("progTestRunAsync", a); }
  enableStats(...a: Parameters<BpfSys["enableStats"]>): number { return this.#dispatch("enableStats", a); }
  numPossibleCpus(): number { return this.#dispatch("numPossibleCpus", []); }
  pageSize(): number { return this.#dispatch("pageSize", []); }
  close(...a: Parameters<BpfSys["close"]>): number { return this.#dispatch("close", a); }
  mmap(...a: Parameters<BpfSys["mmap"]>): Mapping { return this.#dispatch("mmap", a); }
  munmap(...a: Parameters<BpfSys["munmap"]>): number { return this.#dispatch("munmap", a); }
  view(...a: Parameters<BpfSys["view"]>): ArrayBuffer { return this.#dispatch("view", a); }
  watchReadable(...a: Parameters<BpfSys["watchReadable"]>): FdWatch { return this.#dispatch("watchReadable", a); }
  vmlinuxBtfId(...a: Parameters<BpfSys["vmlinuxBtfId"]>): number { return this.#dispatch("vmlinuxBtfId", a); }
  ifNameToIndex(...a: Parameters<BpfSys["ifNameToIndex"]>): number { return this.#dispatch("ifNameToIndex", a); }
  setns(...a: Parameters<BpfSys["setns"]>): number { return this.#dispatch("setns", a); }
}

function describe(a: unknown): string {
  if (a instanceof Uint8Array) return `<${a.length} bytes>`;
  if (typeof a === "bigint") return `${a}n`;
  if (typeof a === "object" && a !== null) return "{...}";
  return String(a);
}
