/**
 * Exactness of linear models and perceptrons under both strategies: see exact.common.ts.
 */
import { runExactSuite } from "./exact.common.ts";

runExactSuite(["linear", "mlp"], () => [
  { name: "inline", options: { strategy: "inline" } },
  { name: "table", options: { strategy: "table" } },
]);
