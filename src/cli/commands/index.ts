/**
 * @module cli/commands
 * Every command group of the `kmlib` CLI. Add one line per group.
 */
import type { Command } from "commander";

export const commands: Array<(program: Command) => void> = [];
