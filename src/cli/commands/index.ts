/**
 * @module cli/commands
 * Every command group of the `kmlib` CLI. Add one line per group.
 */
import type { Command } from "commander";
import { register as bpf } from "./bpf.ts";
import { register as bpfKernel } from "./bpf-kernel.ts";
import { register as compile } from "./compile.ts";
import { register as core } from "./core.ts";
import { register as demo } from "./demo.ts";
import { register as gc } from "./gc.ts";
import { register as importModel } from "./import.ts";
import { register as lab } from "./lab.ts";
import { register as ml } from "./ml.ts";
import { register as netguard } from "./netguard.ts";

export const commands: Array<(program: Command) => void> = [demo, bpf, bpfKernel, lab, ml, compile, core, importModel, gc, netguard];
