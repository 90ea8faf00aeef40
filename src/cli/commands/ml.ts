/**
 * @module cli/commands/ml
 * `kmlib train`, `kmlib eval`, `kmlib inspect`: train a model on a dataset and write its
 * integer form, score an integer-form model on a dataset (per-class table, confusion matrix),
 * and describe a model file. `kmlib compile` lives with the code generators.
 */
import { Command, InvalidArgumentError, Option } from "commander";
import { ErrorCode, KmlibError } from "../../errors.ts";
import { makeDataset, type Dataset } from "../../ml/dataset/dataset.ts";
import { loadDataset, type LoadOptions } from "../../ml/dataset/load.ts";
import { stratifiedSplit } from "../../ml/dataset/split.ts";
import { agreement, classificationReport, formatConfusion, formatReport } from "../../ml/eval/metrics.ts";
import { evaluateIrRows } from "../../ml/ir/evaluate.ts";
import { lowerModel } from "../../ml/ir/lower.ts";
import { quantizeDataset } from "../../ml/ir/quantize.ts";
import { readIrFile, writeIrFile } from "../../ml/ir/serialize.ts";
import { summarizeIr } from "../../ml/ir/summary.ts";
import type { IrModel } from "../../ml/ir/types.ts";
import { predictDataset } from "../../ml/model/predict.ts";
import { MODEL_KINDS, type ModelKind } from "../../ml/model/types.ts";
import { trainModel, type TrainOptions } from "../../ml/train/train.ts";
import { CICFLOWMETER_COUNTER_COLUMNS } from "../../ml/dataset/cicflowmeter.ts";
import { fraction, list, print } from "../common.ts";

function int(v: string): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0) throw new InvalidArgumentError(`not a non-negative integer: ${v}`);
  return n;
}

interface DataFlags {
  data: string;
  format: LoadOptions["format"];
  labels: "multiclass" | "binary";
  labelColumn?: string;
  maxRowsPerFile?: number;
  testFraction: number;
  seed: number;
}

function dataOptions(cmd: Command): Command {
  return cmd
    .requiredOption("--data <path>", "dataset: a CSV or Parquet file, or a directory of CICFlowMeter CSVs")
    .addOption(new Option("--format <format>", "dataset format").choices(["auto", "cicflowmeter", "csv", "parquet"]).default("auto"))
    .addOption(new Option("--labels <mode>", "multiclass, or binary (first/BENIGN class vs the rest)").choices(["multiclass", "binary"]).default("multiclass"))
    .option("--label-column <name>", "label column of a generic CSV/Parquet (default: the last)")
    .option("--max-rows-per-file <n>", "read at most n rows of each file", int)
    .option("--test-fraction <f>", "held-out fraction of each class", fraction, 0.25)
    .option("--seed <n>", "seed of the split and of training", int, 1);
}

async function load(flags: DataFlags, features?: readonly string[]): Promise<Dataset> {
  return loadDataset(flags.data, {
    format: flags.format,
    labels: flags.labels,
    label: flags.labelColumn,
    features,
    maxRowsPerFile: flags.maxRowsPerFile,
  });
}

/** Re-indexes a dataset's labels to the model's class order (by name). */
function alignClasses(ds: Dataset, ir: IrModel): Dataset {
  const idx = ds.classNames.map((c) => ir.classNames.indexOf(c));
  const missing = ds.classNames.filter((_, i) => idx[i]! < 0);
  if (missing.length > 0) {
    throw new KmlibError(ErrorCode.InvalidArgument, `dataset labels ${missing.map((m) => JSON.stringify(m)).join(", ")} are not classes of the model (${ir.classNames.join(", ")})`);
  }
  return makeDataset({ x: ds.x, y: Int32Array.from(ds.y, (c) => idx[c]!), featureNames: ds.featureNames, classNames: ir.classNames });
}

export function register(program: Command): void {
  dataOptions(
    program
      .command("train")
      .description("train a model on a dataset's training split, report it on the held-out split, write its integer form")
      .addOption(new Option("--kind <kind>", "model kind").choices([...MODEL_KINDS]).makeOptionMandatory())
      .requiredOption("-o, --output <file>", "where to write the integer-form model (JSON)"),
  )
    .option("--features <list>", "comma-separated feature columns (default: all but identifiers)", list)
    .option("--counters", "use the integer flow counters a kernel flow table keeps (CICFlowMeter)")
    .addOption(new Option("--quant <mode>", "feature quantization: fit scales on the training data, or identity (integer features)").choices(["fit", "identity"]).default("fit"))
    .option("--trees <n>", "forest: number of trees", int)
    .option("--rounds <n>", "boosted: boosting rounds", int)
    .option("--max-depth <n>", "tree depth limit", int)
    .option("--min-samples-leaf <n>", "smallest leaf", int)
    .option("--epochs <n>", "linear / mlp: training epochs", int)
    .option("--hidden <list>", "mlp: hidden layer sizes, e.g. 32 or 32,16", (v) => list(v).map(int))
    .addOption(new Option("--vote <vote>", "forest vote").choices(["soft", "majority"]))
    .option("--json", "print the report as JSON")
    .action(async (o) => {
      const features = o.counters ? [...CICFLOWMETER_COUNTER_COLUMNS] : o.features;
      const ds = await load(o, features);
      const { train, test } = stratifiedSplit(ds, { testFraction: o.testFraction, seed: o.seed });
      const topts: TrainOptions = { seed: o.seed };
      if (o.trees !== undefined) topts.nTrees = o.trees;
      if (o.rounds !== undefined) topts.nRounds = o.rounds;
      if (o.maxDepth !== undefined) topts.maxDepth = o.maxDepth;
      if (o.minSamplesLeaf !== undefined) topts.minSamplesLeaf = o.minSamplesLeaf;
      if (o.epochs !== undefined) topts.epochs = o.epochs;
      if (o.hidden !== undefined) topts.hidden = o.hidden;
      if (o.vote !== undefined) topts.vote = o.vote;
      const t0 = performance.now();
      const model = trainModel(o.kind as ModelKind, train, topts);
      const trainMs = performance.now() - t0;
      const ir = lowerModel(model, { data: train, quant: o.quant });
      writeIrFile(o.output, ir);
      const floatPred = predictDataset(model, test);
      const intPred = evaluateIrRows(ir, quantizeDataset(test, ir.quant));
      const report = classificationReport(test.y, intPred, ir.classNames);
      const result = {
        model: o.output,
        kind: ir.kind,
        trainRows: train.nRows,
        testRows: test.nRows,
        features: ir.nFeatures,
        trainMs: Math.round(trainMs),
        floatAccuracy: classificationReport(test.y, floatPred, ir.classNames).accuracy,
        intAccuracy: report.accuracy,
        agreement: agreement(floatPred, intPred),
        summary: summarizeIr(ir),
        report,
      };
      if (o.json) return print(JSON.stringify(result, null, 2));
      print(`trained ${ir.kind} on ${train.nRows} rows x ${ir.nFeatures} features in ${(trainMs / 1000).toFixed(2)} s -> ${o.output}`);
      print(`${result.summary.detail}`);
      print(`held-out ${test.nRows} rows: float accuracy ${result.floatAccuracy.toFixed(4)}, integer accuracy ${report.accuracy.toFixed(4)}, float/integer agreement ${(result.agreement * 100).toFixed(3)}%\n`);
      print(formatReport(report));
    });

  dataOptions(
    program
      .command("eval")
      .description("score an integer-form model on a dataset: per-class precision/recall/F1 and confusion matrix")
      .argument("<model>", "integer-form model file (from kmlib train)"),
  )
    .option("--all", "use every row (default: the held-out split, as kmlib train made it)")
    .option("--confusion", "also print the confusion matrix")
    .option("--json", "print the report as JSON")
    .action(async (modelPath: string, o) => {
      const ir = readIrFile(modelPath);
      if (o.labels === "multiclass" && ir.classNames.length === 2 && ir.classNames[1] === "ATTACK") o.labels = "binary";
      let ds: Dataset;
      try {
        ds = await load(o, ir.featureNames);
      } catch (e) {
        if (e instanceof KmlibError && /no column/.test(e.message)) {
          throw new KmlibError(ErrorCode.InvalidArgument, `feature count mismatch: the model needs ${ir.nFeatures} features the dataset does not all have (see kmlib inspect --json); ${e.message}`, { cause: e });
        }
        throw e;
      }
      const rows = o.all ? ds : stratifiedSplit(ds, { testFraction: o.testFraction, seed: o.seed }).test;
      const data = alignClasses(rows, ir);
      const pred = evaluateIrRows(ir, quantizeDataset(data, ir.quant));
      const report = classificationReport(data.y, pred, ir.classNames);
      if (o.json) return print(JSON.stringify({ model: modelPath, rows: data.nRows, ...report }, null, 2));
      print(`${ir.kind} model ${modelPath} on ${data.nRows} ${o.all ? "" : "held-out "}rows (integer semantics)\n`);
      print(formatReport(report));
      if (o.confusion) print("\n" + formatConfusion(report, ir.classNames));
    });

  program
    .command("inspect")
    .description("describe an integer-form model file: kind, features, classes, trees, nodes, depth, parameters")
    .argument("<model>", "integer-form model file")
    .option("--json", "print as JSON")
    .action((modelPath: string, o) => {
      const ir = readIrFile(modelPath);
      const s = summarizeIr(ir);
      if (o.json) return print(JSON.stringify({ ...s, featureNames: ir.featureNames, classNames: ir.classNames, quant: ir.quant }, null, 2));
      const lines = [
        `model      ${modelPath}`,
        `kind       ${s.kind}: ${s.detail}`,
        `features   ${s.nFeatures} (${s.identityQuant ? "identity quantization: integer inputs as they are" : "quantized: x_q = floor(x * scale + 0.5) + offset"})`,
        `classes    ${s.nClasses}: ${ir.classNames.join(", ")}`,
        `scores     ${s.nScores}, Q${s.scoreFracBits} fixed point`,
      ];
      if (s.trees > 0) lines.push(`trees      ${s.trees}, ${s.nodes} internal nodes, ${s.leaves} leaves, max depth ${s.maxDepth}`);
      lines.push(`parameters ${s.parameters} integers`);
      print(lines.join("\n"));
    });
}
