/**
 * Exactness of tree models (tree, forest, boosted) under every strategy and layout:
 * see exact.common.ts.
 */
import { runExactSuite, type Variant } from "./exact.common.ts";

runExactSuite(["tree", "forest", "boosted"], (kind): Variant[] => [
  { name: "inline/single", options: { strategy: "inline", layout: "single" } },
  ...(kind === "tree"
    ? []
    : [
        { name: "inline/subprogs", options: { strategy: "inline", layout: "subprogs", chunkInsns: 600 } } satisfies Variant,
        { name: "inline/tailcalls", options: { strategy: "inline", layout: "tailcalls", chunkInsns: 600 } } satisfies Variant,
      ]),
  { name: "table", options: { strategy: "table" } },
]);
