import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { DatasetTracker } from "../../src/proxy/dataset.ts";
import { ErrorCode, isKmlibError } from "../../src/errors.ts";

describe("proxy datasets", () => {
  test("portions move clean -> extracted partially -> extracted completely; overlaps count once", () => {
    const d = new DatasetTracker("flows-1", "structure", 100);
    assert.equal(d.state, "clean");
    assert.equal(d.extract({ offset: 0, size: 40 }), "extracted partially");
    assert.equal(d.extract({ offset: 30, size: 20 }), "extracted partially");
    assert.equal(d.extracted, 50);
    assert.equal(d.extract({ offset: 60, size: 40 }), "extracted partially");
    assert.equal(d.extracted, 90);
    assert.equal(d.extract({ offset: 50, size: 10 }), "extracted completely");
    assert.deepEqual(d.describe(), { id: "flows-1", type: "structure", state: "extracted completely", available: 100, extracted: 100 });
  });

  test("a memory stream that grows goes back to partially extracted", () => {
    const d = new DatasetTracker("ring", "memory stream", 64);
    d.extract({ offset: 0, size: 64 });
    assert.equal(d.state, "extracted completely");
    d.publish(64);
    assert.equal(d.state, "extracted partially");
    assert.throws(() => new DatasetTracker("v", "value", 3).publish(1), (e: unknown) => isKmlibError(e, ErrorCode.IllegalState));
  });

  test("a portion outside the published data is KMLIB_OUT_OF_BOUNDS and changes nothing", () => {
    const d = new DatasetTracker("x", "value", 10);
    for (const p of [{ offset: 5, size: 6 }, { offset: -1, size: 2 }, { offset: 0, size: 0 }, { offset: 0.5, size: 1 }, { offset: 0, size: 2 ** 32 }]) {
      assert.throws(() => d.extract(p), (e: unknown) => isKmlibError(e, ErrorCode.OutOfBounds), JSON.stringify(p));
    }
    assert.equal(d.state, "clean");
    assert.equal(d.extracted, 0);
  });

  test("extraction failure can be retried; obsolete and corrupted are final", () => {
    const d = new DatasetTracker("x", "value", 10);
    d.fail("ring buffer overrun");
    assert.equal(d.state, "extraction failure");
    assert.equal(d.reason, "ring buffer overrun");
    assert.equal(d.extract({ offset: 0, size: 10 }), "extracted completely");
    d.obsolete();
    assert.throws(() => d.extract({ offset: 0, size: 1 }), /cannot extract in state "obsolete"/);
    const c = new DatasetTracker("y", "memory stream", 10);
    c.corrupt("checksum mismatch");
    assert.throws(() => c.publish(1), (e: unknown) => isKmlibError(e, ErrorCode.IllegalState));
    assert.throws(() => c.obsolete(), /corrupted/);
  });
});
