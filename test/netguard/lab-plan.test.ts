/**
 * The lab's pure parts: the plan, address canonicalisation, ground truth, scenario schedules.
 */
import { test, describe } from "node:test";
import assert from "node:assert/strict";
import { planLab, hostsOf, namespacesOf, findHost } from "../../src/subsystems/netguard/lab/topology.ts";
import { canonicalAddr, groundTruth, Labeler, linkLocalOf } from "../../src/subsystems/netguard/lab/ground-truth.ts";
import { standardScenario, validateScenario } from "../../src/subsystems/netguard/lab/scenario.ts";
import { ATTACK_KINDS, type TrafficRun } from "../../src/subsystems/netguard/lab/traffic.ts";
import { isKmlibError } from "../../src/errors.ts";

describe("lab plan", () => {
  test("names, addresses and MACs are unique, private and deterministic", () => {
    const p = planLab({ clients: 3, attackers: 2, tag: "x1" });
    assert.deepEqual(planLab({ clients: 3, attackers: 2, tag: "x1" }), p);
    const hosts = hostsOf(p);
    assert.equal(hosts.length, 6);
    for (const key of ["ns", "mac", "ipv4", "ipv6", "bridgePort", "id"] as const) {
      assert.equal(new Set(hosts.map((h) => h[key])).size, hosts.length, key);
    }
    for (const n of namespacesOf(p)) assert.match(n, /^kmlib-lab-x1-/);
    for (const h of hosts) {
      assert.match(h.ipv4, /^10\.77\./);
      assert.match(h.ipv6, /^fd77:/);
      assert.ok(h.bridgePort.length <= 15, "interface names fit IFNAMSIZ");
    }
    assert.equal(hosts.filter((h) => h.label === "attack").length, 2);
    assert.ok(p.attackers.every((a) => a.role === "attacker" && a.label === "attack"));
    assert.ok(p.clients.every((c) => c.role === "client" && c.label === "benign"));
    assert.equal(findHost(p, "10.77.2.2").id, "a2");
    assert.equal(findHost(p, "kmlib-lab-x1-c3").id, "c3");
  });

  test("bad counts and tags are refused", () => {
    assert.throws(() => planLab({ clients: 0 }), (e) => isKmlibError(e, "KMLIB_INVALID_ARGUMENT"));
    assert.throws(() => planLab({ attackers: 21 }), (e) => isKmlibError(e, "KMLIB_INVALID_ARGUMENT"));
    assert.throws(() => planLab({ tag: "Bad-Tag" }), (e) => isKmlibError(e, "KMLIB_INVALID_ARGUMENT"));
    assert.throws(() => findHost(planLab(), "z9"), (e) => isKmlibError(e, "KMLIB_NOT_FOUND"));
  });
});

describe("ground truth", () => {
  test("canonicalAddr gives one spelling per address", () => {
    assert.equal(canonicalAddr("fd77::1:2"), "fd77:0000:0000:0000:0000:0000:0001:0002");
    assert.equal(canonicalAddr("FD77:0:0:0:0:0:1:2"), canonicalAddr("fd77::1:2"));
    assert.equal(canonicalAddr("::ffff:10.77.1.2"), "10.77.1.2");
    assert.equal(canonicalAddr("::ffff:a4d:102"), "10.77.1.2");
    assert.equal(canonicalAddr(new Uint8Array([10, 77, 2, 1])), "10.77.2.1");
    const b = new Uint8Array(16);
    b[0] = 0xfd;
    b[1] = 0x77;
    b[13] = 2;
    b[15] = 1;
    assert.equal(canonicalAddr(b), canonicalAddr("fd77::2:1"));
    assert.equal(canonicalAddr("::"), "0000:0000:0000:0000:0000:0000:0000:0000");
    for (const bad of ["fd77::1::2", "1.2.3.400", "fd77:zz::1", "1:2:3"]) assert.throws(() => canonicalAddr(bad), bad);
  });

  test("link-local addresses follow EUI-64 from the MAC", () => {
    assert.equal(linkLocalOf("02:77:00:01:00:01"), canonicalAddr("fe80::77:ff:fe01:1"));
    assert.equal(linkLocalOf("00:11:22:33:44:55"), canonicalAddr("fe80::211:22ff:fe33:4455"));
  });

  test("labels come from the source address; kinds from the run windows", () => {
    const p = planLab({ clients: 2, attackers: 2 });
    const run = (from: string, kind: TrafficRun["kind"], label: TrafficRun["label"], a: number, b: number): TrafficRun => ({
      kind, label, from, ns: "", src: { ipv4: "", ipv6: "", mac: "" }, family: 4, startMs: a, endMs: b, startMonoMs: a, endMonoMs: b, timedOut: false, failures: 0, stats: {},
    });
    const gt = groundTruth(p, [run("a1", "syn-flood", "attack", 1000, 2000), run("c1", "curl", "benign", 0, 5000), run("a1", "curl", "attack", 3000, 4000)]);
    const l = new Labeler(gt);
    assert.equal(l.label("10.77.2.1"), "attack");
    assert.equal(l.label("fd77::2:1"), "attack");
    assert.equal(l.label(linkLocalOf(p.attackers[0]!.mac)), "attack");
    assert.equal(l.label("10.77.1.2"), "benign");
    assert.equal(l.label("fd77::1:1"), "benign");
    assert.equal(l.label("10.0.0.1"), undefined);
    assert.equal(l.label("not an address"), undefined);
    assert.equal(l.kind("10.77.2.1", 1500, 0), "syn-flood");
    assert.equal(l.kind("10.77.2.1", 3500, 0), "curl");
    assert.equal(l.kind("10.77.2.1", 2700, 0), undefined);
    assert.equal(l.kind("10.77.2.1", 2300, 500), "syn-flood");
    assert.equal(l.kind("10.77.1.1", 1500, 0), "curl");
  });
});

describe("scenarios", () => {
  test("the standard schedule: benign, each attack with benign, benign", () => {
    const p = planLab({ clients: 2, attackers: 2 });
    const s = standardScenario(p, { phaseMs: 2000 });
    validateScenario(s, p);
    assert.equal(s.phases.length, ATTACK_KINDS.length + 2);
    assert.equal(s.phases[0]!.name, "benign");
    assert.equal(s.phases.at(-1)!.name, "benign-after");
    for (const ph of [s.phases[0]!, s.phases.at(-1)!]) assert.ok(ph.traffic.every((t) => t.from.startsWith("c")));
    for (const [i, k] of ATTACK_KINDS.entries()) {
      const ph = s.phases[i + 1]!;
      const attacks = ph.traffic.filter((t) => t.kind === k);
      assert.equal(attacks.length, 1, k);
      assert.match(attacks[0]!.from, /^a/);
      assert.ok(ph.traffic.some((t) => t.kind === "curl"), "benign continues during attacks");
    }
    const used = new Set(s.phases.flatMap((ph) => ph.traffic.filter((t) => t.from.startsWith("a")).map((t) => t.from)));
    assert.equal(used.size, 2, "attackers take turns");
  });

  test("validation refuses unknown hosts and bad durations", () => {
    const p = planLab({ clients: 1, attackers: 1 });
    assert.throws(() => validateScenario({ name: "x", phases: [] }, p), (e) => isKmlibError(e, "KMLIB_INVALID_CONFIG"));
    assert.throws(() => validateScenario({ name: "x", phases: [{ name: "p", durationMs: 0, traffic: [] }] }, p), (e) => isKmlibError(e, "KMLIB_INVALID_CONFIG"));
    assert.throws(() => validateScenario({ name: "x", phases: [{ name: "p", durationMs: 10, traffic: [{ kind: "ping", from: "c2" }] }] }, p), (e) => isKmlibError(e, "KMLIB_INVALID_CONFIG"));
  });
});
