/**
 * @module ml/import/onnx-linear
 * ONNX-ML `LinearClassifier` (optionally behind a `Scaler`) to a kmlib linear model.
 * Scores are `intercepts[c] + coefficients[c, :] . x`; with one row the class is 1 when the
 * score > 0, with several it is the top row (the lowest index wins a tie), which is both
 * onnxruntime's rule and kmlib's. `post_transform` and `multi_class` never change that class.
 * A Scaler (`(x - offset) * scale`) becomes the model's standardizer (mean = offset,
 * std = 1 / scale). Two rows that are exact negatives of each other (how converters write
 * a binary logistic regression) collapse to one: s1 > -s1 exactly when s1 > 0.
 */
import type { LinearModel } from "../model/types.ts";
import { failNode, reals, string } from "./onnx-attrs.ts";
import type { OnnxNode } from "./onnx-proto.ts";

export function linearFeatureCount(n: OnnxNode): number {
  const coef = reals(n, "coefficients", true);
  const rows = reals(n, "intercepts").length || 1;
  return coef.length / rows;
}

function scalerStandardizer(s: OnnxNode, F: number): { mean: Float64Array; std: Float64Array } {
  const broadcast = (name: string, dflt: number): number[] => {
    const v = reals(s, name);
    if (v.length === 0) return new Array<number>(F).fill(dflt);
    if (v.length === 1) return new Array<number>(F).fill(v[0]!);
    if (v.length !== F) failNode(s, `${name} has ${v.length} entries for ${F} features`);
    return v;
  };
  const offset = broadcast("offset", 0);
  const scale = broadcast("scale", 1);
  scale.forEach((v, j) => {
    if (!Number.isFinite(v) || v === 0) failNode(s, `scale of feature ${j} is ${v}`);
  });
  return { mean: Float64Array.from(offset), std: Float64Array.from(scale, (v) => 1 / v) };
}

export function linearClassifier(n: OnnxNode, scaler: OnnxNode | undefined, nFeatures: number, featureNames: string[], classNames: string[], notes: string[]): LinearModel {
  const coef = reals(n, "coefficients", true);
  let bias = reals(n, "intercepts");
  const rows = bias.length;
  if (rows === 0) failNode(n, "attribute intercepts is missing");
  if (coef.length !== rows * nFeatures) failNode(n, `${coef.length} coefficients for ${rows} classes x ${nFeatures} features`);
  for (const v of [...coef, ...bias]) if (!Number.isFinite(v)) failNode(n, `non-finite coefficient or intercept ${v}`);
  if (rows === 1 ? classNames.length !== 2 : classNames.length !== rows) {
    failNode(n, `${rows} coefficient row(s) for ${classNames.length} class labels (expected 1 row for 2 labels, or one row per label)`);
  }
  let weights = coef;
  if (rows === 2 && coef.every((v, i) => (i < nFeatures ? v === -coef[i + nFeatures]! : true)) && bias[0] === -bias[1]!) {
    weights = coef.slice(nFeatures);
    bias = [bias[1]!];
    notes.push("binary LinearClassifier with mirrored rows collapsed to one score");
  }
  const post = string(n, "post_transform", "NONE");
  if (post !== "NONE") notes.push(`post_transform ${post} ignored: it is monotone and does not change the predicted class`);
  const standardizer = scaler
    ? scalerStandardizer(scaler, nFeatures)
    : { mean: new Float64Array(nFeatures), std: new Float64Array(nFeatures).fill(1) };
  if (scaler) notes.push("Scaler folded into the standardizer (mean = offset, std = 1 / scale)");
  return {
    kind: "linear",
    nFeatures,
    featureNames,
    classNames,
    standardizer,
    weights: Float64Array.from(weights),
    bias: Float64Array.from(bias),
    nScores: bias.length,
  };
}
