/**
 * @module subsystems/netguard/e2e/timeline
 * Verdicts over time, for the report's plot: kernel flow records bucketed by their kernel
 * timestamp (CLOCK_MONOTONIC), split by ground truth and final verdict, with the effective mode
 * the kernel used in each bucket; plus the scenario phases and the mode controller's
 * transitions on the same clock.
 */
import type { NetguardRecord } from "../record.ts";
import { MODE_NAMES, type ModeName } from "../control.ts";
import type { RecordLabels } from "./flows.ts";

export interface Bucket {
  /** Seconds since the timeline's start. */
  t: number;
  attackDropped: number;
  attackPassed: number;
  benignDropped: number;
  benignPassed: number;
  /** Effective mode most packets of the bucket saw. */
  mode: ModeName;
}

export interface TimelineMark {
  t: number;
  label: string;
}

export interface TimelineSpan {
  start: number;
  end: number;
  label: string;
}

export interface TimelineData {
  bucketSeconds: number;
  buckets: Bucket[];
  transitions: TimelineMark[];
  phases: TimelineSpan[];
}

export const monoMsNow = (): number => Number(process.hrtime.bigint()) / 1e6;

export class Timeline {
  readonly #t0: number;
  readonly #counts = new Map<number, { c: [number, number, number, number]; modes: number[] }>();
  readonly transitions: TimelineMark[] = [];
  readonly phases: TimelineSpan[] = [];

  constructor(
    readonly labels: RecordLabels,
    readonly bucketMs = 250,
    t0MonoMs = monoMsNow(),
  ) {
    this.#t0 = t0MonoMs;
  }

  /** Seconds since the start for a CLOCK_MONOTONIC time in ms. */
  at(monoMs: number): number {
    return (monoMs - this.#t0) / 1000;
  }

  add(recs: readonly NetguardRecord[]): void {
    for (const r of recs) {
      const label = this.labels.label(r);
      if (label === undefined) continue;
      const i = Math.floor((Number(r.tsNs) / 1e6 - this.#t0) / this.bucketMs);
      let b = this.#counts.get(i);
      if (!b) this.#counts.set(i, (b = { c: [0, 0, 0, 0], modes: [0, 0, 0, 0] }));
      b.c[label * 2 + r.finalVerdict]!++;
      b.modes[r.mode]! += 1;
    }
  }

  /** A mode transition at wall-clock `atMs` (Date.now), placed on the monotonic axis. */
  mark(atWallMs: number, label: string): void {
    this.transitions.push({ t: this.at(monoMsNow() - (Date.now() - atWallMs)), label });
  }

  phase(label: string, startMonoMs: number, endMonoMs: number): void {
    this.phases.push({ start: this.at(startMonoMs), end: this.at(endMonoMs), label });
  }

  data(): TimelineData {
    const keys = [...this.#counts.keys()].sort((a, b) => a - b);
    const per = 1000 / this.bucketMs;
    const buckets = keys.map((i) => {
      const { c, modes } = this.#counts.get(i)!;
      const mode = MODE_NAMES[modes.indexOf(Math.max(...modes))] ?? "emergency";
      // packets per second
      return { t: (i * this.bucketMs) / 1000, benignPassed: c[0] * per, benignDropped: c[1] * per, attackPassed: c[2] * per, attackDropped: c[3] * per, mode };
    });
    return { bucketSeconds: this.bucketMs / 1000, buckets, transitions: [...this.transitions], phases: [...this.phases] };
  }
}
