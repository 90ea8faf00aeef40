import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { CsvParser, loadCsv, parseCsv, parseNumber, writeCsv } from "../../src/ml/dataset/csv.ts";
import { isKmlibError } from "../../src/errors.ts";

const tricky = 'a,"b, with comma","say ""hi"""\r\n1,"multi\nline",3\n"",x,\n';
const expected = [
  ["a", "b, with comma", 'say "hi"'],
  ["1", "multi\nline", "3"],
  ["", "x", ""],
];

test("csv: quoted fields, doubled quotes, CRLF, newlines inside quotes, empty fields", () => {
  assert.deepEqual(parseCsv(tricky), expected);
});

test("csv: the same records whatever the chunk boundaries", () => {
  for (const size of [1, 2, 3, 5, 7, 64]) {
    const p = new CsvParser();
    for (let i = 0; i < tricky.length; i += size) p.push(tricky.slice(i, i + size));
    p.end();
    assert.deepEqual(p.take(), expected, `chunk size ${size}`);
  }
});

test("csv: unterminated quote is an error", () => {
  assert.throws(() => parseCsv('a,"b\n'), (e) => isKmlibError(e) && /unterminated/.test(e.message));
});

test("csv: numeric cells accept Infinity, inf, NaN and empty", () => {
  assert.equal(parseNumber("Infinity"), Infinity);
  assert.equal(parseNumber("-inf"), -Infinity);
  assert.ok(Number.isNaN(parseNumber("NaN")!));
  assert.ok(Number.isNaN(parseNumber(" ")!));
  assert.equal(parseNumber("1e3"), 1000);
  assert.equal(parseNumber("abc"), undefined);
});

test("csv: loadCsv builds a dataset with sorted class names; writeCsv round-trips", async () => {
  const dir = mkdtempSync(join(tmpdir(), "kmlib-csv-"));
  const p = join(dir, "d.csv");
  writeFileSync(p, "f1,f2,label\n1,2.5,b\n3,Infinity,a\n-1,NaN,b\n");
  const ds = await loadCsv(p);
  assert.deepEqual(ds.featureNames, ["f1", "f2"]);
  assert.deepEqual(ds.classNames, ["a", "b"]);
  assert.deepEqual([...ds.y], [1, 0, 1]);
  assert.equal(ds.x[3], Infinity);
  assert.ok(Number.isNaN(ds.x[5]!));
  const p2 = join(dir, "e.csv");
  writeCsv(p2, ds);
  const back = await loadCsv(p2);
  assert.deepEqual([...back.y], [...ds.y]);
  assert.deepEqual([...back.x].map(String), [...ds.x].map(String));
});

test("csv: non-numeric feature cell and ragged row name the line and column", async () => {
  const dir = mkdtempSync(join(tmpdir(), "kmlib-csv-"));
  const p = join(dir, "bad.csv");
  writeFileSync(p, "f1,f2,label\n1,2,a\n1,zz,b\n");
  await assert.rejects(loadCsv(p), (e) => isKmlibError(e) && /:3: column "f2": not a number/.test(e.message));
  writeFileSync(p, "f1,f2,label\n1,2\n");
  await assert.rejects(loadCsv(p), (e) => isKmlibError(e) && /2 fields, header has 3/.test(e.message));
});
