/**
 * @module subsystems/lfs-gc/shifted-workload
 * A host workload that shifts: a sequence of registry workloads, each for a given number of
 * host writes, the last running on. It is how an lfs-gc proxy under `kmlib agent` meets the
 * shift the mode controller must notice (a model promoted on hot/cold writes, then uniform
 * ones), since the agent names its workload once, in the configuration.
 *
 * Spelling: `A@COUNT,B@COUNT,...,Z`, COUNT being host writes (`40000`) or a multiple of the
 * device's logical blocks (`40x`, `2.5x`); e.g. `hotcold-90-10@40x,uniform`. A name with no
 * comma is one workload, taken whole (so a trace path may hold `@`; it may not hold `,` in a
 * sequence). Part i draws with seed + i, so two parts of one kind do not repeat each other.
 * A comma-separated list of workloads (`kmlib gc bench --workloads`, `gc proxy --scenarios`)
 * may hold sequences: `splitWorkloadList` groups each part carrying @COUNT with the parts
 * after it, up to the first one without (the part that runs on).
 */
import { ErrorCode, KmlibError } from "../../errors.ts";
import type { Workload } from "./workload.ts";

/** One part of a sequence: its registry name and its host writes (`undefined`: runs on). */
export interface WorkloadPart {
  readonly spec: string;
  readonly writes: number | undefined;
}

const COUNT = /@(\d+(?:\.\d+)?)(x?)$/;

/** True when `spec` names a sequence (it holds a comma) rather than one workload. */
export function isWorkloadSequence(spec: string): boolean {
  return spec.includes(",");
}

/**
 * Parses a workload name into its parts (one part, running on, for a plain name). Errors are
 * KMLIB_INVALID_ARGUMENT saying which part is wrong and how to spell it.
 */
export function parseWorkloadSequence(spec: string, logicalBlocks: number): WorkloadPart[] {
  const bad = (why: string) => new KmlibError(ErrorCode.InvalidArgument, `workload sequence "${spec}": ${why} (spelling: WORKLOAD@COUNT,...,WORKLOAD with COUNT host writes or Nx for N x logicalBlocks, e.g. hotcold-90-10@40x,uniform)`);
  if (!isWorkloadSequence(spec)) {
    if (COUNT.test(spec)) throw bad("a single workload takes no @COUNT (the last one of a sequence runs on)");
    return [{ spec, writes: undefined }];
  }
  const texts = spec.split(",");
  return texts.map((text, i) => {
    const last = i === texts.length - 1;
    const m = COUNT.exec(text);
    const name = (m ? text.slice(0, m.index) : text).trim();
    if (name === "") throw bad(`part ${i + 1} names no workload`);
    if (last) {
      if (m) throw bad(`the last part (${text}) runs on: it takes no @COUNT`);
      return { spec: name, writes: undefined };
    }
    if (!m) throw bad(`part ${i + 1} (${text}) needs @COUNT: how many host writes before the next one`);
    const n = Number(m[1]);
    const writes = m[2] === "x" ? Math.round(n * logicalBlocks) : n;
    if (m[2] !== "x" && !Number.isSafeInteger(n)) throw bad(`part ${i + 1} (${text}): a count of host writes must be an integer (or Nx)`);
    if (!(writes >= 1)) throw bad(`part ${i + 1} (${text}) must last at least one host write`);
    return { spec: name, writes };
  });
}

/**
 * Splits a comma-separated list of workloads, any of them a sequence: `zipf-1.0,hotcold-90-10@20x,uniform`
 * is `zipf-1.0` and `hotcold-90-10@20x,uniform`. A list ending on a part with @COUNT is
 * KMLIB_INVALID_ARGUMENT naming that part (a sequence's last part runs on).
 */
export function splitWorkloadList(text: string): string[] {
  const out: string[] = [];
  let open: string[] = [];
  for (const raw of text.split(",")) {
    const part = raw.trim();
    if (part === "") throw new KmlibError(ErrorCode.InvalidArgument, `workload list "${text}": an empty entry (two commas, or one at an end)`);
    open.push(part);
    if (!COUNT.test(part)) {
      out.push(open.join(","));
      open = [];
    }
  }
  if (open.length > 0) {
    throw new KmlibError(
      ErrorCode.InvalidArgument,
      `workload list "${text}": the sequence ${open.join(",")} ends on ${open[open.length - 1]}, which has @COUNT; a sequence's last part runs on and takes none (e.g. hotcold-90-10@40x,uniform)`,
    );
  }
  return out;
}

/** The parts, built. `writes` is undefined only for the last one. */
export interface ShiftedPart {
  readonly workload: Workload;
  readonly writes: number | undefined;
}

export class ShiftedWorkload implements Workload {
  readonly name: string;
  readonly logicalBlocks: number;
  readonly parts: readonly ShiftedPart[];
  /** Host write (from this workload's first) at which each part starts. */
  readonly starts: readonly number[];
  #written = 0;
  #part = 0;
  /** Ground truth when every part has it: the current part's rate, its clock counted from its own start. */
  readonly trueRate?: (lba: number, t: number) => number;

  constructor(parts: readonly ShiftedPart[], name?: string) {
    if (parts.length === 0) throw new KmlibError(ErrorCode.InvalidArgument, "a shifted workload needs at least one part");
    const u = parts[0]!.workload.logicalBlocks;
    const starts: number[] = [];
    let at = 0;
    parts.forEach((p, i) => {
      if (p.workload.logicalBlocks !== u) throw new KmlibError(ErrorCode.InvalidArgument, `shifted workload part ${i + 1} (${p.workload.name}): ${p.workload.logicalBlocks} logical blocks, the first has ${u}`);
      const last = i === parts.length - 1;
      if (!last && !(Number.isSafeInteger(p.writes) && p.writes! >= 1)) throw new KmlibError(ErrorCode.InvalidArgument, `shifted workload part ${i + 1} (${p.workload.name}): needs a positive integer count of writes, got ${p.writes}`);
      starts.push(at);
      at += p.writes ?? 0;
    });
    this.parts = parts;
    this.starts = starts;
    this.logicalBlocks = u;
    this.name = name ?? parts.map((p, i) => (i < parts.length - 1 ? `${p.workload.name}@${p.writes}` : p.workload.name)).join(",");
    if (parts.every((p) => p.workload.trueRate)) {
      this.trueRate = (lba, t) => {
        const i = this.partAt(t);
        return parts[i]!.workload.trueRate!(lba, t - starts[i]!);
      };
    }
  }

  /** Host writes drawn so far. */
  get written(): number {
    return this.#written;
  }
  /** The part the next write comes from. */
  get current(): ShiftedPart {
    return this.parts[this.#part]!;
  }
  /** Its index (0-based): it changes once the previous part's count of writes was drawn. */
  get currentIndex(): number {
    return this.#part;
  }

  /** Index of the part that write `t` (0-based, from this workload's first) comes from. */
  partAt(t: number): number {
    let i = 0;
    while (i + 1 < this.parts.length && t >= this.starts[i + 1]!) i++;
    return i;
  }

  next(out: Int32Array, n: number): void {
    let off = 0;
    while (off < n) {
      const last = this.#part === this.parts.length - 1;
      const left = last ? n - off : Math.min(n - off, this.starts[this.#part + 1]! - this.#written);
      this.parts[this.#part]!.workload.next(off === 0 ? out : out.subarray(off), left);
      off += left;
      this.#written += left;
      if (!last && this.#written >= this.starts[this.#part + 1]!) this.#part++;
    }
  }
}

/**
 * Builds a workload from its name: a plain registry name through `make`, a sequence as a
 * `ShiftedWorkload` of `make`'s workloads (part i with seed + i).
 */
export function makeShiftedWorkload<O extends { logicalBlocks: number; seed: number }>(spec: string, opts: O, make: (spec: string, opts: O) => Workload): Workload {
  const parts = parseWorkloadSequence(spec, opts.logicalBlocks);
  if (parts.length === 1) return make(parts[0]!.spec, opts);
  return new ShiftedWorkload(
    parts.map((p, i) => {
      try {
        return { workload: make(p.spec, { ...opts, seed: opts.seed + i }), writes: p.writes };
      } catch (e) {
        if (e instanceof KmlibError) throw new KmlibError(e.code, `workload sequence "${spec}", part ${i + 1}: ${e.message}`, { cause: e });
        throw e;
      }
    }),
    spec,
  );
}
