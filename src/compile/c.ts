/**
 * @module compile/c
 * The integer form as C with no floating point and no libc (only <stdint.h>), for kernel
 * modules, embedded targets and the clang-compiled BPF baseline of the benchmarks:
 *
 *     int kmlib_predict(const int32_t *x, int32_t *scores);   // returns the class
 *
 * Trees are nested if/else with constant thresholds, ensembles add constants to int32
 * accumulators, linear models accumulate in int64, perceptrons are unrolled MACs with the
 * weights as literals (no tables, so a BPF build needs no .rodata map). Arithmetic never
 * overflows (validateIr proves it), so there is no undefined behaviour; `>>` of a negative
 * value is arithmetic on every compiler kmlib targets (gcc, clang: implementation-defined
 * in C, documented by both).
 */
import { assertNever } from "../errors.ts";
import { irDecide } from "../ml/ir/evaluate.ts";
import { irScoreCount, MLP_ACT_MAX, type IrBoosted, type IrForest, type IrModel, type IrTree } from "../ml/ir/types.ts";
import { validateIr } from "../ml/ir/validate.ts";

export interface COptions {
  /** Function name (default kmlib_predict). */
  name?: string;
  /** Qualifiers before the return type, e.g. "static __attribute__((always_inline))". */
  storage?: string;
  /** Emit `#include <stdint.h>` (default true; BPF builds may bring their own types). */
  includeStdint?: boolean;
  /**
   * For BPF builds: start ensemble accumulators from a zero the verifier cannot evaluate
   * (`z - z` behind an empty asm), as kmlib's own code does. With constant accumulators the
   * verifier cannot prune the joins between trees and gives up on larger forests.
   */
  opaqueAccumulators?: boolean;
  /**
   * For BPF builds: read every feature through a volatile pointer at each use. Otherwise
   * clang keeps features in registers across trees, the verifier narrows their ranges per
   * path, and the states at tree joins no longer prune (1M-instruction limit on forests).
   */
  volatileInputs?: boolean;
  /**
   * For BPF builds of ensembles: put this many trees in each `static noinline` function
   * (bpf-to-bpf calls), which adds its trees to the scores through a pointer. The verifier
   * walks each function's branches once per call instead of one body holding every tree,
   * and clang allocates registers per function (no stack spills on large forests).
   */
  treesPerFunction?: number;
  /** Extra attributes of the tree functions, e.g. `__attribute__((section("xdp")))`. */
  functionAttributes?: string;
  /**
   * For BPF builds of ensembles: an empty asm before each tree that takes x (and, with
   * "scores", the accumulators) as read-write operands, so clang reloads the features in
   * every tree (libbpf's `barrier_var` idiom) instead of keeping them in registers for the
   * verifier to narrow.
   */
  treeBarrier?: "x" | "scores";
}

/** An int32 literal (INT32_MIN has no literal of its own). */
const i32 = (v: number): string => (v === -2147483648 ? "(-2147483647 - 1)" : String(v));
/** An int64 literal. */
const i64 = (v: bigint): string => (v === -(2n ** 63n) ? "(-INT64_C(9223372036854775807) - 1)" : `INT64_C(${v})`);

function ind(depth: number): string {
  return "  ".repeat(depth);
}

function treeC(t: IrTree, leaf: (l: number, depth: number) => string[], depth: number): string[] {
  if (t.feature.length === 0) return leaf(0, depth);
  const walk = (c: number, d: number): string[] => {
    if (c < 0) return leaf(-c - 1, d);
    return [
      `${ind(d)}if (x[${t.feature[c]}] <= ${i32(t.threshold[c]!)}) {`,
      ...walk(t.left[c]!, d + 1),
      `${ind(d)}} else {`,
      ...walk(t.right[c]!, d + 1),
      `${ind(d)}}`,
    ];
  };
  return walk(0, depth);
}

/** One tree of an ensemble adding its leaf to the accumulators s0..; `x` are the features. */
function ensembleTreeC(ir: IrForest | IrBoosted, ti: number, o: COptions, depth = 1): string[] {
  const t = ir.trees[ti]!;
  const S = irScoreCount(ir);
  const barrier = o.treeBarrier === undefined ? [] : [`${ind(depth)}__asm__ volatile("" : "+r"(x)${o.treeBarrier === "scores" ? Array.from({ length: S }, (_, s) => `, "+r"(s${s})`).join("") : ""});`];
  return [
    `${ind(depth)}/* tree ${ti} */`,
    ...barrier,
    ...treeC(t, (l, d) => {
      if (ir.kind === "boosted") return [`${ind(d)}s${ir.treeScore[ti]} += ${i32(t.leafValue[l]!)};`];
      const k = ir.nClasses;
      return t.leafValue.slice(l * k, l * k + k).flatMap((v, c) => (v === 0 ? [] : [`${ind(d)}s${c} += ${i32(v)};`]));
    }, depth),
  ];
}

const treeFunctionName = (o: COptions, f: number) => `${o.name ?? "kmlib_predict"}_trees${f}`;

/** The `static noinline` tree functions of `treesPerFunction` (placed before the entry). */
function treeFunctionsC(ir: IrForest | IrBoosted, o: COptions): string[] {
  const per = o.treesPerFunction!;
  const S = irScoreCount(ir);
  const out: string[] = [];
  for (let f = 0; f * per < ir.trees.length; f++) {
    out.push(
      `static __attribute__((noinline))${o.functionAttributes ? " " + o.functionAttributes : ""} void ${treeFunctionName(o, f)}(const int32_t *x_, int32_t *scores)`,
      "{",
      `  const ${o.volatileInputs ? "volatile " : ""}int32_t *x = x_;`,
      ...Array.from({ length: S }, (_, s) => `  int32_t s${s} = scores[${s}];`),
    );
    for (let ti = f * per; ti < Math.min(ir.trees.length, (f + 1) * per); ti++) out.push(...ensembleTreeC(ir, ti, o));
    out.push(...Array.from({ length: S }, (_, s) => `  scores[${s}] = s${s};`), "}", "");
  }
  return out;
}

function argmaxC(n: number, arr: string): string[] {
  if (n === 1) return [`  return ${arr}[0] > 0 ? 1 : 0;`];
  const out = ["  int best = 0;"];
  for (let i = 1; i < n; i++) out.push(`  if (${arr}[${i}] > ${arr}[best]) best = ${i};`);
  out.push("  return best;");
  return out;
}

function bodyC(ir: IrModel, o: COptions): string[] {
  const S = irScoreCount(ir);
  switch (ir.kind) {
    case "tree": {
      const k = ir.nClasses;
      return treeC(ir.tree, (l, d) => {
        const v = ir.tree.leafValue.slice(l * k, l * k + k);
        return [...v.map((s, c) => `${ind(d)}scores[${c}] = ${i32(s)};`), `${ind(d)}return ${irDecide(v)};`];
      }, 1);
    }
    case "forest":
    case "boosted": {
      const bias = ir.kind === "boosted" ? ir.bias : new Array<number>(S).fill(0);
      const zero = o.opaqueAccumulators ? " + (z0 - z1)" : "";
      const out = o.opaqueAccumulators ? ["  int32_t z0 = x[0], z1 = z0;", '  __asm__ volatile("" : "+r"(z1));'] : [];
      out.push(...bias.map((b, s) => `  int32_t s${s} = ${i32(b)}${zero};`));
      if (o.treesPerFunction !== undefined) {
        out.push("  (void)x;");
        for (let s = 0; s < S; s++) out.push(`  scores[${s}] = s${s};`);
        for (let f = 0; f * o.treesPerFunction < ir.trees.length; f++) out.push(`  ${treeFunctionName(o, f)}(x_, scores);`);
        return [...out, ...argmaxC(S, "scores")];
      }
      ir.trees.forEach((_, ti) => out.push(...ensembleTreeC(ir, ti, o)));
      for (let s = 0; s < S; s++) out.push(`  scores[${s}] = s${s};`);
      return [...out, ...argmaxC(S, "scores")];
    }
    case "linear": {
      const F = ir.nFeatures;
      const out: string[] = ["  int64_t acc;"];
      for (let s = 0; s < S; s++) {
        const terms = [];
        for (let j = 0; j < F; j++) {
          const w = ir.weights[s * F + j]!;
          if (w !== 0) terms.push(`(int64_t)${i32(w)} * x[${j}]`);
        }
        out.push(`  acc = ${[i64(ir.bias[s]!), ...terms].join("\n      + ")};`);
        if (ir.shift > 0) out.push(`  acc >>= ${ir.shift};`);
        out.push(`  scores[${s}] = acc > INT32_MAX ? INT32_MAX : acc < INT32_MIN ? INT32_MIN : (int32_t)acc;`);
      }
      return [...out, ...argmaxC(S, "scores")];
    }
    case "mlp": {
      const inp = ir.input;
      const out: string[] = ["  int64_t v;", "  int32_t r;"];
      out.push(`  int32_t a0[${ir.nFeatures}];`);
      for (let j = 0; j < ir.nFeatures; j++) {
        out.push(`  v = ((int64_t)x[${j}] * ${i32(inp.mul[j]!)} + ${i64(inp.add[j]!)}) >> ${inp.shift[j]};`);
        out.push(`  a0[${j}] = v > ${inp.max} ? ${inp.max} : v < -${inp.max} ? -${inp.max} : (int32_t)v;`);
      }
      ir.layers.forEach((layer, l) => {
        const last = l === ir.layers.length - 1;
        const half = layer.shift > 0 ? 2 ** (layer.shift - 1) : 0;
        const dst = last ? "scores" : `a${l + 1}`;
        if (!last) out.push(`  int32_t a${l + 1}[${layer.nOut}];`);
        for (let o = 0; o < layer.nOut; o++) {
          const terms = [i32(layer.bias[o]! + half)];
          for (let i = 0; i < layer.nIn; i++) {
            const w = layer.weights[o * layer.nIn + i]!;
            if (w !== 0) terms.push(`${w} * a${l}[${i}]`);
          }
          out.push(`  r = (${terms.join(" + ")})${layer.shift > 0 ? ` >> ${layer.shift}` : ""};`);
          if (layer.activation === "relu") out.push(`  r = r < 0 ? 0 : r > ${MLP_ACT_MAX} ? ${MLP_ACT_MAX} : r;`);
          out.push(`  ${dst}[${o}] = r;`);
        }
      });
      return [...out, ...argmaxC(S, "scores")];
    }
    default:
      return assertNever(ir, "integer model kind");
  }
}

/** C source of `ir` (validated first). */
export function generateC(irIn: IrModel, o: COptions = {}): string {
  const ir = validateIr(irIn);
  const name = o.name ?? "kmlib_predict";
  const S = irScoreCount(ir);
  const head = [
    `/* Generated by kmlib from a ${ir.kind} model: ${ir.nFeatures} int32 features, ${S} int32 score(s), ${ir.nClasses} classes.`,
    ` * Integer only: no floating point, no libc. Returns the class; writes scores[0..${S - 1}]. */`,
    ...(o.includeStdint === false ? [] : ["#include <stdint.h>"]),
    "",
    ...(o.treesPerFunction !== undefined && (ir.kind === "forest" || ir.kind === "boosted") ? treeFunctionsC(ir, o) : []),
    `${o.storage ? o.storage + " " : ""}int ${name}(const int32_t *x_, int32_t *scores)`,
    "{",
    `  const ${o.volatileInputs ? "volatile " : ""}int32_t *x = x_;`,
  ];
  return [...head, ...bodyC(ir, o), "}", ""].join("\n");
}
