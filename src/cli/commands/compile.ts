/**
 * @module cli/commands/compile
 * `kmlib compile MODEL.json`: the integer form to eBPF (inline or table strategy, chosen
 * automatically or forced), written as a loadable artifact (src/compile/artifact.ts), and
 * optionally as freestanding C. Errors: a malformed or unsupported model file, a feature
 * count that does not match `--features`, a model too large for the verifier (naming the
 * limit and the strategy that would fit).
 */
import { writeFileSync } from "node:fs";
import { Command, Option } from "commander";
import { toArtifact } from "../../compile/artifact.ts";
import { generateC } from "../../compile/c.ts";
import { compileModel, type CompileOptions } from "../../compile/compile.ts";
import { ErrorCode, KmlibError } from "../../errors.ts";
import { readIrFile } from "../../ml/ir/serialize.ts";
import { positiveInt, print } from "../common.ts";

export function register(program: Command): void {
  program
    .command("compile")
    .description("compile an integer-form model (kmlib train's output) to eBPF, and optionally to C")
    .argument("<model>", "model file (JSON, format kmlib-ir)")
    .addOption(new Option("--strategy <s>", "inline: parameters as immediates; table: parameters in a map, swappable without reload").choices(["inline", "table", "auto"]).default("auto"))
    .addOption(new Option("--layout <l>", "inline tree ensembles: one function, bpf-to-bpf subprograms, or a tail-call chain").choices(["single", "subprogs", "tailcalls", "auto"]).default("auto"))
    .addOption(new Option("--form <f>", "record: standalone XDP over a packet record; io: per-CPU I/O map (tail calls); function: subprogram to embed").choices(["record", "io", "function"]).default("record"))
    .option("--prefix <p>", "prefix of labels and map names", "kmlib_")
    .option("--features <n>", "the number of features the kernel side provides (checked against the model)", positiveInt)
    .requiredOption("--out <file>", "write the compiled artifact (JSON: programs, maps, calling convention)")
    .option("--c <file>", "also write the model as C: int kmlib_predict(const int32_t *x, int32_t *scores)")
    .option("--json", "print the summary as JSON")
    .addHelpText("after", "\nExit status 1 with `kmlib: CODE: message` on a malformed model, a feature count mismatch, or a model too large for the verifier.")
    .action((modelPath: string, o: { strategy: CompileOptions["strategy"]; layout: CompileOptions["layout"]; form: CompileOptions["form"]; prefix: string; features?: number; out: string; c?: string; json?: boolean }) => {
      const ir = readIrFile(modelPath);
      if (o.features !== undefined && o.features !== ir.nFeatures) {
        throw new KmlibError(ErrorCode.InvalidArgument, `feature count mismatch: ${modelPath} reads ${ir.nFeatures} features (${ir.featureNames.slice(0, 4).join(", ")}${ir.nFeatures > 4 ? ", ..." : ""}), --features says the kernel side provides ${o.features}`);
      }
      const compiled = compileModel(ir, { strategy: o.strategy, layout: o.layout, form: o.form, prefix: o.prefix });
      const artifact = toArtifact(compiled);
      writeFileSync(o.out, JSON.stringify(artifact, null, 1) + "\n");
      if (o.c) writeFileSync(o.c, generateC(ir));
      const summary = {
        model: modelPath,
        kind: ir.kind,
        strategy: compiled.strategy,
        layout: compiled.layout,
        form: compiled.form,
        programs: artifact.programs.map((p) => ({ name: p.name, insns: p.insns, processedEstimate: p.processedEstimate, stackBytes: p.stackBytes })),
        maps: compiled.maps.map((m) => ({ name: m.name, type: m.type, valueSize: m.valueSize, maxEntries: m.maxEntries })),
        abi: artifact.abi,
        reason: compiled.reason,
        out: o.out,
        ...(o.c ? { c: o.c } : {}),
      };
      if (o.json) return print(JSON.stringify(summary, null, 2));
      const insns = artifact.programs.reduce((n, p) => n + p.insns, 0);
      print(`compiled ${ir.kind} model ${modelPath}: strategy ${compiled.strategy}, layout ${compiled.layout}, form ${compiled.form}`);
      print(`  ${artifact.programs.length} program(s), ${insns} instructions, about ${Math.max(...artifact.programs.map((p) => p.processedEstimate))} verifier-processed`);
      print(`  maps: ${compiled.maps.length > 0 ? compiled.maps.map((m) => `${m.name} (${m.type})`).join(", ") : "none"}`);
      print(`  calling convention: ${artifact.abi}`);
      print(`  -> ${o.out}${o.c ? `, C -> ${o.c}` : ""}`);
    });
}
