/**
 * @module agent/log
 * Structured logs: one JSON object per line (`{"ts":..., "level":..., "msg":..., ...fields}`),
 * so a log shipper or `jq` reads them without parsing prose.
 */
import { appendFileSync } from "node:fs";

export const LEVELS = ["debug", "info", "warn", "error"] as const;
export type Level = (typeof LEVELS)[number];

export type Sink = (line: string) => void;

export class Logger {
  readonly #min: number;
  constructor(
    readonly level: Level = "info",
    readonly sink: Sink = (l) => process.stderr.write(l),
    readonly fields: Readonly<Record<string, unknown>> = {},
  ) {
    this.#min = LEVELS.indexOf(level);
  }
  static toFile(path: string, level: Level = "info"): Logger {
    return new Logger(level, (l) => appendFileSync(path, l));
  }
  /** A logger that adds `fields` to every line. */
  child(fields: Record<string, unknown>): Logger {
    return new Logger(this.level, this.sink, { ...this.fields, ...fields });
  }
  log(level: Level, msg: string, fields: Record<string, unknown> = {}): void {
    if (LEVELS.indexOf(level) < this.#min) return;
    const line = JSON.stringify({ ts: new Date().toISOString(), level, msg, ...this.fields, ...fields }, (_k, v: unknown) => (typeof v === "bigint" ? v.toString() : v));
    this.sink(`${line}\n`);
  }
  debug(msg: string, fields?: Record<string, unknown>): void {
    this.log("debug", msg, fields);
  }
  info(msg: string, fields?: Record<string, unknown>): void {
    this.log("info", msg, fields);
  }
  warn(msg: string, fields?: Record<string, unknown>): void {
    this.log("warn", msg, fields);
  }
  error(msg: string, fields?: Record<string, unknown>): void {
    this.log("error", msg, fields);
  }
}

/** Collects lines in memory (tests). */
export function memoryLogger(level: Level = "debug"): { logger: Logger; lines: string[] } {
  const lines: string[] = [];
  return { logger: new Logger(level, (l) => lines.push(l)), lines };
}
