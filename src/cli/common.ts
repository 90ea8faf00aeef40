/**
 * @module cli/common
 * What several command files defined for themselves: the positive-integer, fraction and
 * comma-list option parsers (commander argParsers; a bad value becomes commander's own usage error),
 * the stdout line writer, bigint-safe JSON and a plain-text table of records.
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

/** JSON with two-space indent; bigints (kernel ids, ns clocks) as decimal strings. */
export const json = (v: unknown): string => JSON.stringify(v, (_k, x: unknown) => (typeof x === "bigint" ? x.toString() : x), 2);

/** `rows` as a left-aligned text table of the columns `cols` (header first), newline-terminated. */
export function table(rows: ReadonlyArray<Record<string, unknown>>, cols: readonly string[]): string {
  const cells = rows.map((r) => cols.map((c) => String(r[c] ?? "")));
  const widths = cols.map((c, i) => Math.max(c.length, ...cells.map((r) => r[i]!.length)));
  const line = (r: readonly string[]) => r.map((x, i) => x.padEnd(widths[i]!)).join("  ").trimEnd();
  return `${[line(cols), ...cells.map(line)].join("\n")}\n`;
}
