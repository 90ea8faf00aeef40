/**
 * @module subsystems/netguard/e2e/scenarios
 * The traffic schedules of the end-to-end job, all built from the lab's own generators:
 * - training: benign background, then the TRAINING_KINDS from the first attacker;
 * - promotion: benign background with training-kind attacks in turn, repeated, while the mode
 *   controller gathers evidence (the job stops it once the model is promoted);
 * - held-out: later runs of every attack kind from the second attacker, two of them kinds the
 *   model never saw in training;
 * - transfer: a short mix for the CIC-IDS2017 model's shadow run.
 */
import { ATTACK_KINDS, attackTraffic, benignTraffic, standardScenario, type AttackKind, type LabPlan, type Phase, type Scenario } from "../lab/index.ts";

/** Attack kinds the lab model is trained on; the others appear only in the held-out run. */
export const TRAINING_KINDS: readonly AttackKind[] = ["syn-flood", "udp-flood", "syn-scan", "slowloris"];
export const UNSEEN_KINDS: readonly AttackKind[] = ATTACK_KINDS.filter((k) => !TRAINING_KINDS.includes(k));

function attacker(plan: LabPlan, i: number): string {
  const a = plan.attackers[Math.min(i, plan.attackers.length - 1)];
  if (!a) throw new Error("the lab has no attacker");
  return a.id;
}

export function trainingScenario(plan: LabPlan, phaseMs: number): Scenario {
  return standardScenario(plan, { phaseMs, attacks: TRAINING_KINDS, attackers: [attacker(plan, 0)], name: "training" });
}

export function promotionScenario(plan: LabPlan, phaseMs: number, rounds = 3): Scenario {
  const phases: Phase[] = [];
  const from = attacker(plan, 0);
  for (let r = 0; r < rounds; r++) {
    for (const kind of ["syn-flood", "slowloris", "udp-flood", "syn-scan"] as const) {
      phases.push({ name: `${kind}+benign`, durationMs: phaseMs, traffic: [...benignTraffic(plan, phaseMs), attackTraffic(kind, from, phaseMs)] });
    }
  }
  return { name: "promotion", phases };
}

export function heldOutScenario(plan: LabPlan, phaseMs: number): Scenario {
  return standardScenario(plan, { phaseMs, attacks: ATTACK_KINDS, attackers: [attacker(plan, 1)], name: "held-out" });
}

export function transferScenario(plan: LabPlan, phaseMs: number): Scenario {
  const from = attacker(plan, 1);
  const kinds: AttackKind[] = ["syn-flood", "udp-flood", "connect-scan", "slowloris"];
  return {
    name: "cicids-on-lab",
    phases: [
      { name: "benign", durationMs: phaseMs, traffic: benignTraffic(plan, phaseMs) },
      ...kinds.map((k) => ({ name: `${k}+benign`, durationMs: phaseMs, traffic: [...benignTraffic(plan, phaseMs), attackTraffic(k, from, phaseMs)] })),
    ],
  };
}
