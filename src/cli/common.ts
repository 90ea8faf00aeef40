/**
 * @module cli/common
 * What several command files defined for themselves: the positive-integer, fraction and
 * comma-list option parsers (commander argParsers; a bad value becomes commander's own usage error) and
 * the stdout line writer.
 */
import { InvalidArgumentError } from "commander";

/** Option value parser: an integer >= 1. */
export function positiveInt(v: string): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError(`not a positive integer: ${v}`);
  return n;
}

/** Option value parser: a number strictly between 0 and 1. */
export function fraction(v: string): number {
  const n = Number(v);
  if (!(n > 0 && n < 1)) throw new InvalidArgumentError(`not a fraction in (0, 1): ${v}`);
  return n;
}

/** Option value parser: "a, b,,c" -> ["a", "b", "c"]. */
export const list = (v: string): string[] => v.split(",").map((s) => s.trim()).filter(Boolean);

/** Writes `s` to stdout, ending it with a newline when it has none. */
export function print(s: string): void {
  process.stdout.write(s.endsWith("\n") ? s : s + "\n");
}
