/**
 * @module cli/commands/import
 * `kmlib import`: read a model trained elsewhere (ONNX-ML, XGBoost JSON), lower it to the
 * integer form and write it, so `kmlib inspect`, `kmlib eval` and `kmlib compile` take it like a
 * model kmlib trained. With `--data`, quantization is fitted on that data and the float/integer
 * agreement is reported on it.
 */
import { Command, Option } from "commander";
import { ErrorCode, KmlibError } from "../../errors.ts";
import type { Dataset } from "../../ml/dataset/dataset.ts";
import { loadDataset } from "../../ml/dataset/load.ts";
import { agreement } from "../../ml/eval/metrics.ts";
import { importModelFile } from "../../ml/import/import.ts";
import { IMPORT_FORMATS } from "../../ml/import/result.ts";
import { evaluateIrRows } from "../../ml/ir/evaluate.ts";
import { lowerModel } from "../../ml/ir/lower.ts";
import { quantizeDataset } from "../../ml/ir/quantize.ts";
import { writeIrFile } from "../../ml/ir/serialize.ts";
import { summarizeIr } from "../../ml/ir/summary.ts";
import { predictDataset } from "../../ml/model/predict.ts";
import { list, positiveInt, print } from "../common.ts";

export function register(program: Command): void {
  program
    .command("import")
    .description("import a model trained elsewhere (ONNX-ML tree ensembles and linear classifiers, XGBoost JSON) and write its integer form")
    .argument("<model>", "model file: .onnx, or an XGBoost .json from save_model")
    .addOption(new Option("--format <format>", "model file format").choices(["auto", ...IMPORT_FORMATS]).default("auto"))
    .option("-o, --output <file>", "where to write the integer-form model (JSON); without it, only describe the import")
    .option("--data <path>", "dataset (CSV, Parquet, CICFlowMeter directory) to fit the feature quantization and report float/integer agreement")
    .option("--features <list>", "dataset columns in the model's input order (also the model's feature names)", list)
    .option("--max-rows-per-file <n>", "read at most n rows of each dataset file", positiveInt)
    .addOption(new Option("--quant <mode>", "feature quantization (default: fit with --data, else identity for integer features)").choices(["fit", "identity"]))
    .option("--json", "print the result as JSON")
    .action(async (modelPath: string, o) => {
      const imported = importModelFile(modelPath, { format: o.format, featureNames: o.features });
      const m = imported.model;
      let data: Dataset | undefined;
      if (o.data) {
        data = await loadDataset(o.data, { features: o.features, maxRowsPerFile: o.maxRowsPerFile });
        if (data.nFeatures !== m.nFeatures) {
          throw new KmlibError(ErrorCode.InvalidArgument, `feature count mismatch: the model expects ${m.nFeatures} features, the dataset has ${data.nFeatures} (choose them with --features)`);
        }
      }
      const quant = o.quant ?? (data ? "fit" : "identity");
      if (quant === "fit" && !data) throw new KmlibError(ErrorCode.InvalidArgument, "--quant fit needs --data");
      const ir = lowerModel(m, { quant, data });
      if (o.output) writeIrFile(o.output, ir);
      let agree: number | undefined;
      if (data) agree = agreement(predictDataset(m, data), evaluateIrRows(ir, quantizeDataset(data, ir.quant)));
      const summary = summarizeIr(ir);
      const result = {
        model: modelPath,
        format: imported.format,
        producer: imported.producer,
        operator: imported.operator,
        kind: m.kind,
        features: m.nFeatures,
        classes: m.classNames,
        quant,
        notes: imported.notes,
        output: o.output ?? null,
        ...(data ? { rows: data.nRows, agreement: agree } : {}),
        summary,
      };
      if (o.json) return print(JSON.stringify(result, null, 2));
      const lines = [
        `imported ${imported.format} ${imported.operator} (${imported.producer}) from ${modelPath}`,
        `kmlib ${m.kind}: ${summary.detail}`,
        `features ${m.nFeatures}, classes ${m.classNames.join(", ")}, quantization ${quant}`,
        ...imported.notes.map((n) => `note: ${n}`),
      ];
      if (data) lines.push(`float/integer agreement on ${data.nRows} rows of ${o.data}: ${(agree! * 100).toFixed(3)}%`);
      lines.push(o.output ? `integer form -> ${o.output}` : "(no --output: nothing written)");
      print(lines.join("\n"));
    });
}
