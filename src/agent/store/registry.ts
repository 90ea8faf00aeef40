/**
 * @module agent/store/registry
 * The model registry: every trained model as a numbered version per proxy, with the training
 * data it came from, its metrics and its compiled artefact (checksummed). Activation is one
 * transaction (check, record, switch), so a reader sees either the old or the new active
 * version, never neither. Rollback pops a stack of activations: it reactivates the version
 * that was active before the current one, and a second rollback goes one further back.
 */
import { createHash } from "node:crypto";
import { ErrorCode, KmlibError } from "../../errors.ts";
import type { Db } from "./db.ts";

export interface ModelInput {
  readonly proxy: string;
  /** Model kind (tree, forest, linear, ...). */
  readonly kind: string;
  /** What it was trained on: dataset ids, a query, a file; kept verbatim. */
  readonly trainingData: string;
  readonly metrics?: Readonly<Record<string, number>>;
  /** The compiled artefact (eBPF bytes, integer IR JSON, ...). */
  readonly artefact: Uint8Array;
  readonly artefactFormat: string;
  readonly note?: string;
}

export interface ModelVersion {
  readonly proxy: string;
  readonly version: number;
  readonly kind: string;
  readonly trainingData: string;
  readonly metrics: Readonly<Record<string, number>>;
  readonly artefactFormat: string;
  readonly artefactSha256: string;
  readonly artefactSize: number;
  readonly note: string | null;
  readonly createdAt: number;
  readonly active: boolean;
}

export interface Activation {
  readonly proxy: string;
  readonly version: number;
  readonly previous: number | null;
  readonly kind: "activate" | "rollback";
  readonly reason: string;
  readonly at: number;
}

interface ModelRow {
  proxy: string;
  version: number;
  kind: string;
  training_data: string;
  metrics: string;
  artefact_format: string;
  artefact_sha256: string;
  size: number;
  note: string | null;
  created_at: number;
}

const sha256 = (b: Uint8Array) => createHash("sha256").update(b).digest("hex");

export class ModelRegistry {
  constructor(
    readonly db: Db,
    readonly now: () => number = Date.now,
  ) {}

  /** Register a new version (not active until `activate`). Returns its version number. */
  register(m: ModelInput): ModelVersion {
    if (m.artefact.length === 0) throw new KmlibError(ErrorCode.InvalidModel, `model for ${m.proxy}: empty artefact`);
    const version = this.db
      .transaction(() => {
        const v = ((this.db.prepare("SELECT max(version) FROM models WHERE proxy = ?").pluck().get(m.proxy) as number | null) ?? 0) + 1;
        this.db
          .prepare(
            "INSERT INTO models (proxy, version, kind, training_data, metrics, artefact, artefact_format, artefact_sha256, note, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
          )
          .run(m.proxy, v, m.kind, m.trainingData, JSON.stringify(m.metrics ?? {}), Buffer.from(m.artefact), m.artefactFormat, sha256(m.artefact), m.note ?? null, this.now());
        return v;
      })
      .immediate();
    return this.get(m.proxy, version);
  }

  active(proxy: string): number | undefined {
    const v = this.db.prepare("SELECT version FROM activations WHERE proxy = ? ORDER BY id DESC LIMIT 1").pluck().get(proxy) as number | undefined;
    return v ?? undefined;
  }

  #row(r: ModelRow, active: number | undefined): ModelVersion {
    return {
      proxy: r.proxy,
      version: r.version,
      kind: r.kind,
      trainingData: r.training_data,
      metrics: JSON.parse(r.metrics) as Record<string, number>,
      artefactFormat: r.artefact_format,
      artefactSha256: r.artefact_sha256,
      artefactSize: r.size,
      note: r.note,
      createdAt: r.created_at,
      active: r.version === active,
    };
  }

  list(proxy: string): ModelVersion[] {
    const active = this.active(proxy);
    const rows = this.db
      .prepare("SELECT proxy, version, kind, training_data, metrics, artefact_format, artefact_sha256, length(artefact) AS size, note, created_at FROM models WHERE proxy = ? ORDER BY version")
      .all(proxy) as ModelRow[];
    return rows.map((r) => this.#row(r, active));
  }

  /** Proxies that have at least one model. */
  proxies(): string[] {
    return this.db.prepare("SELECT DISTINCT proxy FROM models ORDER BY proxy").pluck().all() as string[];
  }

  get(proxy: string, version: number): ModelVersion {
    const r = this.db
      .prepare("SELECT proxy, version, kind, training_data, metrics, artefact_format, artefact_sha256, length(artefact) AS size, note, created_at FROM models WHERE proxy = ? AND version = ?")
      .get(proxy, version) as ModelRow | undefined;
    if (!r) throw this.#notFound(proxy, version);
    return this.#row(r, this.active(proxy));
  }

  #notFound(proxy: string, version: number): KmlibError {
    const have = this.db.prepare("SELECT version FROM models WHERE proxy = ? ORDER BY version").pluck().all(proxy) as number[];
    return new KmlibError(ErrorCode.NotFound, `model version ${version} of proxy "${proxy}" does not exist (versions: ${have.length ? have.join(", ") : "none"})`);
  }

  /** The artefact bytes, verified against their checksum. */
  artefact(proxy: string, version: number): Uint8Array {
    const r = this.db.prepare("SELECT artefact, artefact_sha256 FROM models WHERE proxy = ? AND version = ?").get(proxy, version) as
      | { artefact: Buffer; artefact_sha256: string }
      | undefined;
    if (!r) throw this.#notFound(proxy, version);
    if (r.artefact.length === 0) throw new KmlibError(ErrorCode.NotFound, `model ${proxy} v${version}: artefact pruned (the proxy's retain.models keeps only the newest versions' artefacts)`);
    const bytes = new Uint8Array(r.artefact);
    if (sha256(bytes) !== r.artefact_sha256) throw new KmlibError(ErrorCode.CorruptStore, `model ${proxy} v${version}: artefact checksum mismatch`);
    return bytes;
  }

  /** Make `version` the active one, atomically. */
  activate(proxy: string, version: number, reason = "activate"): Activation {
    return this.db.transaction(() => this.#activate(proxy, version, "activate", reason)).immediate();
  }

  #activate(proxy: string, version: number, kind: "activate" | "rollback", reason: string): Activation {
    const exists = this.db.prepare("SELECT 1 FROM models WHERE proxy = ? AND version = ?").get(proxy, version);
    if (!exists) throw this.#notFound(proxy, version);
    const previous = this.active(proxy) ?? null;
    const a: Activation = { proxy, version, previous, kind, reason, at: this.now() };
    this.db.prepare("INSERT INTO activations (proxy, version, previous, kind, reason, at) VALUES (?, ?, ?, ?, ?, ?)").run(proxy, version, previous, kind, reason, a.at);
    return a;
  }

  /** The versions activated and not rolled back, oldest first (the top is the active one). */
  stack(proxy: string): number[] {
    const stack: number[] = [];
    for (const a of this.history(proxy)) {
      if (a.kind === "rollback") stack.pop();
      else if (stack.at(-1) !== a.version) stack.push(a.version);
    }
    return stack;
  }

  /** Reactivate the version that was active before the current one. */
  rollback(proxy: string, reason = "rollback"): Activation {
    return this.db
      .transaction((): Activation => {
        const stack = this.stack(proxy);
        const cur = stack.at(-1);
        if (cur === undefined) throw new KmlibError(ErrorCode.NotFound, `proxy "${proxy}" has no active model to roll back`);
        const prev = stack.at(-2);
        if (prev === undefined) throw new KmlibError(ErrorCode.IllegalState, `proxy "${proxy}": model version ${cur} has no earlier activation to roll back to`);
        return this.#activate(proxy, prev, "rollback", `${reason} from version ${cur}`);
      })
      .immediate();
  }

  /**
   * Bounds what a long-running proxy's registry holds: every version keeps its row (number,
   * kind, metrics, checksum, activation history), but only the newest `keep` versions and the
   * top `keep` versions of the rollback stack keep their artefact bytes; the others' are
   * dropped (size 0) and `artefact` refuses them by name. The active version is always kept.
   * Returns how many artefacts were dropped. `keep` 0 keeps everything.
   */
  pruneArtefacts(proxy: string, keep: number): number {
    if (keep <= 0) return 0;
    return this.db
      .transaction((): number => {
        const versions = this.db.prepare("SELECT version FROM models WHERE proxy = ? AND length(artefact) > 0 ORDER BY version DESC").pluck().all(proxy) as number[];
        if (versions.length <= keep) return 0;
        const kept = new Set([...versions.slice(0, keep), ...this.stack(proxy).slice(-keep)]);
        const active = this.active(proxy);
        if (active !== undefined) kept.add(active);
        const drop = this.db.prepare("UPDATE models SET artefact = X'' WHERE proxy = ? AND version = ?");
        let n = 0;
        for (const v of versions) if (!kept.has(v)) n += drop.run(proxy, v).changes;
        return n;
      })
      .immediate();
  }

  history(proxy: string): Activation[] {
    return this.db.prepare("SELECT proxy, version, previous, kind, reason, at FROM activations WHERE proxy = ? ORDER BY id").all(proxy) as Activation[];
  }
}
