/**
 * @module ml/dataset/csv
 * Streaming CSV reading (RFC 4180: quoted fields, doubled quotes, CR LF, newlines inside
 * quotes) and a loader that turns a CSV file into a {@link Dataset}. Numeric cells accept
 * `Infinity`, `-Infinity`, `inf`, `NaN` and an empty cell (NaN), as CICFlowMeter and pandas
 * write them.
 */
import { createReadStream, writeFileSync } from "node:fs";
import { ErrorCode, KmlibError } from "../../errors.ts";
import { makeDataset, type Dataset } from "./dataset.ts";

/** Incremental CSV parser: feed text with `push`, collect complete records; `end` flushes. */
export class CsvParser {
  private field = "";
  private record: string[] = [];
  private inQuotes = false;
  /** After a closing quote inside a quoted field (a following quote is an escaped quote). */
  private quotePending = false;
  private sawAny = false;
  /** Complete records parsed so far and not yet taken. */
  records: string[][] = [];

  push(text: string): void {
    let field = this.field;
    let start = 0;
    const n = text.length;
    for (let i = 0; i < n; i++) {
      const ch = text.charCodeAt(i);
      if (this.inQuotes) {
        if (ch === 34 /* " */) {
          field += text.slice(start, i);
          start = i + 1;
          this.inQuotes = false;
          this.quotePending = true;
        }
        continue;
      }
      if (this.quotePending) {
        this.quotePending = false;
        if (ch === 34) {
          // "" inside a quoted field: one literal quote, and we are back inside the quotes.
          field += '"';
          start = i + 1;
          this.inQuotes = true;
          continue;
        }
      }
      if (ch === 34) {
        field += text.slice(start, i);
        start = i + 1;
        this.inQuotes = true;
        this.sawAny = true;
      } else if (ch === 44 /* , */) {
        this.record.push(field + text.slice(start, i));
        field = "";
        start = i + 1;
        this.sawAny = true;
      } else if (ch === 10 /* \n */ || ch === 13 /* \r */) {
        const rest = field + text.slice(start, i);
        if (this.sawAny || rest.length > 0 || this.record.length > 0) {
          this.record.push(rest);
          this.records.push(this.record);
        }
        this.record = [];
        this.sawAny = false;
        field = "";
        start = i + 1;
      } else {
        this.sawAny = true;
      }
    }
    this.field = field + text.slice(start);
  }

  end(): void {
    if (this.inQuotes) throw new KmlibError(ErrorCode.InvalidArgument, "csv: unterminated quoted field at end of input");
    if (this.sawAny || this.field.length > 0 || this.record.length > 0) {
      this.record.push(this.field);
      this.records.push(this.record);
    }
    this.field = "";
    this.record = [];
    this.sawAny = false;
  }

  take(): string[][] {
    const r = this.records;
    this.records = [];
    return r;
  }
}

/** Parses a whole CSV string (convenience for small inputs and tests). */
export function parseCsv(text: string): string[][] {
  const p = new CsvParser();
  p.push(text);
  p.end();
  return p.take();
}

/** Streams the records of a CSV file, header included, without holding the file in memory. */
export async function* readCsvRecords(path: string): AsyncGenerator<string[]> {
  const p = new CsvParser();
  const stream = createReadStream(path, { encoding: "utf8", highWaterMark: 1 << 20 });
  for await (const chunk of stream) {
    p.push(chunk as string);
    yield* p.take();
  }
  p.end();
  yield* p.take();
}

/** Parses one numeric cell; returns undefined for text that is not a number. */
export function parseNumber(cell: string): number | undefined {
  const s = cell.trim();
  if (s === "") return NaN;
  const v = Number(s);
  if (!Number.isNaN(v)) return v;
  const l = s.toLowerCase();
  if (l === "nan") return NaN;
  if (l === "inf" || l === "+inf" || l === "infinity" || l === "+infinity") return Infinity;
  if (l === "-inf" || l === "-infinity") return -Infinity;
  return undefined;
}

export interface CsvLoadOptions {
  /** Name of the label column. Default: the last column. */
  label?: string;
  /** Feature columns to keep, in this order. Default: every column but the label and `exclude`. */
  features?: readonly string[];
  /** Columns to drop when `features` is not given. */
  exclude?: readonly string[];
  /** Class names in index order; labels outside it are an error. Default: sorted distinct labels. */
  classNames?: readonly string[];
  /** Keep at most this many rows (in file order). */
  maxRows?: number;
}

/** Accumulates rows from one or more CSV files with the same header into a dataset. */
export class CsvDatasetBuilder {
  private header: string[] | undefined;
  private featureIdx: number[] = [];
  private labelIdx = -1;
  private values: number[] = [];
  private labels: string[] = [];
  constructor(private readonly opts: CsvLoadOptions = {}) {}

  get rows(): number {
    return this.labels.length;
  }

  /** Adds the rows of one file; `maxRows` caps the rows taken from this file. */
  async addFile(path: string, maxRows?: number): Promise<void> {
    let first = true;
    let taken = 0;
    let line = 0;
    for await (const rec of readCsvRecords(path)) {
      line++;
      if (first) {
        first = false;
        this.setHeader(rec.map((h) => h.trim()), path);
        continue;
      }
      if (this.opts.maxRows !== undefined && this.rows >= this.opts.maxRows) break;
      if (maxRows !== undefined && taken >= maxRows) break;
      taken++;
      if (rec.length === 1 && rec[0] === "") continue;
      if (rec.length !== this.header!.length) {
        throw new KmlibError(ErrorCode.InvalidArgument, `csv ${path}:${line}: ${rec.length} fields, header has ${this.header!.length}`);
      }
      for (const j of this.featureIdx) {
        const v = parseNumber(rec[j]!);
        if (v === undefined) {
          throw new KmlibError(ErrorCode.InvalidArgument, `csv ${path}:${line}: column ${JSON.stringify(this.header![j])}: not a number: ${JSON.stringify(rec[j])}`);
        }
        this.values.push(v);
      }
      this.labels.push(rec[this.labelIdx]!.trim());
    }
    if (first) throw new KmlibError(ErrorCode.InvalidArgument, `csv ${path}: empty file (no header)`);
  }

  private setHeader(h: string[], path: string): void {
    if (this.header !== undefined) {
      if (h.join("\u0000") !== this.header.join("\u0000")) throw new KmlibError(ErrorCode.InvalidArgument, `csv ${path}: header differs from the first file's`);
      return;
    }
    this.header = h;
    const label = this.opts.label ?? h[h.length - 1]!;
    this.labelIdx = h.indexOf(label);
    if (this.labelIdx < 0) throw new KmlibError(ErrorCode.InvalidArgument, `csv ${path}: no label column ${JSON.stringify(label)}`);
    if (this.opts.features) {
      this.featureIdx = this.opts.features.map((f) => {
        const i = h.indexOf(f);
        if (i < 0) throw new KmlibError(ErrorCode.InvalidArgument, `csv ${path}: no column ${JSON.stringify(f)}`);
        return i;
      });
    } else {
      const ex = new Set(this.opts.exclude ?? []);
      this.featureIdx = h.map((_, i) => i).filter((i) => i !== this.labelIdx && !ex.has(h[i]!));
    }
  }

  build(): Dataset {
    if (this.header === undefined) throw new KmlibError(ErrorCode.InvalidArgument, "csv: no file added");
    const classNames = this.opts.classNames ? [...this.opts.classNames] : [...new Set(this.labels)].sort();
    const index = new Map(classNames.map((c, i) => [c, i]));
    const y = new Int32Array(this.labels.length);
    this.labels.forEach((l, i) => {
      const c = index.get(l);
      if (c === undefined) throw new KmlibError(ErrorCode.InvalidArgument, `csv: label ${JSON.stringify(l)} is not one of the given classes`);
      y[i] = c;
    });
    return makeDataset({ x: Float64Array.from(this.values), y, featureNames: this.featureIdx.map((i) => this.header![i]!), classNames });
  }
}

/** Loads one CSV file as a dataset. */
export async function loadCsv(path: string, opts: CsvLoadOptions = {}): Promise<Dataset> {
  const b = new CsvDatasetBuilder(opts);
  await b.addFile(path);
  return b.build();
}

function csvCell(s: string): string {
  return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

/** Writes a dataset as CSV: the features, then a `label` column with class names. */
export function writeCsv(path: string, ds: Dataset, labelColumn = "label"): void {
  const lines = [[...ds.featureNames, labelColumn].map(csvCell).join(",")];
  for (let r = 0; r < ds.nRows; r++) {
    const cells: string[] = [];
    for (let j = 0; j < ds.nFeatures; j++) cells.push(String(ds.x[r * ds.nFeatures + j]));
    cells.push(csvCell(ds.classNames[ds.y[r]!]!));
    lines.push(cells.join(","));
  }
  writeFileSync(path, lines.join("\n") + "\n");
}
