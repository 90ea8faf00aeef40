import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { decodeRecommendation, encodeRecommendation, validateRecommendation, validateSchema } from "../../src/proxy/recommendation.ts";
import { ErrorCode, isKmlibError } from "../../src/errors.ts";

const schema = validateSchema({ fields: [{ name: "victim", min: 0, max: 4095 }, { name: "delta", min: -100, max: 100 }] });

describe("recommendations", () => {
  test("valid recommendations round-trip through the kernel wire form with their model version", () => {
    const rec = { modelVersion: 7, values: { victim: 4095, delta: -100 } };
    const bytes = encodeRecommendation(schema, rec);
    assert.equal(bytes.length, 24);
    assert.equal(new DataView(bytes.buffer).getBigUint64(0, true), 7n);
    assert.deepEqual(decodeRecommendation(schema, bytes), rec);
  });

  test("an out-of-bounds field is KMLIB_OUT_OF_BOUNDS naming the field, bounds and model version", () => {
    assert.throws(
      () => validateRecommendation(schema, { modelVersion: 3, values: { victim: 4096, delta: 0 } }),
      (e: unknown) => isKmlibError(e, ErrorCode.OutOfBounds) && /recommendation\.victim: 4096 out of bounds \[0, 4095\] \(model version 3\)/.test(e.message),
    );
    assert.throws(() => encodeRecommendation(schema, { modelVersion: 3, values: { victim: 1, delta: -101 } }), /recommendation\.delta/);
  });

  test("missing, unknown, non-integer fields and a bad model version are rejected", () => {
    assert.throws(() => validateRecommendation(schema, { modelVersion: 1, values: { victim: 1 } }), /delta: missing/);
    assert.throws(() => validateRecommendation(schema, { modelVersion: 1, values: { victim: 1, delta: 0, x: 1 } }), /x: unknown field/);
    assert.throws(() => validateRecommendation(schema, { modelVersion: 1, values: { victim: 1.5, delta: 0 } }), /must be an integer/);
    assert.throws(() => validateRecommendation(schema, { modelVersion: 0, values: { victim: 1, delta: 0 } }), /modelVersion/);
  });

  test("bad schemas and tampered wire bytes are rejected", () => {
    assert.throws(() => validateSchema({ fields: [{ name: "a", min: 2, max: 1 }] }), /min <= max/);
    assert.throws(() => validateSchema({ fields: [{ name: "a", min: 0, max: 1 }, { name: "a", min: 0, max: 1 }] }), /twice/);
    const bytes = encodeRecommendation(schema, { modelVersion: 1, values: { victim: 1, delta: 0 } });
    new DataView(bytes.buffer).setBigInt64(8, 99999n, true);
    assert.throws(() => decodeRecommendation(schema, bytes), (e: unknown) => isKmlibError(e, ErrorCode.OutOfBounds));
    assert.throws(() => decodeRecommendation(schema, bytes.subarray(0, 8)), /expected 24/);
  });
});
