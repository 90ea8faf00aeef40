/**
 * @module ml/train/train
 * One entry point over every trainer: `trainModel(kind, data, options)`, used by the CLI, the
 * benchmarks and the shared test suite.
 */
import { assertNever } from "../../errors.ts";
import type { Dataset } from "../dataset/dataset.ts";
import type { Model, ModelKind } from "../model/types.ts";
import { trainBoosted, type BoostedOptions } from "./boosted.ts";
import { trainCart, type CartOptions } from "./cart.ts";
import { trainForest, type ForestOptions } from "./forest.ts";
import { trainLinear, type LinearOptions } from "./linear.ts";
import { trainMlp, type MlpOptions } from "./mlp.ts";

export type TrainOptions = CartOptions & ForestOptions & BoostedOptions & LinearOptions & MlpOptions;

export function trainModel(kind: ModelKind, data: Dataset, opts: TrainOptions = {}): Model {
  switch (kind) {
    case "tree":
      return trainCart(data, opts);
    case "forest":
      return trainForest(data, opts);
    case "boosted":
      return trainBoosted(data, opts);
    case "linear":
      return trainLinear(data, opts);
    case "mlp":
      return trainMlp(data, opts);
    default:
      return assertNever(kind, "model kind");
  }
}
