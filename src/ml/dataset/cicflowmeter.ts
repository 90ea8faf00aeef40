/**
 * @module ml/dataset/cicflowmeter
 * Loader for CICFlowMeter flow records (the CIC-IDS2017 "improved" CSVs: 91 columns, with
 * `Label` and `Attempted Category` last). Reads a file or every `*.csv` of a directory in
 * place, drops identifier columns (addresses, ports of the client side, timestamps) by
 * default, and replaces NaN/Infinity cells so every trainer can use the result.
 */
import { readdirSync, statSync } from "node:fs";
import { join } from "node:path";
import { ErrorCode, KmlibError } from "../../errors.ts";
import { CsvDatasetBuilder } from "./csv.ts";
import { binarize, replaceNonFinite, type Dataset } from "./dataset.ts";
import { loadParquet } from "./parquet.ts";

/** The CIC-IDS2017 improved sample shipped with the project (read in place, never copied). */
export const CICIDS2017_SAMPLE_DIR = new URL("../../../../shared/datasets/cicids2017-improved-sample/", import.meta.url).pathname;

/** Columns that identify a flow rather than describe it; dropped unless asked for. */
export const CICFLOWMETER_ID_COLUMNS = ["id", "Flow ID", "Src IP", "Src Port", "Dst IP", "Timestamp", "Attempted Category"] as const;
export const CICFLOWMETER_LABEL = "Label";

/**
 * Integer counters a kernel flow table can keep exactly (no division, no square root): the
 * default feature set for models that run in the XDP path.
 */
export const CICFLOWMETER_COUNTER_COLUMNS = [
  "Dst Port", "Protocol", "Flow Duration", "Total Fwd Packet", "Total Bwd packets",
  "Total Length of Fwd Packet", "Total Length of Bwd Packet", "Fwd Packet Length Max",
  "Fwd Packet Length Min", "Bwd Packet Length Max", "Bwd Packet Length Min", "Flow IAT Max",
  "Flow IAT Min", "FIN Flag Count", "SYN Flag Count", "RST Flag Count", "PSH Flag Count",
  "ACK Flag Count", "FWD Init Win Bytes", "Bwd Init Win Bytes",
] as const;

export interface CicFlowMeterOptions {
  /** Feature columns to keep, in order. Default: every column but identifiers and labels. */
  columns?: readonly string[];
  /** Extra columns to drop (when `columns` is not given). */
  exclude?: readonly string[];
  /** "multiclass" keeps the Label values; "binary" maps BENIGN to 0 and every attack to 1. */
  labels?: "multiclass" | "binary";
  /** Rows read at most per file (the sample has one file per class). */
  maxRowsPerFile?: number;
}

/** Loads one CSV/Parquet file or every `*.csv` / `*.parquet` file of a directory (sorted by name). */
export async function loadCicFlowMeter(path: string = CICIDS2017_SAMPLE_DIR, opts: CicFlowMeterOptions = {}): Promise<Dataset> {
  const files = statSync(path).isDirectory()
    ? readdirSync(path).filter((f) => /\.(csv|parquet)$/i.test(f)).sort().map((f) => join(path, f))
    : [path];
  const exclude = [...CICFLOWMETER_ID_COLUMNS, ...(opts.exclude ?? [])];
  const parts: Dataset[] = [];
  const b = new CsvDatasetBuilder({ label: CICFLOWMETER_LABEL, features: opts.columns, exclude });
  let csvRows = 0;
  for (const f of files) {
    if (/\.parquet$/i.test(f)) {
      parts.push(await loadParquet(f, { label: CICFLOWMETER_LABEL, features: opts.columns, exclude, maxRows: opts.maxRowsPerFile }));
      continue;
    }
    await b.addFile(f, opts.maxRowsPerFile);
    csvRows = b.rows;
  }
  let ds = csvRows > 0 || parts.length === 0 ? b.build() : parts.shift()!;
  if (parts.length > 0) ds = concatDatasets([ds, ...parts]);
  replaceNonFinite(ds);
  return opts.labels === "binary" ? binarize(ds, "BENIGN") : ds;
}

function concatDatasets(list: Dataset[]): Dataset {
  const first = list[0]!;
  for (const d of list) {
    if (d.featureNames.join("\u0000") !== first.featureNames.join("\u0000")) {
      throw new KmlibError(ErrorCode.InvalidArgument, "cicflowmeter: files with different feature columns");
    }
  }
  const classNames = [...new Set(list.flatMap((d) => d.classNames))].sort();
  const nRows = list.reduce((s, d) => s + d.nRows, 0);
  const x = new Float64Array(nRows * first.nFeatures);
  const y = new Int32Array(nRows);
  let at = 0;
  for (const d of list) {
    x.set(d.x, at * first.nFeatures);
    for (let i = 0; i < d.nRows; i++) y[at + i] = classNames.indexOf(d.classNames[d.y[i]!]!);
    at += d.nRows;
  }
  return { x, y, nRows, nFeatures: first.nFeatures, featureNames: first.featureNames, classNames };
}
