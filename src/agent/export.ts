/**
 * @module agent/export
 * Dataset export from the store: CSV (header, one row per record: seq, features, label) or
 * Parquet (through hyparquet-writer; DOUBLE columns, seq as INT64).
 */
import { createWriteStream } from "node:fs";
import { parquetWriteFile } from "hyparquet-writer";
import { ErrorCode, KmlibError } from "../errors.ts";
import type { Store } from "./store/index.ts";

export const ExportFormat = { csv: "csv", parquet: "parquet" } as const;
export type ExportFormat = (typeof ExportFormat)[keyof typeof ExportFormat];

export function parseFormat(s: string): ExportFormat {
  if (s === "csv" || s === "parquet") return s;
  throw new KmlibError(ErrorCode.InvalidArgument, `unknown export format "${s}" (expected csv or parquet)`);
}

const csvCell = (s: string) => (/[",\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s);

/** Returns the number of rows written. */
export async function exportDataset(store: Store, proxy: string, dataset: string, format: ExportFormat, out: string): Promise<number> {
  const ds = store.data.dataset(proxy, dataset);
  const width = ds.columns.length > 0 ? ds.columns.length : (store.data.rows(proxy, dataset).next().value?.features.length ?? 0);
  const columns = ds.columns.length > 0 ? [...ds.columns] : Array.from({ length: width }, (_, i) => `f${i}`);
  if (format === "csv") {
    const w = createWriteStream(out);
    const done = new Promise<void>((resolve, reject) => {
      w.on("finish", resolve);
      w.on("error", reject);
    });
    w.write(`${["seq", ...columns, "label"].map(csvCell).join(",")}\n`);
    let n = 0;
    for (const r of store.data.rows(proxy, dataset)) {
      if (!w.write(`${[r.seq, ...r.features, r.label ?? ""].join(",")}\n`)) await new Promise<void>((res) => w.once("drain", () => res()));
      n++;
    }
    w.end();
    await done;
    return n;
  }
  const seq: bigint[] = [];
  const feats: number[][] = columns.map(() => []);
  const label: Array<number | null> = [];
  for (const r of store.data.rows(proxy, dataset)) {
    seq.push(BigInt(r.seq));
    columns.forEach((_, i) => feats[i]!.push(r.features[i] ?? Number.NaN));
    label.push(r.label ?? null);
  }
  parquetWriteFile({
    filename: out,
    columnData: [
      { name: "seq", data: seq, type: "INT64" as const, nullable: false },
      ...columns.map((name, i) => ({ name, data: feats[i]!, type: "DOUBLE" as const, nullable: false })),
      { name: "label", data: label, type: "DOUBLE" as const, nullable: true },
    ],
  });
  return seq.length;
}
