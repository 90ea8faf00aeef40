/**
 * @module agent/store/data
 * Datasets (the RFC's descriptors plus the rows extracted from them) and feedback records,
 * as stored by the agent. Writes are batched in one transaction each: a batch is stored whole
 * or not at all, and replaying a batch (same proxy and seq) changes nothing.
 */
import { ErrorCode, KmlibError } from "../../errors.ts";
import type { DatasetDescriptor, DatasetState, DatasetType } from "../../proxy/dataset.ts";
import { type FeedbackRecord, validateFeedback } from "../../proxy/feedback.ts";
import type { Mode, Source } from "../../proxy/mode.ts";
import type { Db } from "./db.ts";

export interface StoredDataset extends DatasetDescriptor {
  readonly proxy: string;
  readonly columns: readonly string[];
  readonly reason: string | null;
  readonly rows: number;
  readonly createdAt: number;
  readonly updatedAt: number;
}

export interface DatasetRow {
  readonly seq: number;
  readonly features: readonly number[];
  readonly label?: number;
}

interface DatasetDbRow {
  proxy: string;
  id: string;
  type: DatasetType;
  state: DatasetState;
  columns: string;
  available: number;
  extracted: number;
  reason: string | null;
  created_at: number;
  updated_at: number;
  rows: number;
}

export class DataStore {
  constructor(
    readonly db: Db,
    readonly now: () => number = Date.now,
  ) {}

  /** Create or update a dataset descriptor. */
  putDataset(proxy: string, d: DatasetDescriptor & { columns?: readonly string[]; reason?: string | undefined }): void {
    const t = this.now();
    this.db
      .prepare(
        `INSERT INTO datasets (proxy, id, type, state, columns, available, extracted, reason, created_at, updated_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
         ON CONFLICT (proxy, id) DO UPDATE SET state = excluded.state, available = excluded.available,
           extracted = excluded.extracted, reason = excluded.reason, updated_at = excluded.updated_at,
           columns = CASE WHEN excluded.columns = '[]' THEN datasets.columns ELSE excluded.columns END`,
      )
      .run(proxy, d.id, d.type, d.state, JSON.stringify(d.columns ?? []), d.available, d.extracted, d.reason ?? null, t, t);
  }

  /** Append rows to a dataset (must exist), in one transaction; replayed seqs are ignored. */
  appendRows(proxy: string, dataset: string, rows: readonly DatasetRow[]): number {
    const ds = this.db.prepare("SELECT columns FROM datasets WHERE proxy = ? AND id = ?").pluck().get(proxy, dataset) as string | undefined;
    if (ds === undefined) throw new KmlibError(ErrorCode.NotFound, `dataset "${dataset}" of proxy "${proxy}" does not exist`);
    const width = (JSON.parse(ds) as string[]).length;
    const ins = this.db.prepare("INSERT OR IGNORE INTO dataset_rows (proxy, dataset, seq, features, label) VALUES (?, ?, ?, ?, ?)");
    return this.db
      .transaction(() => {
        let n = 0;
        for (const r of rows) {
          if (width > 0 && r.features.length !== width) {
            throw new KmlibError(ErrorCode.InvalidArgument, `dataset ${dataset} row ${r.seq}: ${r.features.length} features, expected ${width}`);
          }
          n += ins.run(proxy, dataset, r.seq, JSON.stringify(r.features), r.label ?? null).changes;
        }
        return n;
      })
      .immediate();
  }

  #dataset(r: DatasetDbRow): StoredDataset {
    return {
      proxy: r.proxy,
      id: r.id,
      type: r.type,
      state: r.state,
      columns: JSON.parse(r.columns) as string[],
      available: r.available,
      extracted: r.extracted,
      reason: r.reason,
      rows: r.rows,
      createdAt: r.created_at,
      updatedAt: r.updated_at,
    };
  }

  datasets(proxy?: string): StoredDataset[] {
    const sql = `SELECT d.*, (SELECT count(*) FROM dataset_rows r WHERE r.proxy = d.proxy AND r.dataset = d.id) AS rows
                 FROM datasets d ${proxy === undefined ? "" : "WHERE d.proxy = ?"} ORDER BY d.proxy, d.created_at, d.id`;
    const rows = (proxy === undefined ? this.db.prepare(sql).all() : this.db.prepare(sql).all(proxy)) as DatasetDbRow[];
    return rows.map((r) => this.#dataset(r));
  }

  dataset(proxy: string, id: string): StoredDataset {
    const d = this.datasets(proxy).find((x) => x.id === id);
    if (!d) throw new KmlibError(ErrorCode.NotFound, `dataset "${id}" of proxy "${proxy}" does not exist`);
    return d;
  }

  /** Keeps only the newest `keep` rows (by seq) of a dataset; returns how many were deleted. */
  pruneRows(proxy: string, dataset: string, keep: number): number {
    if (!Number.isSafeInteger(keep) || keep < 1) throw new KmlibError(ErrorCode.InvalidArgument, `rows to keep must be a positive integer, got ${keep}`);
    const r = this.db
      .prepare(
        `DELETE FROM dataset_rows WHERE proxy = ? AND dataset = ? AND seq < (
           SELECT seq FROM dataset_rows WHERE proxy = ? AND dataset = ? ORDER BY seq DESC LIMIT 1 OFFSET ?)`,
      )
      .run(proxy, dataset, proxy, dataset, keep - 1);
    return r.changes;
  }

  *rows(proxy: string, dataset: string): Generator<DatasetRow> {
    const it = this.db.prepare("SELECT seq, features, label FROM dataset_rows WHERE proxy = ? AND dataset = ? ORDER BY seq").iterate(proxy, dataset) as IterableIterator<{
      seq: number;
      features: string;
      label: number | null;
    }>;
    for (const r of it) yield { seq: r.seq, features: JSON.parse(r.features) as number[], ...(r.label === null ? {} : { label: r.label }) };
  }

  /** Store feedback records in one transaction; returns how many were new. */
  addFeedback(records: readonly FeedbackRecord[]): number {
    for (const r of records) validateFeedback(r);
    const ins = this.db.prepare(
      `INSERT OR IGNORE INTO feedback (proxy, seq, mode, source, default_decision, model_decision, confidence, model_version,
         default_good, model_good, features, time, stored_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    );
    const b = (x: boolean | undefined) => (x === undefined ? null : x ? 1 : 0);
    const t = this.now();
    return this.db
      .transaction(() => {
        let n = 0;
        for (const r of records) {
          n += ins.run(r.proxy, r.seq, r.mode, r.source, r.defaultDecision, r.modelDecision ?? null, r.confidence ?? null, r.modelVersion ?? null, b(r.defaultGood), b(r.modelGood), r.features ? JSON.stringify(r.features) : null, r.time ?? null, t).changes;
        }
        return n;
      })
      .immediate();
  }

  /** Keeps only the newest `keep` feedback records (by seq) of a proxy; returns how many were deleted. */
  pruneFeedback(proxy: string, keep: number): number {
    if (!Number.isSafeInteger(keep) || keep < 1) throw new KmlibError(ErrorCode.InvalidArgument, `records to keep must be a positive integer, got ${keep}`);
    const r = this.db
      .prepare("DELETE FROM feedback WHERE proxy = ? AND seq < (SELECT seq FROM feedback WHERE proxy = ? ORDER BY seq DESC LIMIT 1 OFFSET ?)")
      .run(proxy, proxy, keep - 1);
    return r.changes;
  }

  feedback(proxy: string, opts: { sinceSeq?: number; limit?: number } = {}): FeedbackRecord[] {
    const rows = this.db
      .prepare("SELECT * FROM feedback WHERE proxy = ? AND seq > ? ORDER BY seq LIMIT ?")
      .all(proxy, opts.sinceSeq ?? -1, opts.limit ?? -1) as Array<Record<string, unknown>>;
    return rows.map((r) => {
      const opt = <T>(k: string, f: (v: never) => T) => (r[k] === null || r[k] === undefined ? {} : { [camel(k)]: f(r[k] as never) });
      return {
        proxy: r.proxy as string,
        seq: r.seq as number,
        mode: r.mode as Mode,
        source: r.source as Source,
        defaultDecision: r.default_decision as number,
        ...opt("model_decision", (v: number) => v),
        ...opt("confidence", (v: number) => v),
        ...opt("model_version", (v: number) => v),
        ...opt("default_good", (v: number) => v === 1),
        ...opt("model_good", (v: number) => v === 1),
        ...opt("features", (v: string) => JSON.parse(v) as number[]),
        ...opt("time", (v: number) => v),
      } as FeedbackRecord;
    });
  }

  feedbackCount(proxy?: string): number {
    return (proxy === undefined
      ? this.db.prepare("SELECT count(*) FROM feedback").pluck().get()
      : this.db.prepare("SELECT count(*) FROM feedback WHERE proxy = ?").pluck().get(proxy)) as number;
  }

  lastFeedbackSeq(proxy: string): number | undefined {
    return (this.db.prepare("SELECT max(seq) FROM feedback WHERE proxy = ?").pluck().get(proxy) as number | null) ?? undefined;
  }
}

const camel = (s: string) => s.replace(/_([a-z])/g, (_, c: string) => c.toUpperCase());
