/**
 * @module ml/dataset/load
 * Loads a dataset from a path whatever its format: a directory or a CSV with CICFlowMeter
 * columns goes through the CICFlowMeter loader, `*.parquet` through Parquet, other CSV
 * through the generic CSV loader.
 */
import { openSync, readSync, closeSync, statSync } from "node:fs";
import { ErrorCode, KmlibError } from "../../errors.ts";
import { loadCicFlowMeter } from "./cicflowmeter.ts";
import { loadCsv } from "./csv.ts";
import { binarize, type Dataset } from "./dataset.ts";
import { loadParquet } from "./parquet.ts";

export type DatasetFormat = "auto" | "cicflowmeter" | "csv" | "parquet";

export interface LoadOptions {
  format?: DatasetFormat;
  /** Feature columns, in order (default: all, less identifiers for CICFlowMeter). */
  features?: readonly string[];
  /** Label column (generic CSV/Parquet; default the last column). */
  label?: string;
  /** "binary" maps `negativeClass` to 0 and every other label to 1. */
  labels?: "multiclass" | "binary";
  negativeClass?: string;
  maxRowsPerFile?: number;
}

function firstLine(path: string): string {
  const fd = openSync(path, "r");
  try {
    const buf = Buffer.alloc(4096);
    const n = readSync(fd, buf, 0, buf.length, 0);
    return buf.subarray(0, n).toString("utf8").split(/\r?\n/)[0] ?? "";
  } finally {
    closeSync(fd);
  }
}

export function detectFormat(path: string): Exclude<DatasetFormat, "auto"> {
  let st;
  try {
    st = statSync(path);
  } catch {
    throw new KmlibError(ErrorCode.NotFound, `dataset ${path}: no such file or directory`);
  }
  if (st.isDirectory()) return "cicflowmeter";
  if (/\.parquet$/i.test(path)) return "parquet";
  const head = firstLine(path);
  return head.includes("Flow ID") && head.includes("Label") ? "cicflowmeter" : "csv";
}

export async function loadDataset(path: string, opts: LoadOptions = {}): Promise<Dataset> {
  const format = opts.format && opts.format !== "auto" ? opts.format : detectFormat(path);
  let ds: Dataset;
  switch (format) {
    case "cicflowmeter":
      return loadCicFlowMeter(path, { columns: opts.features, labels: opts.labels, maxRowsPerFile: opts.maxRowsPerFile });
    case "csv":
      ds = await loadCsv(path, { features: opts.features, label: opts.label, maxRows: opts.maxRowsPerFile });
      break;
    case "parquet":
      ds = await loadParquet(path, { features: opts.features, label: opts.label, maxRows: opts.maxRowsPerFile });
      break;
  }
  return opts.labels === "binary" ? binarize(ds, opts.negativeClass ?? ds.classNames[0]!) : ds;
}
