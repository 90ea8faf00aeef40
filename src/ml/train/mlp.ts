/**
 * @module ml/train/mlp
 * A small multilayer perceptron (ReLU hidden layers, softmax output, cross-entropy), trained
 * by seeded mini-batch Adam, then fine-tuned for a few epochs with quantization-aware training
 * (forward pass through weights rounded to each layer's int8 grid, straight-through gradient),
 * so the returned float model's weights are exactly the int8 weights the integer form uses.
 */
import type { Dataset } from "../dataset/dataset.ts";
import type { DenseLayer, MlpModel } from "../model/types.ts";
import { Rng } from "../rng.ts";
import { Adam } from "./adam.ts";
import { fitStandardizer, standardizeMatrix } from "./standardize.ts";

export interface MlpOptions {
  /** Hidden layer sizes; default [32]. */
  hidden?: number[];
  epochs?: number;
  /** Of `epochs`, how many at the end are quantization-aware. Default 5. */
  qatEpochs?: number;
  batchSize?: number;
  learningRate?: number;
  /** Standardised inputs are clipped to [-inputClip, inputClip]. Default 8. */
  inputClip?: number;
  seed?: number;
}

export const INT8_MAX = 127;

/** Largest power-of-two exponent e with max|w| * 2^e <= 127. */
export function int8Exponent(w: Float64Array): number {
  let m = 0;
  for (const v of w) m = Math.max(m, Math.abs(v));
  if (m === 0) return 0;
  return Math.floor(Math.log2(INT8_MAX / m));
}

export function snapInt8(w: Float64Array, exp: number, out: Float64Array): void {
  const s = 2 ** exp;
  for (let i = 0; i < w.length; i++) out[i] = Math.min(INT8_MAX, Math.max(-INT8_MAX, Math.round(w[i]! * s))) / s;
}

export function trainMlp(ds: Dataset, opts: MlpOptions = {}): MlpModel {
  const K = ds.classNames.length;
  const F = ds.nFeatures;
  const n = ds.nRows;
  const sizes = [F, ...(opts.hidden ?? [32]), K];
  const L = sizes.length - 1;
  const rng = new Rng(opts.seed ?? 1);
  const clip = opts.inputClip ?? 8;
  const standardizer = fitStandardizer(ds);
  const z = standardizeMatrix(ds, standardizer, clip);

  const W: Float64Array[] = [];
  const B: Float64Array[] = [];
  for (let l = 0; l < L; l++) {
    const w = new Float64Array(sizes[l + 1]! * sizes[l]!);
    const sd = Math.sqrt(2 / sizes[l]!);
    for (let i = 0; i < w.length; i++) w[i] = rng.normal() * sd;
    W.push(w);
    B.push(new Float64Array(sizes[l + 1]!));
  }
  const Wq = W.map((w) => Float64Array.from(w));
  const gW = W.map((w) => new Float64Array(w.length));
  const gB = B.map((b) => new Float64Array(b.length));
  const lr = opts.learningRate ?? 1e-3;
  const optW = W.map((w) => new Adam(w, lr));
  const optB = B.map((b) => new Adam(b, lr));
  const act = sizes.map((s) => new Float64Array(s));
  const delta = sizes.map((s) => new Float64Array(s));
  const epochs = opts.epochs ?? 30;
  const qat = Math.min(opts.qatEpochs ?? 5, epochs);
  const exps = new Array<number>(L).fill(0);
  const order = Int32Array.from({ length: n }, (_, i) => i);
  const batch = opts.batchSize ?? 64;

  for (let epoch = 0; epoch < epochs; epoch++) {
    const quantized = epoch >= epochs - qat;
    if (quantized && epoch === epochs - qat) for (let l = 0; l < L; l++) exps[l] = int8Exponent(W[l]!);
    rng.shuffle(order);
    for (let b0 = 0; b0 < n; b0 += batch) {
      const b1 = Math.min(n, b0 + batch);
      for (let l = 0; l < L; l++) {
        if (quantized) snapInt8(W[l]!, exps[l]!, Wq[l]!);
        else Wq[l]!.set(W[l]!);
        gW[l]!.fill(0);
        gB[l]!.fill(0);
      }
      for (let bi = b0; bi < b1; bi++) {
        const r = order[bi]!;
        act[0]!.set(z.subarray(r * F, r * F + F));
        for (let l = 0; l < L; l++) {
          const nIn = sizes[l]!;
          const a = act[l]!;
          const o = act[l + 1]!;
          const w = Wq[l]!;
          for (let j = 0; j < sizes[l + 1]!; j++) {
            let s = B[l]![j]!;
            for (let i = 0; i < nIn; i++) s += w[j * nIn + i]! * a[i]!;
            o[j] = l < L - 1 && s < 0 ? 0 : s;
          }
        }
        // Softmax cross-entropy gradient at the output.
        const out = act[L]!;
        let m = -Infinity;
        for (let c = 0; c < K; c++) m = Math.max(m, out[c]!);
        let sum = 0;
        for (let c = 0; c < K; c++) sum += Math.exp(out[c]! - m);
        for (let c = 0; c < K; c++) delta[L]![c] = Math.exp(out[c]! - m) / sum - (ds.y[r] === c ? 1 : 0);
        for (let l = L - 1; l >= 0; l--) {
          const nIn = sizes[l]!;
          const a = act[l]!;
          const d = delta[l + 1]!;
          const w = Wq[l]!;
          const gw = gW[l]!;
          const din = delta[l]!;
          din.fill(0);
          for (let j = 0; j < sizes[l + 1]!; j++) {
            const dj = d[j]!;
            if (dj === 0) continue;
            gB[l]![j]! += dj;
            for (let i = 0; i < nIn; i++) {
              gw[j * nIn + i]! += dj * a[i]!;
              din[i]! += dj * w[j * nIn + i]!;
            }
          }
          if (l > 0) for (let i = 0; i < nIn; i++) if (a[i]! <= 0) din[i] = 0;
        }
      }
      const inv = 1 / (b1 - b0);
      for (let l = 0; l < L; l++) {
        for (let i = 0; i < gW[l]!.length; i++) gW[l]![i]! *= inv;
        for (let i = 0; i < gB[l]!.length; i++) gB[l]![i]! *= inv;
        optW[l]!.step(gW[l]!);
        optB[l]!.step(gB[l]!);
      }
    }
  }
  const layers: DenseLayer[] = [];
  for (let l = 0; l < L; l++) {
    const w = new Float64Array(W[l]!.length);
    if (qat > 0) snapInt8(W[l]!, exps[l]!, w);
    else w.set(W[l]!);
    layers.push({ nIn: sizes[l]!, nOut: sizes[l + 1]!, weights: w, bias: Float64Array.from(B[l]!), activation: l < L - 1 ? "relu" : "none" });
  }
  return {
    kind: "mlp",
    standardizer,
    inputClip: clip,
    layers,
    ...(qat > 0 ? { weightExp: exps } : {}),
    nFeatures: F,
    featureNames: [...ds.featureNames],
    classNames: [...ds.classNames],
  };
}
