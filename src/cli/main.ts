/**
 * @module cli/main
 * The `kmlib` command. Each command group registers itself from `commands/index.ts`.
 * Errors print `kmlib: CODE: message` on stderr and exit 1; KMLIB_DEBUG=1 adds the stack.
 */
import { readFileSync } from "node:fs";
import { Command, CommanderError } from "commander";
import { isKmlibError } from "../errors.ts";
import { commands } from "./commands/index.ts";

const pkg = JSON.parse(readFileSync(new URL("../../package.json", import.meta.url), "utf8")) as { version: string };

export function buildProgram(): Command {
  const program = new Command("kmlib")
    .description("ML models for Linux kernel subsystems, compiled to integer-only eBPF, with the kernel in control")
    .version(pkg.version)
    .showHelpAfterError()
    .exitOverride();
  for (const register of commands) register(program);
  return program;
}

export function reportError(e: unknown): number {
  if (e instanceof CommanderError) return e.exitCode;
  if (isKmlibError(e)) {
    process.stderr.write(`kmlib: ${e.code}: ${e.message}\n`);
  } else {
    process.stderr.write(`kmlib: ${e instanceof Error ? e.message : String(e)}\n`);
  }
  if (process.env.KMLIB_DEBUG && e instanceof Error) process.stderr.write(`${e.stack}\n`);
  return 1;
}

try {
  await buildProgram().parseAsync(process.argv);
} catch (e) {
  process.exitCode = reportError(e);
}
