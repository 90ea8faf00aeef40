import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { Lifecycle, LifecycleEvent, LifecycleState, nextState, transition } from "../../src/proxy/lifecycle.ts";
import { ErrorCode, isKmlibError } from "../../src/errors.ts";

const S = LifecycleState;
const E = LifecycleEvent;

describe("proxy lifecycle", () => {
  test("the RFC's full path with a stop/start cycle and a re-init", () => {
    const l = new Lifecycle();
    assert.equal(l.state, S.created);
    const path = [E.init, E.start, E.run, E.stop, E.reinit, E.start, E.run, E.stop, E.start, E.stop, E.shutdown];
    const states = path.map((e) => l.apply(e));
    assert.deepEqual(states, [S.initialized, S.started, S.running, S.stopped, S.initialized, S.started, S.running, S.stopped, S.started, S.stopped, S.shuttingDown]);
    assert.equal(l.history.length, path.length);
    assert.deepEqual(l.history[3], { from: S.running, to: S.stopped, event: E.stop });
  });

  test("every (state, event) pair is either legal with the expected target or a typed error naming both states", () => {
    const legal = new Set([
      "created/init", "created/shutdown",
      "initialized/reinit", "initialized/start", "initialized/shutdown",
      "started/run", "started/stop", "started/shutdown",
      "running/stop", "running/shutdown",
      "stopped/start", "stopped/reinit", "stopped/shutdown",
    ]);
    for (const s of Object.values(S)) {
      for (const e of Object.values(E)) {
        const key = `${s}/${e}`;
        if (legal.has(key)) {
          assert.notEqual(nextState(s, e), undefined, key);
        } else {
          assert.equal(nextState(s, e), undefined, key);
          assert.throws(() => transition(s, e), (err: unknown) => {
            assert.ok(isKmlibError(err, ErrorCode.IllegalState), key);
            assert.match(err.message, new RegExp(`from "${s}"`));
            return true;
          });
        }
      }
    }
  });

  test("running cannot be re-initialized without stopping; shutting down is final", () => {
    const l = new Lifecycle();
    l.apply(E.init);
    l.apply(E.start);
    l.apply(E.run);
    assert.ok(l.active);
    assert.throws(() => l.apply(E.reinit), /illegal lifecycle transition from "running" to "initialized"/);
    assert.equal(l.state, S.running, "a refused transition leaves the state alone");
    l.apply(E.shutdown);
    assert.ok(!l.active);
    for (const e of Object.values(E)) assert.ok(!l.can(e), e);
  });
});
