/**
 * @module ml
 * kmlib's pure-TypeScript machine learning: datasets, trainers, float models, metrics, and
 * the integer form that code generators compile for the kernel.
 */
export * from "./dataset/dataset.ts";
export * from "./dataset/csv.ts";
export * from "./dataset/parquet.ts";
export * from "./dataset/cicflowmeter.ts";
export * from "./dataset/split.ts";
export * from "./dataset/load.ts";
export * from "./model/types.ts";
export * from "./model/predict.ts";
export * from "./train/train.ts";
export { trainCart } from "./train/cart.ts";
export { trainForest } from "./train/forest.ts";
export { trainBoosted } from "./train/boosted.ts";
export { trainLinear } from "./train/linear.ts";
export { trainMlp } from "./train/mlp.ts";
export * from "./eval/metrics.ts";
export * from "./ir/types.ts";
export * from "./ir/quantize.ts";
export * from "./ir/validate.ts";
export * from "./ir/evaluate.ts";
export * from "./ir/serialize.ts";
export * from "./ir/lower.ts";
export * from "./ir/summary.ts";
export { Rng } from "./rng.ts";
export * from "./import/index.ts";
