/**
 * @module ml/dataset/parquet
 * Parquet reading and writing of datasets through hyparquet / hyparquet-writer (pure
 * JavaScript, no native code). A written dataset has one DOUBLE column per feature and a
 * STRING label column; reading accepts any numeric column types (INT64 arrives as bigint and
 * is converted) and the same column options as the CSV loader.
 */
import { readFileSync } from "node:fs";
import { parquetMetadata, parquetRead, parquetSchema } from "hyparquet";
import { parquetWriteFile } from "hyparquet-writer";
import { ErrorCode, KmlibError } from "../../errors.ts";
import { makeDataset, type Dataset } from "./dataset.ts";
import type { CsvLoadOptions } from "./csv.ts";

export type ParquetLoadOptions = CsvLoadOptions;

function toNumber(v: unknown, col: string, r: number): number {
  if (typeof v === "number") return v;
  if (typeof v === "bigint") return Number(v);
  if (typeof v === "boolean") return v ? 1 : 0;
  if (v === null || v === undefined) return NaN;
  throw new KmlibError(ErrorCode.InvalidArgument, `parquet: column ${JSON.stringify(col)} row ${r}: not a number: ${String(v)}`);
}

export async function loadParquet(path: string, opts: ParquetLoadOptions = {}): Promise<Dataset> {
  const bytes = readFileSync(path);
  const file = bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength);
  let metadata;
  try {
    metadata = parquetMetadata(file);
  } catch (e) {
    throw new KmlibError(ErrorCode.InvalidArgument, `parquet ${path}: not a readable Parquet file: ${(e as Error).message}`, { cause: e });
  }
  const names = parquetSchema(metadata).children.map((c) => c.element.name);
  const label = opts.label ?? names[names.length - 1]!;
  if (!names.includes(label)) throw new KmlibError(ErrorCode.InvalidArgument, `parquet ${path}: no label column ${JSON.stringify(label)}`);
  let features: string[];
  if (opts.features) {
    for (const f of opts.features) if (!names.includes(f)) throw new KmlibError(ErrorCode.InvalidArgument, `parquet ${path}: no column ${JSON.stringify(f)}`);
    features = [...opts.features];
  } else {
    const ex = new Set(opts.exclude ?? []);
    features = names.filter((n) => n !== label && !ex.has(n));
  }
  const columns = [...features, label];
  let rows: unknown[][] = [];
  await parquetRead({ file, metadata, columns, rowFormat: "array", onComplete: (r: unknown[][]) => (rows = r) });
  if (opts.maxRows !== undefined) rows = rows.slice(0, opts.maxRows);
  const nf = features.length;
  const x = new Float64Array(rows.length * nf);
  const labels: string[] = [];
  rows.forEach((rec, r) => {
    for (let j = 0; j < nf; j++) x[r * nf + j] = toNumber(rec[j], features[j]!, r);
    labels.push(String(rec[nf]));
  });
  const classNames = opts.classNames ? [...opts.classNames] : [...new Set(labels)].sort();
  const index = new Map(classNames.map((c, i) => [c, i]));
  const y = Int32Array.from(labels, (l) => {
    const c = index.get(l);
    if (c === undefined) throw new KmlibError(ErrorCode.InvalidArgument, `parquet ${path}: label ${JSON.stringify(l)} is not one of the given classes`);
    return c;
  });
  return makeDataset({ x, y, featureNames: features, classNames });
}

/** Writes a dataset: one DOUBLE column per feature, then a STRING column `labelColumn`. */
export function writeParquet(path: string, ds: Dataset, labelColumn = "label"): void {
  const columnData = ds.featureNames.map((name, j) => {
    const data = new Float64Array(ds.nRows);
    for (let r = 0; r < ds.nRows; r++) data[r] = ds.x[r * ds.nFeatures + j]!;
    return { name, data, type: "DOUBLE" as const, nullable: false };
  });
  const labels = Array.from(ds.y, (c) => ds.classNames[c]!);
  parquetWriteFile({ filename: path, columnData: [...columnData, { name: labelColumn, data: labels, type: "STRING" as const, nullable: false }] });
}
