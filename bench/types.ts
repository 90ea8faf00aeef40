/**
 * @module bench/types
 * One benchmark figure beside its anchor, both measured in the same run.
 * `ratio` = value / anchorValue. Medians of repeated runs, since these machines are noisy.
 */
export interface BenchEntry {
  name: string;
  value: number;
  unit: string;
  /** What the figure is compared with (an empty program, a C libbpf loop, scikit-learn...). */
  anchor: string;
  anchorValue: number;
  ratio: number;
  /** Optional extra facts: samples, parameters, targets. */
  notes?: Record<string, unknown>;
}

export type BenchSuite = () => Promise<BenchEntry[]>;

export function entry(name: string, value: number, unit: string, anchor: string, anchorValue: number, notes?: Record<string, unknown>): BenchEntry {
  const e: BenchEntry = { name, value, unit, anchor, anchorValue, ratio: anchorValue === 0 ? Number.NaN : value / anchorValue };
  if (notes) e.notes = notes;
  return e;
}

export function median(xs: readonly number[]): number {
  if (xs.length === 0) return Number.NaN;
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

/** Progress for long suites, on stderr so stdout stays a clean table. */
export function progress(msg: string): void {
  process.stderr.write(`  … ${msg}\n`);
}
