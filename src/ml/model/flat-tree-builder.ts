/**
 * @module ml/model/flat-tree-builder
 * Builds a FlatTree (`./types.ts`) node by node, for the tree learners and the importers alike:
 * a split node gets the next index when it is added (so it always comes after its parent),
 * a leaf is referred to as -(its index) - 1, and a split's children are set once they exist.
 */
import type { FlatTree } from "./types.ts";

export class FlatTreeBuilder {
  readonly #feature: number[] = [];
  readonly #threshold: number[] = [];
  readonly #left: number[] = [];
  readonly #right: number[] = [];
  readonly #leafValue: number[] = [];

  /** @param width values per leaf (classes of a classification tree, 1 for a regression tree). */
  constructor(readonly width: number) {}

  /** Adds a split node (go left when x[feature] <= threshold); returns its index. */
  split(feature: number, threshold: number): number {
    const id = this.#feature.length;
    this.#feature.push(feature);
    this.#threshold.push(threshold);
    this.#left.push(0);
    this.#right.push(0);
    return id;
  }

  /** Adds a leaf holding `values[0 .. width)`; returns its reference (-index - 1). */
  leaf(values: ArrayLike<number>): number {
    const id = this.#leafValue.length / this.width;
    for (let i = 0; i < this.width; i++) this.#leafValue.push(values[i]!);
    return -id - 1;
  }

  /** Sets a child of split node `node`: a split index or a leaf reference. */
  setChild(node: number, side: "l" | "r", ref: number): void {
    (side === "l" ? this.#left : this.#right)[node] = ref;
  }

  build(): FlatTree {
    return {
      feature: Int32Array.from(this.#feature),
      threshold: Float64Array.from(this.#threshold),
      left: Int32Array.from(this.#left),
      right: Int32Array.from(this.#right),
      leafValue: Float64Array.from(this.#leafValue),
      width: this.width,
    };
  }
}
