/**
 * @module compile/compile
 * `compileModel(ir, options)`: the integer form to eBPF, as plain data (programs as DSL
 * items, the maps they need) that `loadModel` (./load.ts) puts in the kernel.
 *
 * Strategies: "inline" (parameters are immediates in the code) and "table" (parameters in
 * a map, swappable without reloading). Layouts of inline tree ensembles: "single" (one
 * function), "subprogs" (chunks of trees as bpf-to-bpf subprograms), "tailcalls" (chunks
 * as separate programs chained through a PROG_ARRAY, each with its own 1M budgets).
 * "auto" picks inline/single when it fits the kernel's limits, else table, else inline
 * tail calls; a model that fits nothing is a KMLIB_INVALID_MODEL error naming the limit and
 * what would fit. Pure: no kernel access.
 */
import type { AsmItem } from "../bpf/asm/index.ts";
import { assertNever, ErrorCode, KmlibError } from "../errors.ts";
import { irScoreCount, type IrBoosted, type IrForest, type IrModel } from "../ml/ir/types.ts";
import { validateIr } from "../ml/ir/validate.ts";
import { DEFAULT_PREFIX, recordBytes } from "./abi.ts";
import type { BodyContext } from "./emit-common.ts";
import { inlineLinearBody, inlineMlpBody } from "./inline-dense.ts";
import { estimateTreeSlots, inlineTreeBody, inlineTreeBodyChunked, treeCodeSizes } from "./inline-trees.ts";
import { countSlots, estimateInlineProcessed, estimateTableProcessed, KERNEL_LIMITS, type KernelLimits } from "./limits.ts";
import { chainStage } from "./tailcall.ts";
import { tableBody } from "./table-emit.ts";
import { tableShape, type TableCapacity, type TableShape } from "./table-layout.ts";
import { functionFragment, ioProgram, recordProgram, type BodyBuilder, type Fragment, type IoOptions } from "./wrap.ts";

export type Strategy = "inline" | "table";
export type Layout = "single" | "subprogs" | "tailcalls";
/** See abi.ts: a standalone XDP program over a packet record, an I/O-map program, or a fragment. */
export type Form = "record" | "io" | "function";

export interface CompileOptions {
  strategy?: Strategy | "auto";
  layout?: Layout | "auto";
  form?: Form;
  /** Label and map-name prefix (default "kmlib_"). */
  prefix?: string;
  /** I/O form: tail-call here once the answer is in the I/O map. */
  continuation?: IoOptions["continuation"];
  /** Table strategy: room for larger models swapped in later. */
  capacity?: TableCapacity;
  /** Limits to plan for (default: the kernel's, for a CAP_BPF loader). */
  limits?: Partial<KernelLimits>;
  /** Subprogs/tailcalls: most instructions per chunk (default: what the limits allow). */
  chunkInsns?: number;
}

export interface MapPlan {
  name: string;
  type: "ARRAY" | "PERCPU_ARRAY" | "PROG_ARRAY";
  keySize: number;
  valueSize: number;
  maxEntries: number;
  role: "table" | "control" | "io" | "chain";
}

export interface CompiledProgram {
  name: string;
  items: AsmItem[];
  /** Instruction slots. */
  insns: number;
  processedEstimate: number;
  stackBytes: number;
}

export interface CompiledModel {
  ir: IrModel;
  strategy: Strategy;
  layout: Layout;
  form: Form;
  prefix: string;
  /** programs[0] is the entry; with tail calls, programs[i] is chain stage i. */
  programs: CompiledProgram[];
  maps: MapPlan[];
  table?: TableShape;
  nFeatures: number;
  nScores: number;
  nClasses: number;
  /** Why this strategy and layout (for `kmlib compile` and errors). */
  reason: string;
}

const STRATEGIES = ["inline", "table", "auto"] as const;
/** Generated instructions live in memory as objects: a bound on a whole tail-call chain. */
const MAX_CHAIN_INSNS = 4_000_000;
const LAYOUTS = ["single", "subprogs", "tailcalls", "auto"] as const;
const FORMS = ["record", "io", "function"] as const;

function tooLarge(msg: string): never {
  throw new KmlibError(ErrorCode.InvalidModel, `model too large: ${msg}`);
}

function wrapBody(build: BodyBuilder, ir: IrModel, form: Form, prefix: string, copyX: boolean, o: CompileOptions): Fragment {
  const nScores = irScoreCount(ir);
  switch (form) {
    case "function":
      return functionFragment(build, prefix);
    case "record":
      return recordProgram(build, { nFeatures: ir.nFeatures, nScores, prefix, copyX });
    case "io":
      return ioProgram(build, { nFeatures: ir.nFeatures, nScores, prefix, continuation: o.continuation });
    default:
      return assertNever(form, "program form");
  }
}

/** The inline body of any model kind (single layout). */
export function inlineBuilder(ir: IrModel): BodyBuilder {
  switch (ir.kind) {
    case "tree":
    case "forest":
    case "boosted":
      return (ctx: BodyContext) => inlineTreeBody(ir, ctx);
    case "linear":
      return (ctx) => inlineLinearBody(ir, ctx);
    case "mlp":
      return (ctx) => inlineMlpBody(ir, ctx);
    default:
      return assertNever(ir, "integer model kind");
  }
}

function program(name: string, f: Fragment, processed: (insns: number) => number): CompiledProgram {
  const insns = countSlots(f.items);
  return { name, items: f.items, insns, processedEstimate: processed(insns), stackBytes: f.stackBytes };
}

/** Why a program breaks a limit, or undefined. */
function breaks(p: CompiledProgram, lim: KernelLimits): string | undefined {
  if (p.insns > lim.maxInsns) return `${p.insns} instructions exceed the ${lim.maxInsns}-instruction program limit`;
  if (p.processedEstimate > lim.maxProcessed) return `about ${p.processedEstimate} verifier-processed instructions exceed the ${lim.maxProcessed} limit`;
  if (p.stackBytes > lim.stackBytes) return `${p.stackBytes} stack bytes exceed the ${lim.stackBytes}-byte stack`;
  return undefined;
}

function ioMap(ir: IrModel, prefix: string): MapPlan {
  return { name: `${prefix}io`, type: "PERCPU_ARRAY", keySize: 4, valueSize: recordBytes(ir.nFeatures, irScoreCount(ir)), maxEntries: 1, role: "io" };
}

/** Greedy chunks of consecutive trees whose code stays under `budget` slots. */
function chunkTrees(sizes: readonly number[], budget: number): number[][] {
  const chunks: number[][] = [];
  let cur: number[] = [];
  let used = 0;
  sizes.forEach((s, t) => {
    if (s > budget) tooLarge(`tree ${t} alone needs ${s} instructions, more than the ${budget} one program may hold; use the table strategy`);
    if (used + s > budget && cur.length > 0) {
      chunks.push(cur);
      cur = [];
      used = 0;
    }
    cur.push(t);
    used += s;
  });
  if (cur.length > 0) chunks.push(cur);
  return chunks;
}

interface Plan {
  strategy: Strategy;
  layout: Layout;
  programs: CompiledProgram[];
  maps: MapPlan[];
  table?: TableShape;
}

/** Upper bound of the inline code of tree models, checked before any code is generated. */
function inlineTreeBound(ir: IrModel): number {
  switch (ir.kind) {
    case "tree":
      return estimateTreeSlots(ir.tree, ir.nClasses, 0) + ir.tree.leafValue.length * 2 + 64;
    case "forest":
    case "boosted":
      return treeCodeSizes(ir).reduce((a, b) => a + b, 0) + 32 * irScoreCount(ir) + 64;
    case "linear":
    case "mlp":
      return 0;
    default:
      return assertNever(ir, "integer model kind");
  }
}

function planInline(ir: IrModel, layout: Exclude<Layout, "tailcalls">, form: Form, prefix: string, o: CompileOptions, lim: KernelLimits): Plan {
  const bound = inlineTreeBound(ir);
  if (bound > lim.maxInsns) tooLarge(`about ${bound} instructions exceed the ${lim.maxInsns}-instruction program limit`);
  if (estimateInlineProcessed(bound) > lim.maxProcessed) tooLarge(`about ${estimateInlineProcessed(bound)} verifier-processed instructions exceed the ${lim.maxProcessed} limit`);
  let build = inlineBuilder(ir);
  if (layout === "subprogs") {
    if (ir.kind !== "forest" && ir.kind !== "boosted") throw new KmlibError(ErrorCode.InvalidArgument, `layout "subprogs" splits tree ensembles; a ${ir.kind} model has one body`);
    const ens = ir;
    const chunks = chunkTrees(treeCodeSizes(ens), o.chunkInsns ?? 32000);
    build = (ctx) => inlineTreeBodyChunked(ens, ctx, chunks);
  }
  const maps = form === "io" ? [ioMap(ir, prefix)] : [];
  const dense = ir.kind === "linear" || ir.kind === "mlp";
  return { strategy: "inline", layout, programs: [program(`${prefix}model`, wrapBody(build, ir, form, prefix, false, o), (n) => estimateInlineProcessed(n, dense))], maps };
}

function planTailcalls(ir: IrModel, form: Form, prefix: string, o: CompileOptions, lim: KernelLimits): Plan {
  if (ir.kind !== "forest" && ir.kind !== "boosted") throw new KmlibError(ErrorCode.InvalidArgument, `layout "tailcalls" splits tree ensembles, not a ${ir.kind} model`);
  if (form === "function") throw new KmlibError(ErrorCode.InvalidArgument, `layout "tailcalls" needs form "record" or "io": a function cannot tail-call and return`);
  const budget = o.chunkInsns ?? Math.floor(Math.min(lim.maxInsns, lim.maxProcessed / 1.5)) - 1024;
  const sizes = treeCodeSizes(ir);
  const chunks = chunkTrees(sizes, budget);
  const total = chunks.flat().reduce((n, t) => n + sizes[t]!, 0);
  if (total > MAX_CHAIN_INSNS) tooLarge(`a tail-call chain of about ${total} instructions is beyond what kmlib generates (${MAX_CHAIN_INSNS}); use the table strategy`);
  if (chunks.length > lim.tailCalls + 1) tooLarge(`${chunks.length} tail-call stages needed, beyond the chain of ${lim.tailCalls + 1} programs (MAX_TAIL_CALL_CNT ${lim.tailCalls}); use the table strategy`);
  const ens: IrForest | IrBoosted = ir;
  const programs = chunks.map((_, i) => {
    const items = chainStage(ens, chunks, i, { form, prefix, continuation: o.continuation });
    return program(`${prefix}s${i}`, { items, stackBytes: 24 }, estimateInlineProcessed);
  });
  const maps: MapPlan[] = [ioMap(ir, prefix), { name: `${prefix}chain`, type: "PROG_ARRAY", keySize: 4, valueSize: 4, maxEntries: chunks.length, role: "chain" }];
  return { strategy: "inline", layout: "tailcalls", programs, maps };
}

function planTable(ir: IrModel, form: Form, prefix: string, o: CompileOptions): Plan {
  const shape = tableShape(ir, o.capacity);
  const f = wrapBody((ctx) => tableBody(shape, ctx), ir, form, prefix, true, o);
  const loop = shape.family === "trees" ? { body: 18 * shape.depth + 4 * shape.nScores + 16, n: shape.treeCap } : { body: 0, n: 0 };
  const p = program(`${prefix}model`, f, (insns) => estimateTableProcessed(insns, loop.body, loop.n, shape.family !== "trees"));
  const maps: MapPlan[] = [
    { name: `${prefix}tbl`, type: "ARRAY", keySize: 4, valueSize: shape.bytes, maxEntries: 2, role: "table" },
    { name: `${prefix}ctl`, type: "ARRAY", keySize: 4, valueSize: 8, maxEntries: 1, role: "control" },
  ];
  if (form === "io") maps.push(ioMap(ir, prefix));
  return { strategy: "table", layout: "single", programs: [p], maps, table: shape };
}

function firstBreak(plan: Plan, lim: KernelLimits): string | undefined {
  for (const p of plan.programs) {
    const why = breaks(p, lim);
    if (why) return plan.programs.length > 1 ? `${p.name}: ${why}` : why;
  }
  return undefined;
}

function attempt(f: () => Plan): Plan | string {
  try {
    return f();
  } catch (e) {
    if (e instanceof KmlibError) return e.message.replace(/^model too large: /, "");
    throw e;
  }
}

export function compileModel(irIn: IrModel, o: CompileOptions = {}): CompiledModel {
  const ir = validateIr(irIn);
  const strategy = o.strategy ?? "auto";
  const layout = o.layout ?? "auto";
  const form = o.form ?? "record";
  const prefix = o.prefix ?? DEFAULT_PREFIX;
  if (!STRATEGIES.includes(strategy)) throw new KmlibError(ErrorCode.InvalidArgument, `unknown strategy ${JSON.stringify(strategy)} (expected ${STRATEGIES.join(", ")})`);
  if (!LAYOUTS.includes(layout)) throw new KmlibError(ErrorCode.InvalidArgument, `unknown layout ${JSON.stringify(layout)} (expected ${LAYOUTS.join(", ")})`);
  if (!FORMS.includes(form)) throw new KmlibError(ErrorCode.InvalidArgument, `unknown form ${JSON.stringify(form)} (expected ${FORMS.join(", ")})`);
  if (!/^[A-Za-z_][A-Za-z0-9_]{0,7}$/.test(prefix)) throw new KmlibError(ErrorCode.InvalidArgument, `prefix ${JSON.stringify(prefix)}: 1-8 characters [A-Za-z0-9_] (map names must fit 15)`);
  const lim: KernelLimits = { ...KERNEL_LIMITS, ...o.limits };
  const ensemble = ir.kind === "forest" || ir.kind === "boosted";

  // Candidates in order of preference; the first that fits every limit wins.
  const tried: Array<{ what: string; result: Plan | string }> = [];
  const consider = (what: string, f: () => Plan): Plan | undefined => {
    const r = attempt(f);
    const why = typeof r === "string" ? r : firstBreak(r, lim);
    tried.push({ what, result: why ?? r });
    return why ? undefined : (r as Plan);
  };
  const wantInline = strategy !== "table";
  const wantTable = strategy !== "inline";
  let chosen: Plan | undefined;
  let reason = "";
  if (wantInline && (layout === "auto" || layout === "single")) chosen = consider("inline/single", () => planInline(ir, "single", form, prefix, o, lim));
  if (!chosen && wantInline && layout === "subprogs") chosen = consider("inline/subprogs", () => planInline(ir, "subprogs", form, prefix, o, lim));
  if (!chosen && wantTable && (layout === "auto" || layout === "single")) chosen = consider("table", () => planTable(ir, form, prefix, o));
  if (!chosen && wantInline && ensemble && form !== "function" && (layout === "auto" || layout === "tailcalls")) {
    chosen = consider("inline/tailcalls", () => planTailcalls(ir, form, prefix, o, lim));
  }
  if (!chosen) {
    const lines = tried.map((t) => `${t.what}: ${typeof t.result === "string" ? t.result : "fits"}`);
    // Tell what would fit when the user's choice excluded it.
    const others: string[] = [];
    if (strategy === "inline" || layout !== "auto") {
      const alt = attempt(() => planTable(ir, form, prefix, o));
      if (typeof alt !== "string" && !firstBreak(alt, lim)) others.push("--strategy table");
      if (ensemble && form !== "function") {
        const tc = attempt(() => planTailcalls(ir, form, prefix, o, lim));
        if (typeof tc !== "string" && !firstBreak(tc, lim)) others.push("layout tailcalls");
      }
    }
    const hint = others.length > 0 ? `; would fit: ${others.join(", ")}` : tried.length === 0 ? "" : "; no strategy fits: shrink the model (fewer or shallower trees)";
    if (tried.length === 0) throw new KmlibError(ErrorCode.InvalidArgument, `strategy ${strategy} with layout ${layout} does not apply to a ${ir.kind} model in form ${form}`);
    tooLarge(`${lines.join("; ")}${hint}`);
  }
  reason = tried.map((t) => `${t.what}: ${typeof t.result === "string" ? t.result : "fits"}`).join("; ");
  return {
    ir,
    strategy: chosen.strategy,
    layout: chosen.layout,
    form,
    prefix,
    programs: chosen.programs,
    maps: chosen.maps,
    ...(chosen.table ? { table: chosen.table } : {}),
    nFeatures: ir.nFeatures,
    nScores: irScoreCount(ir),
    nClasses: ir.nClasses,
    reason,
  };
}
