/**
 * @module agent/store/db
 * Opening the agent's SQLite store safely. Why SQLite (better-sqlite3): a single file, ACID
 * transactions, a write-ahead log that survives a killed writer, an integrity checker, and
 * readers (the CLI) that run alongside the writer (the agent) without a server.
 * - WAL with synchronous=FULL: a transaction that returned is on disk, even if the agent is
 *   SIGKILLed the next instant (and across power loss).
 * - An existing file is first opened read-only and checked (application id, schema version,
 *   quick_check); a file that is not a kmlib store or is damaged raises KMLIB_CORRUPT_STORE
 *   and is never written to, so nothing is lost by trying.
 */
import { existsSync, statSync } from "node:fs";
import Database from "better-sqlite3";
import { ErrorCode, KmlibError } from "../../errors.ts";

export type Db = Database.Database;

/** PRAGMA application_id: "kmlb". */
export const APPLICATION_ID = 0x6b6d6c62;
export const SCHEMA_VERSION = 1;

const SCHEMA = `
CREATE TABLE proxies (
  name TEXT PRIMARY KEY,
  adapter TEXT NOT NULL,
  status TEXT NOT NULL DEFAULT '{}',
  updated_at INTEGER NOT NULL
);
CREATE TABLE requests (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  proxy TEXT NOT NULL,
  kind TEXT NOT NULL,
  args TEXT NOT NULL DEFAULT '{}',
  created_at INTEGER NOT NULL,
  done_at INTEGER,
  result TEXT
);
CREATE INDEX requests_pending ON requests(proxy, done_at);
CREATE TABLE datasets (
  proxy TEXT NOT NULL,
  id TEXT NOT NULL,
  type TEXT NOT NULL,
  state TEXT NOT NULL,
  columns TEXT NOT NULL DEFAULT '[]',
  available INTEGER NOT NULL DEFAULT 0,
  extracted INTEGER NOT NULL DEFAULT 0,
  reason TEXT,
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL,
  PRIMARY KEY (proxy, id)
);
CREATE TABLE dataset_rows (
  proxy TEXT NOT NULL,
  dataset TEXT NOT NULL,
  seq INTEGER NOT NULL,
  features TEXT NOT NULL,
  label REAL,
  PRIMARY KEY (proxy, dataset, seq),
  FOREIGN KEY (proxy, dataset) REFERENCES datasets(proxy, id)
);
CREATE TABLE feedback (
  proxy TEXT NOT NULL,
  seq INTEGER NOT NULL,
  mode TEXT NOT NULL,
  source TEXT NOT NULL,
  default_decision REAL NOT NULL,
  model_decision REAL,
  confidence REAL,
  model_version INTEGER,
  default_good INTEGER,
  model_good INTEGER,
  features TEXT,
  time REAL,
  stored_at INTEGER NOT NULL,
  PRIMARY KEY (proxy, seq)
);
CREATE TABLE models (
  proxy TEXT NOT NULL,
  version INTEGER NOT NULL,
  kind TEXT NOT NULL,
  training_data TEXT NOT NULL,
  metrics TEXT NOT NULL DEFAULT '{}',
  artefact BLOB NOT NULL,
  artefact_format TEXT NOT NULL,
  artefact_sha256 TEXT NOT NULL,
  note TEXT,
  created_at INTEGER NOT NULL,
  PRIMARY KEY (proxy, version)
);
CREATE TABLE activations (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  proxy TEXT NOT NULL,
  version INTEGER NOT NULL,
  previous INTEGER,
  kind TEXT NOT NULL,
  reason TEXT NOT NULL,
  at INTEGER NOT NULL,
  FOREIGN KEY (proxy, version) REFERENCES models(proxy, version)
);
CREATE INDEX activations_proxy ON activations(proxy, id);
CREATE TABLE events (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  at INTEGER NOT NULL,
  proxy TEXT,
  kind TEXT NOT NULL,
  message TEXT NOT NULL,
  data TEXT NOT NULL DEFAULT '{}'
);
CREATE INDEX events_proxy ON events(proxy, id);
`;

function corrupt(path: string, why: string, cause?: unknown): KmlibError {
  return new KmlibError(ErrorCode.CorruptStore, `store ${path}: ${why} (file left untouched)`, cause === undefined ? undefined : { cause });
}

/** Read-only inspection of an existing file; throws KMLIB_CORRUPT_STORE when it is not sound. */
function check(path: string, quick: boolean): void {
  let db: Db | undefined;
  try {
    db = new Database(path, { readonly: true, fileMustExist: true });
    const appId = db.pragma("application_id", { simple: true }) as number;
    const version = db.pragma("user_version", { simple: true }) as number;
    const tables = db.prepare("SELECT count(*) FROM sqlite_schema").pluck().get() as number;
    if (appId === 0 && version === 0 && tables === 0) return; // an empty SQLite file: initialise it
    if (appId !== APPLICATION_ID) throw corrupt(path, `not a kmlib store (application_id 0x${appId.toString(16)})`);
    if (version > SCHEMA_VERSION) throw new KmlibError(ErrorCode.Unsupported, `store ${path}: schema version ${version} is newer than this kmlib (${SCHEMA_VERSION})`);
    if (quick) {
      const rows = db.prepare("PRAGMA quick_check").pluck().all() as string[];
      if (rows.length !== 1 || rows[0] !== "ok") throw corrupt(path, `integrity check failed: ${rows.slice(0, 3).join("; ")}`);
    }
  } catch (e) {
    if (e instanceof KmlibError) throw e;
    const code = (e as { code?: string }).code ?? "";
    if (/SQLITE_(NOTADB|CORRUPT)/.test(code)) throw corrupt(path, (e as Error).message, e);
    throw new KmlibError(ErrorCode.Syscall, `store ${path}: cannot open: ${(e as Error).message}`, { cause: e });
  } finally {
    db?.close();
  }
}

export interface OpenOptions {
  /** Open without writing (the CLI's status, export, list). */
  readonly readonly?: boolean;
  /** Run PRAGMA quick_check on an existing file before use (default true). */
  readonly check?: boolean;
}

export function openDb(path: string, opts: OpenOptions = {}): Db {
  const exists = path !== ":memory:" && existsSync(path);
  if (exists && statSync(path).size > 0) check(path, opts.check ?? true);
  if (!exists && opts.readonly) throw new KmlibError(ErrorCode.NotFound, `store ${path} does not exist`);
  let db: Db;
  try {
    db = new Database(path, { readonly: opts.readonly ?? false });
  } catch (e) {
    throw new KmlibError(ErrorCode.Syscall, `store ${path}: cannot open: ${(e as Error).message}`, { cause: e });
  }
  try {
    db.pragma("busy_timeout = 5000");
    db.pragma("foreign_keys = ON");
    if (!opts.readonly) {
      db.pragma("journal_mode = WAL");
      db.pragma("synchronous = FULL");
      const version = db.pragma("user_version", { simple: true }) as number;
      if (version === 0) {
        db.transaction(() => {
          db.exec(SCHEMA);
          db.pragma(`application_id = ${APPLICATION_ID}`);
          db.pragma(`user_version = ${SCHEMA_VERSION}`);
        }).immediate();
      }
    }
  } catch (e) {
    db.close();
    const code = (e as { code?: string }).code ?? "";
    if (/SQLITE_(NOTADB|CORRUPT)/.test(code)) throw corrupt(path, (e as Error).message, e);
    throw e;
  }
  return db;
}

/** Full integrity check ("ok" or the problems found). */
export function integrityCheck(db: Db): string[] {
  return db.prepare("PRAGMA integrity_check").pluck().all() as string[];
}
