import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { ModeController, resolveThresholds } from "../../src/proxy/controller.ts";
import { type Counter, type EfficiencyCounters, emptyCounters } from "../../src/proxy/efficiency.ts";
import { MODES, type Mode, SOURCES, type Source } from "../../src/proxy/mode.ts";
import { ErrorCode, isKmlibError } from "../../src/errors.ts";
import { Rng } from "../../src/ml/rng.ts";

/** Deterministic uniform [0, 1) (mulberry32). */
function rng(seed: number): () => number {
  const r = new Rng(seed);
  return () => r.next();
}

/** A kernel side in miniature: cumulative counters per mode x source, filled by simulated decisions. */
class Sim {
  cells = new Map<string, { decided: number; evaluated: number; good: number }>();
  constructor(
    readonly rand: () => number,
    public pModel: number,
    public pDefault: number,
  ) {}
  cell(m: Mode, s: Source) {
    const k = `${m}/${s}`;
    let c = this.cells.get(k);
    if (!c) this.cells.set(k, (c = { decided: 0, evaluated: 0, good: 0 }));
    return c;
  }
  /** n decisions in `mode`; both answers evaluated (shadow or reference). */
  run(mode: Mode, n: number): EfficiencyCounters {
    for (let i = 0; i < n; i++) {
      const d = this.cell(mode, "default"), m = this.cell(mode, "model");
      d.evaluated++;
      if (this.rand() < this.pDefault) d.good++;
      if (mode !== "emergency") {
        m.evaluated++;
        if (this.rand() < this.pModel) m.good++;
      }
      (mode === "collaboration" || mode === "recommendation" ? m : d).decided++;
    }
    return this.counters();
  }
  counters(): EfficiencyCounters {
    const out = emptyCounters() as Record<Mode, Record<Source, Counter>>;
    for (const m of MODES) for (const s of SOURCES) out[m][s] = { ...this.cell(m, s) };
    return out;
  }
}

function drive(ctl: ModeController, sim: Sim, ticks: number, perTick: number): Mode[] {
  const seen: Mode[] = [];
  for (let i = 0; i < ticks; i++) {
    ctl.evaluate(sim.run(ctl.mode, perTick));
    seen.push(ctl.mode);
  }
  return seen;
}

describe("mode controller", () => {
  test("a better model climbs learning -> collaboration -> recommendation, each step with its evidence", () => {
    let now = 0;
    const ctl = new ModeController({ now: () => now, thresholds: { minDecisions: 500, promoteStreak: 2, promoteMargin: 0.02 } });
    const sim = new Sim(rng(1), 0.9, 0.8);
    for (let i = 0; i < 40 && ctl.mode !== "recommendation"; i++) {
      now += 1000;
      ctl.evaluate(sim.run(ctl.mode, 250));
    }
    assert.equal(ctl.mode, "recommendation");
    const h = ctl.history;
    assert.deepEqual(h.map((t) => [t.from, t.to, t.reason]), [["learning", "collaboration", "promote"], ["collaboration", "recommendation", "promote"]]);
    for (const t of h) {
      assert.ok(t.evidence, "a promotion carries evidence");
      assert.ok(t.evidence.window.model.evaluated >= 500 && t.evidence.window.default.evaluated >= 500);
      assert.ok(t.evidence.gain.lo > 0.02, `gain lower bound ${t.evidence.gain.lo}`);
      assert.match(t.detail, /beats default/);
    }
    // The window restarts at a transition: the second promotion's evidence is only collaboration-mode data.
    assert.ok(h[1]!.evidence!.window.model.evaluated < sim.cell("learning", "model").evaluated + sim.cell("collaboration", "model").evaluated);
    assert.ok(h[1]!.at > h[0]!.at);
  });

  test("an equal model is (almost) never promoted: false promotions stay under the test's error rate", () => {
    let promotions = 0;
    const runs = 40;
    for (let seed = 0; seed < runs; seed++) {
      const ctl = new ModeController({ thresholds: { minDecisions: 300, promoteStreak: 3, promoteMargin: 0 } });
      drive(ctl, new Sim(rng(100 + seed), 0.8, 0.8), 20, 200);
      if (ctl.history.some((t) => t.reason === "promote")) promotions++;
    }
    assert.ok(promotions <= 2, `${promotions} of ${runs} runs promoted an equal model`);
  });

  test("nothing moves before minDecisions, however good the model looks", () => {
    const ctl = new ModeController({ thresholds: { minDecisions: 10_000, promoteStreak: 1 } });
    drive(ctl, new Sim(rng(2), 1.0, 0.1), 10, 500);
    assert.equal(ctl.mode, "learning");
    assert.equal(ctl.history.length, 0);
  });

  test("a regression demotes one step; a collapse goes to emergency and recovers to learning after the cooldown", () => {
    let now = 0;
    const ctl = new ModeController({ initial: "recommendation", now: () => now, thresholds: { minDecisions: 400, collapseMargin: 0.15, collapseCooldownMs: 5000 } });
    const sim = new Sim(rng(3), 0.75, 0.8);
    drive(ctl, sim, 10, 200);
    assert.equal(ctl.history[0]?.reason, "demote");
    assert.equal(ctl.history[0]?.to, "collaboration");
    sim.pModel = 0.3;
    for (let i = 0; i < 10 && ctl.mode !== "emergency"; i++) ctl.evaluate(sim.run(ctl.mode, 200));
    const collapse = ctl.history.at(-1)!;
    assert.equal(collapse.reason, "efficiency-collapse");
    assert.equal(collapse.to, "emergency");
    assert.ok(collapse.evidence!.gain.hi < -0.15);
    now += 4999;
    ctl.evaluate(sim.run("emergency", 10));
    assert.equal(ctl.mode, "emergency");
    now += 1;
    ctl.evaluate(sim.run("emergency", 10));
    assert.equal(ctl.mode, "learning");
    assert.equal(ctl.history.at(-1)?.reason, "recover");
  });

  test("heartbeat loss and a failed model load force emergency; it ends only when every cause clears", () => {
    const ctl = new ModeController({ initial: "collaboration" });
    assert.equal(ctl.heartbeatLost()?.to, "emergency");
    assert.equal(ctl.modelLoadFailed(4, "verifier: invalid mem access"), undefined, "already in emergency");
    assert.deepEqual([...ctl.emergencyCauses].sort(), ["heartbeat", "model-load"]);
    assert.equal(ctl.heartbeatRestored(), undefined, "model load still failing");
    assert.equal(ctl.mode, "emergency");
    const t = ctl.modelLoaded(5);
    assert.equal(t?.to, "learning");
    assert.deepEqual(ctl.history.map((x) => x.reason), ["heartbeat-lost", "recover"]);
  });

  test("autoRecover=false keeps emergency until an operator asks; a pinned mode ignores evidence but not collapse", () => {
    const ctl = new ModeController({ initial: "learning", thresholds: { autoRecover: false, minDecisions: 200, promoteStreak: 1, collapseMargin: 0.2 } });
    ctl.heartbeatLost();
    ctl.heartbeatRestored();
    assert.equal(ctl.mode, "emergency");
    ctl.request("learning", { pin: true, who: "test" });
    assert.equal(ctl.history.at(-1)?.detail, "mode set to learning by test (pinned)");
    const sim = new Sim(rng(4), 0.95, 0.7);
    drive(ctl, sim, 10, 200);
    assert.equal(ctl.mode, "learning", "pinned: no promotion");
    sim.pModel = 0.2;
    drive(ctl, sim, 10, 200);
    assert.equal(ctl.mode, "emergency", "collapse overrides a pin");
  });

  test("maxMode caps promotion", () => {
    const ctl = new ModeController({ thresholds: { minDecisions: 200, promoteStreak: 1, maxMode: "collaboration" } });
    drive(ctl, new Sim(rng(5), 0.95, 0.6), 30, 300);
    assert.equal(ctl.mode, "collaboration");
  });

  test("thresholds are validated with the field named", () => {
    assert.throws(() => resolveThresholds({ confidence: 0.4 }), (e: unknown) => isKmlibError(e, ErrorCode.InvalidConfig) && /controller\.confidence/.test(e.message));
    assert.throws(() => resolveThresholds({ demoteMargin: 0.2, promoteMargin: 0.1 }), /oscillate/);
    assert.throws(() => resolveThresholds({ minDecisions: 0 }), /controller\.minDecisions/);
  });
});

describe("mode controller after a restart", () => {
  test("an emergency recorded with its causes resumes with them; without causes it waits for an operator", () => {
    const a = new ModeController({ initial: "emergency", initialCauses: ["heartbeat"] });
    assert.deepEqual(a.emergencyCauses, ["heartbeat"]);
    assert.equal(a.heartbeatRestored()?.to, "learning");
    const b = new ModeController({ initial: "emergency", initialCauses: ["bogus"] });
    assert.deepEqual(b.emergencyCauses, ["operator"]);
    assert.equal(b.heartbeatRestored(), undefined);
    assert.equal(b.mode, "emergency");
  });
});
