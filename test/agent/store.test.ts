import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { createHash } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import Database from "better-sqlite3";
import { Store } from "../../src/agent/store/index.ts";
import { ErrorCode, isKmlibError } from "../../src/errors.ts";

const dir = mkdtempSync(join(tmpdir(), "kmlib-store-"));
process.on("exit", () => rmSync(dir, { recursive: true, force: true }));
let n = 0;
const fresh = () => join(dir, `s${n++}.db`);
const sha = (p: string) => createHash("sha256").update(readFileSync(p)).digest("hex");

describe("agent store", () => {
  test("opens with WAL and synchronous=FULL, and reopens what it wrote", () => {
    const p = fresh();
    {
      using s = Store.open(p);
      assert.equal(s.db.pragma("journal_mode", { simple: true }), "wal");
      assert.equal(s.db.pragma("synchronous", { simple: true }), 2);
      s.logEvent("mode", "learning -> collaboration", { proxy: "p", data: { reason: "promote" } });
    }
    using s = Store.open(p);
    const [e] = s.events({ proxy: "p" });
    assert.equal(e?.kind, "mode");
    assert.deepEqual(e?.data, { reason: "promote" });
    assert.deepEqual(s.integrityCheck(), ["ok"]);
  });

  test("feedback batches are idempotent and round-trip every field", () => {
    using s = Store.open(fresh());
    const recs = [
      { proxy: "p", seq: 1, mode: "learning" as const, source: "default" as const, defaultDecision: 0, modelDecision: 1, confidence: 0.75, modelVersion: 2, defaultGood: true, modelGood: false, features: [1, 2, 3], time: 12 },
      { proxy: "p", seq: 2, mode: "collaboration" as const, source: "model" as const, defaultDecision: 1, modelDecision: 1 },
    ];
    assert.equal(s.data.addFeedback(recs), 2);
    assert.equal(s.data.addFeedback(recs), 0, "replay stores nothing new");
    assert.deepEqual(s.data.feedback("p"), recs);
    assert.deepEqual(s.data.feedback("p", { sinceSeq: 1 }).map((r) => r.seq), [2]);
    assert.throws(() => s.data.addFeedback([{ ...recs[1]!, seq: 3, modelDecision: undefined }]), /feedback\.modelDecision/);
    assert.equal(s.data.feedbackCount("p"), 2, "a rejected batch stores nothing");
  });

  test("datasets keep descriptor and rows; rows need an existing dataset and the right width", () => {
    using s = Store.open(fresh());
    s.data.putDataset("p", { id: "d1", type: "structure", state: "extracted partially", available: 10, extracted: 2, columns: ["a", "b"] });
    assert.equal(s.data.appendRows("p", "d1", [{ seq: 0, features: [1, 2], label: 1 }, { seq: 1, features: [3, 4] }]), 2);
    assert.throws(() => s.data.appendRows("p", "d1", [{ seq: 2, features: [1] }]), /2 features|1 features, expected 2/);
    assert.throws(() => s.data.appendRows("p", "nope", []), (e: unknown) => isKmlibError(e, ErrorCode.NotFound));
    s.data.putDataset("p", { id: "d1", type: "structure", state: "extracted completely", available: 10, extracted: 10 });
    const d = s.data.dataset("p", "d1");
    assert.equal(d.state, "extracted completely");
    assert.deepEqual(d.columns, ["a", "b"], "columns kept when an update does not name them");
    assert.equal(d.rows, 2);
    assert.deepEqual([...s.data.rows("p", "d1")], [{ seq: 0, features: [1, 2], label: 1 }, { seq: 1, features: [3, 4] }]);
  });

  test("retention keeps the newest rows of one dataset and the newest feedback of one proxy", () => {
    using s = Store.open(fresh());
    for (const id of ["d1", "d2"]) s.data.putDataset("p", { id, type: "memory stream", state: "extracted partially", available: 10, extracted: 10, columns: ["a"] });
    const rows = Array.from({ length: 10 }, (_, i) => ({ seq: i, features: [i] }));
    s.data.appendRows("p", "d1", rows);
    s.data.appendRows("p", "d2", rows);
    assert.equal(s.data.pruneRows("p", "d1", 3), 7);
    assert.deepEqual([...s.data.rows("p", "d1")].map((r) => r.seq), [7, 8, 9]);
    assert.equal(s.data.dataset("p", "d2").rows, 10, "another dataset is untouched");
    assert.equal(s.data.pruneRows("p", "d1", 5), 0, "fewer rows than kept: nothing deleted");
    assert.throws(() => s.data.pruneRows("p", "d1", 0), (e: unknown) => isKmlibError(e, ErrorCode.InvalidArgument));
    const fb = (proxy: string, seq: number) => ({ proxy, seq, mode: "learning" as const, source: "default" as const, defaultDecision: 0 });
    s.data.addFeedback([1, 2, 3, 4].map((i) => fb("p", i)));
    s.data.addFeedback([1, 2].map((i) => fb("q", i)));
    assert.equal(s.data.pruneFeedback("p", 2), 2);
    assert.deepEqual(s.data.feedback("p").map((r) => r.seq), [3, 4]);
    assert.equal(s.data.feedbackCount("q"), 2, "another proxy's feedback is untouched");
  });

  test("model registry: versions, atomic activation, rollback as a stack, typed errors", () => {
    let now = 1000;
    using s = Store.open(fresh(), { now: () => now++ });
    const r = s.registry;
    const add = (k: string) => r.register({ proxy: "p", kind: k, trainingData: "dataset:d1", metrics: { f1: 0.9 }, artefact: new TextEncoder().encode(k), artefactFormat: "ir-json" });
    assert.deepEqual([add("a").version, add("b").version, add("c").version], [1, 2, 3]);
    assert.equal(r.active("p"), undefined);
    assert.throws(() => r.rollback("p"), (e: unknown) => isKmlibError(e, ErrorCode.NotFound));
    r.activate("p", 1);
    assert.throws(() => r.rollback("p"), (e: unknown) => isKmlibError(e, ErrorCode.IllegalState));
    r.activate("p", 2);
    r.activate("p", 3);
    assert.throws(
      () => r.activate("p", 9),
      (e: unknown) => isKmlibError(e, ErrorCode.NotFound) && /model version 9 of proxy "p" does not exist \(versions: 1, 2, 3\)/.test(e.message),
    );
    assert.equal(r.active("p"), 3, "a failed activation changes nothing");
    assert.equal(r.rollback("p").version, 2);
    assert.equal(r.rollback("p").version, 1);
    assert.equal(r.active("p"), 1);
    assert.deepEqual(r.list("p").map((m) => [m.version, m.active]), [[1, true], [2, false], [3, false]]);
    assert.deepEqual(r.get("p", 2).metrics, { f1: 0.9 });
    assert.equal(new TextDecoder().decode(r.artefact("p", 3)), "c");
    s.db.prepare("UPDATE models SET artefact = x'00' WHERE version = 3").run();
    assert.throws(() => r.artefact("p", 3), (e: unknown) => isKmlibError(e, ErrorCode.CorruptStore));
  });

  test("model registry: pruneArtefacts keeps the newest versions, the rollback stack's top and the active one", () => {
    using s = Store.open(fresh());
    const r = s.registry;
    const add = (k: string) => r.register({ proxy: "p", kind: "t", trainingData: "x", artefact: new TextEncoder().encode(k), artefactFormat: "bin" }).version;
    for (let i = 1; i <= 8; i++) add(`m${i}`);
    r.register({ proxy: "q", kind: "t", trainingData: "x", artefact: new Uint8Array([1]), artefactFormat: "bin" });
    for (const v of [1, 2, 3]) r.activate("p", v);
    assert.equal(r.pruneArtefacts("p", 0), 0, "0 keeps everything");
    // Newest 2: 7, 8; stack top 2: 2, 3; active: 3. Dropped: 1, 4, 5, 6.
    assert.equal(r.pruneArtefacts("p", 2), 4);
    const sizes = Object.fromEntries(r.list("p").map((m) => [m.version, m.artefactSize]));
    assert.deepEqual(sizes, { 1: 0, 2: 2, 3: 2, 4: 0, 5: 0, 6: 0, 7: 2, 8: 2 });
    assert.equal(new TextDecoder().decode(r.artefact("p", 2)), "m2");
    assert.throws(() => r.artefact("p", 5), (e: unknown) => isKmlibError(e, ErrorCode.NotFound) && /v5: artefact pruned/.test(e.message));
    assert.equal(r.get("p", 5).kind, "t", "a pruned version keeps its metadata");
    assert.equal(r.list("q")[0]!.artefactSize, 1, "other proxies are untouched");
    assert.equal(r.pruneArtefacts("p", 2), 0, "idempotent");
    assert.equal(r.rollback("p").version, 2, "rollback still reaches the kept stack");
    assert.equal(new TextDecoder().decode(r.artefact("p", 2)), "m2");
  });

  test("a file that is not a database is KMLIB_CORRUPT_STORE and is left byte for byte", () => {
    const p = fresh();
    writeFileSync(p, "this is not a database, it is a note about one\n".repeat(200));
    const before = sha(p);
    assert.throws(() => Store.open(p), (e: unknown) => isKmlibError(e, ErrorCode.CorruptStore) && /file left untouched/.test(e.message));
    assert.equal(sha(p), before);
  });

  test("another application's SQLite file is refused, not adopted", () => {
    const p = fresh();
    const db = new Database(p);
    db.exec("CREATE TABLE t (x)");
    db.close();
    const before = sha(p);
    assert.throws(() => Store.open(p), /not a kmlib store/);
    assert.equal(sha(p), before);
  });

  test("a store with damaged pages fails the integrity check with a typed error and is kept", () => {
    const p = fresh();
    {
      using s = Store.open(p);
      const recs = Array.from({ length: 3000 }, (_, i) => ({ proxy: "p", seq: i, mode: "learning" as const, source: "default" as const, defaultDecision: i, features: [i, i * 2, i * 3] }));
      s.data.addFeedback(recs);
    }
    const bytes = readFileSync(p);
    const page = bytes.readUInt16BE(16) || 65536;
    assert.ok(bytes.length > 20 * page, "enough pages to damage one in the middle");
    for (let i = 0; i < page; i++) bytes[10 * page + i] = (i * 151 + 7) & 0xff;
    writeFileSync(p, bytes);
    const before = sha(p);
    assert.throws(() => Store.open(p), (e: unknown) => isKmlibError(e, ErrorCode.CorruptStore));
    assert.equal(sha(p), before);
  });

  test("crash safety: a writer SIGKILLed mid-write loses nothing it committed and leaves no corruption", async () => {
    const p = fresh();
    const child = spawn(process.execPath, ["--import", "tsx", new URL("./fixtures/store-writer.ts", import.meta.url).pathname, p], { stdio: ["ignore", "pipe", "inherit"] });
    let committed = -1;
    let buf = "";
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        child.kill("SIGKILL");
        reject(new Error("writer made no progress in 20 s"));
      }, 20_000);
      child.stdout.on("data", (chunk: Buffer) => {
        buf += chunk.toString();
        const lines = buf.split("\n");
        buf = lines.pop()!;
        for (const l of lines) committed = Number(l);
        if (committed >= 2000 && child.exitCode === null && !child.killed) {
          child.kill("SIGKILL");
          clearTimeout(timer);
        }
      });
      child.on("exit", (_code, signal) => (signal === "SIGKILL" ? resolve() : reject(new Error(`writer exited without being killed: ${signal}`))));
    });
    assert.ok(committed >= 2000);
    using s = Store.open(p);
    assert.deepEqual(s.integrityCheck(), ["ok"]);
    const count = s.data.feedbackCount("crash");
    const last = s.data.lastFeedbackSeq("crash")!;
    assert.ok(last >= committed, `last stored seq ${last} < last reported committed ${committed}`);
    assert.equal(count, last + 1, "no gaps");
    assert.equal(count % 10, 0, "no half batch");
    const rec = s.data.feedback("crash", { sinceSeq: committed - 1, limit: 1 })[0]!;
    assert.deepEqual(rec.features, [committed, 1, 2, 3, 4, 5, 6, 7]);
  });
});
