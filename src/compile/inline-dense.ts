/**
 * @module compile/inline-dense
 * Inline strategy for linear models and perceptrons: fully unrolled multiply-adds with the
 * weights as immediates.
 * - Linear: 64-bit accumulators (`x` sign-extended, `mul` by the int32 weight), the int64
 *   bias as an immediate, an arithmetic shift, and a clamp to int32 only when the model's
 *   bound says the shifted sum can leave it.
 * - Perceptron: inputs requantized in 64-bit and clamped to +/-max; each layer's int8 x int16
 *   MACs with int32 accumulators (proved by validateIr), two outputs per 64-bit register
 *   (one multiply by the packed weights per input, see packedPair), round-half-up shift,
 *   and ReLU as branch-free max(0) / min(MLP_ACT_MAX). Activations live on the stack as
 *   int32 slots, two buffers that alternate between layers.
 */
import { Add, ArSh, JSGE, JSLE, LoadImm64, LoadMemSX, Mov, MovSX, Mul, Neg, StoreMem, Sub, label, type AsmItem, type Register } from "../bpf/asm/index.ts";
import { MLP_ACT_MAX, type IrLinear, type IrMlp, type IrMlpLayer } from "../ml/ir/types.ts";
import { argmaxMem, finish, isImm32, minConst, reluMax0, type Body, type BodyContext } from "./emit-common.ts";

/** dst += src * w (64-bit), with src loaded already into `t`; skips zero and unit weights. */
function mac(dst: Register, t: Register, w: number): AsmItem[] {
  if (w === 0) return [];
  if (w === 1) return [Add.reg(dst, t)];
  if (w === -1) return [Neg(t), Add.reg(dst, t)];
  return [Mul.imm(t, w), Add.reg(dst, t)];
}

/** dst = v (64-bit constant). */
function const64(dst: Register, v: bigint | number): AsmItem[] {
  return isImm32(v) ? [Mov.imm(dst, Number(v))] : [LoadImm64(dst, BigInt(v))];
}

/** dst += v (64-bit constant), using `t` when v needs a 64-bit immediate. */
function addConst(dst: Register, v: bigint | number, t: Register): AsmItem[] {
  if (BigInt(v) === 0n) return [];
  return isImm32(v) ? [Add.imm(dst, Number(v))] : [LoadImm64(t, BigInt(v)), Add.reg(dst, t)];
}

/** Clamp a 64-bit register to [lo, hi] with two compares (exact for any 64-bit value). */
function clampBranches(r: Register, lo: number, hi: number, p: string): AsmItem[] {
  return [
    JSLE.imm(r, hi, `${p}_hi`), Mov.imm(r, hi), label(`${p}_hi`),
    JSGE.imm(r, lo, `${p}_lo`), Mov.imm(r, lo), label(`${p}_lo`),
  ];
}

export function inlineLinearBody(ir: IrLinear, ctx: BodyContext): Body {
  const F = ir.nFeatures;
  const items: AsmItem[] = [];
  for (let s = 0; s < ir.nScores; s++) {
    items.push(...const64(3, ir.bias[s]!));
    let bound = ir.bias[s]! < 0n ? -ir.bias[s]! : ir.bias[s]!;
    for (let j = 0; j < F; j++) {
      const w = ir.weights[s * F + j]!;
      if (w === 0) continue;
      bound += BigInt(Math.abs(w)) * 2147483648n;
      items.push(LoadMemSX("W", 4, 1, 4 * j), ...mac(3, 4, w));
    }
    if (ir.shift > 0) items.push(ArSh.imm(3, ir.shift));
    if (bound >> BigInt(ir.shift) > 2147483647n) items.push(...clampBranches(3, -2147483648, 2147483647, `${ctx.prefix}lin${s}`));
    items.push(StoreMem("W", 2, 4 * s, 3));
  }
  items.push(...argmaxMem(ir.nScores), ...finish(ctx));
  return { items, stackBytes: 0 };
}

const half = (layer: IrMlpLayer): number => (layer.shift > 0 ? 2 ** (layer.shift - 1) : 0);
const TWO32 = 2n ** 32n;

/**
 * Outputs o and o+1 of a layer in one register (SWAR): r6 = A1 * 2^32 + A0, starting from
 * the packed biases, each input a_i times the packed weights w1 * 2^32 + w0 (one multiply
 * and one add for two MACs). Exact in 64-bit two's complement because validateIr proves
 * |A0|, |A1| < 2^31, so A1 * 2^32 + A0 lies within int64. Uses r3, r4.
 */
function packedPair(layer: IrMlpLayer, o: number, slotOf: (i: number) => number): AsmItem[] {
  const n = layer.nIn;
  const out: AsmItem[] = [...const64(6, BigInt(layer.bias[o + 1]! + half(layer)) * TWO32 + BigInt(layer.bias[o]! + half(layer)))];
  for (let i = 0; i < n; i++) {
    const w0 = layer.weights[o * n + i]!;
    const w1 = layer.weights[(o + 1) * n + i]!;
    if (w0 === 0 && w1 === 0) continue;
    const packed = BigInt(w1) * TWO32 + BigInt(w0);
    out.push(LoadMemSX("W", 3, 10, slotOf(i)));
    if (isImm32(packed)) out.push(...mac(6, 3, Number(packed)));
    else out.push(LoadImm64(4, packed), Mul.reg(3, 4), Add.reg(6, 3));
  }
  return out;
}

export function inlineMlpBody(ir: IrMlp, ctx: BodyContext): Body {
  const F = ir.nFeatures;
  const inp = ir.input;
  const widest = Math.max(F, ...ir.layers.map((l) => l.nOut));
  // Two activation buffers of `widest` int32 slots below stackBase.
  const bufA = ctx.stackBase + 4 * widest;
  const bufB = bufA + 4 * widest;
  const slot = (buf: number, i: number) => -buf + 4 * i;
  const items: AsmItem[] = [];
  for (let j = 0; j < F; j++) {
    items.push(LoadMemSX("W", 3, 1, 4 * j));
    if (inp.mul[j] !== 1) items.push(Mul.imm(3, inp.mul[j]!));
    items.push(...addConst(3, inp.add[j]!, 4));
    if (inp.shift[j]! > 0) items.push(ArSh.imm(3, inp.shift[j]!));
    items.push(...clampBranches(3, -inp.max, inp.max, `${ctx.prefix}in${j}`), StoreMem("W", 10, slot(bufA, j), 3));
  }
  let src = bufA;
  let dst = bufB;
  ir.layers.forEach((layer, l) => {
    const last = l === ir.layers.length - 1;
    const store = (o: number, r: Register): AsmItem => (last ? StoreMem("W", 2, 4 * o, r) : StoreMem("W", 10, slot(dst, o), r));
    const finishOut = (o: number, r: Register): AsmItem[] => [
      ...(layer.activation === "relu" ? [...reluMax0(r, 4), ...minConst(r, MLP_ACT_MAX, 4, 5)] : []),
      store(o, r),
    ];
    let o = 0;
    for (; o + 1 < layer.nOut; o += 2) {
      items.push(...packedPair(layer, o, (i) => slot(src, i)));
      // r6 = A1 * 2^32 + A0: A0 is its low half sign-extended, A1 >> shift = (r6 - A0) >> (32 + shift).
      items.push(MovSX(32, 3, 6), Sub.reg(6, 3), ArSh.imm(6, 32 + layer.shift));
      if (layer.shift > 0) items.push(ArSh.imm(3, layer.shift));
      items.push(...finishOut(o, 3), ...finishOut(o + 1, 6));
    }
    if (o < layer.nOut) {
      items.push(Mov.imm(3, layer.bias[o]! + half(layer)));
      for (let i = 0; i < layer.nIn; i++) {
        const w = layer.weights[o * layer.nIn + i]!;
        if (w !== 0) items.push(LoadMemSX("W", 4, 10, slot(src, i)), ...mac(3, 4, w));
      }
      if (layer.shift > 0) items.push(ArSh.imm(3, layer.shift));
      items.push(...finishOut(o, 3));
    }
    [src, dst] = [dst, src];
  });
  const nOut = ir.layers[ir.layers.length - 1]!.nOut;
  items.push(...argmaxMem(nOut), ...finish(ctx));
  return { items, stackBytes: 2 * 4 * widest };
}
