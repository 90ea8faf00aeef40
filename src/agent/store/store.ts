/**
 * @module agent/store/store
 * The agent's store: one SQLite file holding datasets, feedback, the model registry, the event
 * log, each proxy's last published status, and requests from the CLI to the running agent
 * (`kmlib mode set` writes a request; the agent applies it and records the result). Holds a
 * file descriptor, so it is a class with `close()` and `[Symbol.dispose]`.
 */
import { ErrorCode, KmlibError } from "../../errors.ts";
import { DataStore } from "./data.ts";
import { type Db, type OpenOptions, integrityCheck, openDb } from "./db.ts";
import { ModelRegistry } from "./registry.ts";

export interface StoredEvent {
  readonly id: number;
  readonly at: number;
  readonly proxy: string | null;
  readonly kind: string;
  readonly message: string;
  readonly data: Readonly<Record<string, unknown>>;
}

export interface ProxyStatusRow {
  readonly name: string;
  readonly adapter: string;
  readonly status: Readonly<Record<string, unknown>>;
  readonly updatedAt: number;
}

export const RequestKind = { mode: "mode" } as const;
export type RequestKind = (typeof RequestKind)[keyof typeof RequestKind];

export interface AgentRequest {
  readonly id: number;
  readonly proxy: string;
  readonly kind: RequestKind;
  readonly args: Readonly<Record<string, unknown>>;
  readonly createdAt: number;
  readonly doneAt: number | null;
  readonly result: string | null;
}

export interface StoreOptions extends OpenOptions {
  readonly now?: () => number;
}

export class Store {
  readonly db: Db;
  readonly data: DataStore;
  readonly registry: ModelRegistry;
  readonly now: () => number;
  #closed = false;

  private constructor(
    readonly path: string,
    db: Db,
    now: () => number,
  ) {
    this.db = db;
    this.now = now;
    this.data = new DataStore(db, now);
    this.registry = new ModelRegistry(db, now);
  }

  static open(path: string, opts: StoreOptions = {}): Store {
    return new Store(path, openDb(path, opts), opts.now ?? Date.now);
  }

  get closed(): boolean {
    return this.#closed;
  }

  #live(): void {
    if (this.#closed) throw new KmlibError(ErrorCode.Closed, `store ${this.path} is closed`);
  }

  logEvent(kind: string, message: string, opts: { proxy?: string; data?: Record<string, unknown> } = {}): number {
    this.#live();
    const r = this.db.prepare("INSERT INTO events (at, proxy, kind, message, data) VALUES (?, ?, ?, ?, ?)").run(this.now(), opts.proxy ?? null, kind, message, JSON.stringify(opts.data ?? {}));
    return Number(r.lastInsertRowid);
  }

  /** Most recent events first. */
  events(opts: { proxy?: string; kind?: string; limit?: number } = {}): StoredEvent[] {
    this.#live();
    const where: string[] = [];
    const args: unknown[] = [];
    if (opts.proxy !== undefined) {
      where.push("proxy = ?");
      args.push(opts.proxy);
    }
    if (opts.kind !== undefined) {
      where.push("kind = ?");
      args.push(opts.kind);
    }
    const sql = `SELECT * FROM events ${where.length ? `WHERE ${where.join(" AND ")}` : ""} ORDER BY id DESC LIMIT ?`;
    const rows = this.db.prepare(sql).all(...args, opts.limit ?? 100) as Array<{ id: number; at: number; proxy: string | null; kind: string; message: string; data: string }>;
    return rows.map((r) => ({ ...r, data: JSON.parse(r.data) as Record<string, unknown> }));
  }

  putStatus(name: string, adapter: string, status: Record<string, unknown>): void {
    this.#live();
    this.db
      .prepare("INSERT INTO proxies (name, adapter, status, updated_at) VALUES (?, ?, ?, ?) ON CONFLICT (name) DO UPDATE SET adapter = excluded.adapter, status = excluded.status, updated_at = excluded.updated_at")
      .run(name, adapter, JSON.stringify(status), this.now());
  }

  statuses(): ProxyStatusRow[] {
    this.#live();
    const rows = this.db.prepare("SELECT name, adapter, status, updated_at FROM proxies ORDER BY name").all() as Array<{ name: string; adapter: string; status: string; updated_at: number }>;
    return rows.map((r) => ({ name: r.name, adapter: r.adapter, status: JSON.parse(r.status) as Record<string, unknown>, updatedAt: r.updated_at }));
  }

  request(proxy: string, kind: RequestKind, args: Record<string, unknown>): number {
    this.#live();
    return Number(this.db.prepare("INSERT INTO requests (proxy, kind, args, created_at) VALUES (?, ?, ?, ?)").run(proxy, kind, JSON.stringify(args), this.now()).lastInsertRowid);
  }

  pendingRequests(proxy: string): AgentRequest[] {
    this.#live();
    const rows = this.db.prepare("SELECT * FROM requests WHERE proxy = ? AND done_at IS NULL ORDER BY id").all(proxy) as Array<{
      id: number;
      proxy: string;
      kind: RequestKind;
      args: string;
      created_at: number;
      done_at: number | null;
      result: string | null;
    }>;
    return rows.map((r) => ({ id: r.id, proxy: r.proxy, kind: r.kind, args: JSON.parse(r.args) as Record<string, unknown>, createdAt: r.created_at, doneAt: r.done_at, result: r.result }));
  }

  completeRequest(id: number, result: string): void {
    this.#live();
    this.db.prepare("UPDATE requests SET done_at = ?, result = ? WHERE id = ?").run(this.now(), result, id);
  }

  requestById(id: number): AgentRequest | undefined {
    this.#live();
    const r = this.db.prepare("SELECT * FROM requests WHERE id = ?").get(id) as
      | { id: number; proxy: string; kind: RequestKind; args: string; created_at: number; done_at: number | null; result: string | null }
      | undefined;
    return r && { id: r.id, proxy: r.proxy, kind: r.kind, args: JSON.parse(r.args) as Record<string, unknown>, createdAt: r.created_at, doneAt: r.done_at, result: r.result };
  }

  integrityCheck(): string[] {
    this.#live();
    return integrityCheck(this.db);
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.db.close();
  }
  [Symbol.dispose](): void {
    this.close();
  }
}
