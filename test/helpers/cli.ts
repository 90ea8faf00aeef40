/**
 * @module test/helpers/cli
 * Runs the real `kmlib` command (src/cli/main.ts through tsx) in a child process, for the CLI
 * tests: exit code, stdout and stderr.
 */
import { spawnSync } from "node:child_process";

export const MAIN = new URL("../../src/cli/main.ts", import.meta.url).pathname;

export interface CliRun {
  code: number;
  stdout: string;
  stderr: string;
}

/** `kmlib ...args`, killed after `timeoutMs` (its exit code is then -1). */
export function runKmlib(args: readonly string[], timeoutMs = 50_000): CliRun {
  const r = spawnSync(process.execPath, ["--import", "tsx", MAIN, ...args], { encoding: "utf8", timeout: timeoutMs });
  return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}
