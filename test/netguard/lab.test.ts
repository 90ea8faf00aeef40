/**
 * The lab on the real kernel: up, reachable, every generator bounded and producing packets on
 * the server's veth, a scenario with ground truth, down leaving nothing behind — and teardown
 * after a crash (SIGKILL) and on SIGTERM.
 */
import { test, describe, after } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync, existsSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { spawn } from "node:child_process";
import { requires } from "../helpers/kernel.ts";
import { Lab, labDown, labStatus } from "../../src/subsystems/netguard/lab/lab.ts";
import { runTraffic, type TrafficSpec } from "../../src/subsystems/netguard/lab/traffic.ts";
import { runScenario, standardScenario } from "../../src/subsystems/netguard/lab/scenario.ts";
import { Labeler } from "../../src/subsystems/netguard/lab/ground-truth.ts";
import { readState, statePath } from "../../src/subsystems/netguard/lab/state.ts";
import { isAlive, procRef } from "../../src/subsystems/netguard/lab/procs.ts";
import { listNetns, pidsInNetns, NetNs } from "../../src/net/netns.ts";

// every state file of this test in its own dir (read at each call; children inherit it)
const STATE_DIR = mkdtempSync(join(tmpdir(), "kmlib-lab-test-"));
process.env.KMLIB_STATE_DIR = STATE_DIR;

const TAG = `t${process.pid}`;
const LAB_TS = new URL("../../src/subsystems/netguard/lab/lab.ts", import.meta.url).href;
const TRAFFIC_TS = new URL("../../src/subsystems/netguard/lab/traffic.ts", import.meta.url).href;

after(() => {
  for (const t of [TAG, `${TAG}k`, `${TAG}s`]) labDown(t);
  rmSync(STATE_DIR, { recursive: true, force: true });
});

/** A child process that brings a lab up, starts a long flood, prints "ready", and waits. */
function spawnLabChild(tag: string): Promise<{ pid: number; kill: (s: NodeJS.Signals) => Promise<number | null> }> {
  const code = `
    const { Lab } = await import(${JSON.stringify(LAB_TS)});
    const { runTraffic } = await import(${JSON.stringify(TRAFFIC_TS)});
    const lab = Lab.up({ tag: ${JSON.stringify(tag)}, clients: 1, attackers: 1 });
    runTraffic(lab, { kind: "syn-flood", from: "a1", count: 10000000, intervalUs: 1000, maxMs: 60000 });
    setTimeout(() => process.stdout.write("ready\\n"), 300);
    setInterval(() => {}, 1000);
  `;
  const child = spawn(process.execPath, ["--import", "tsx", "--input-type=module", "-e", code], { stdio: ["ignore", "pipe", "inherit"], env: process.env });
  const exited = new Promise<number | null>((r) => child.once("exit", (c) => r(c)));
  return new Promise((resolve, reject) => {
    const t = setTimeout(() => reject(new Error("lab child not ready in 15 s")), 15_000);
    child.stdout!.on("data", (b: Buffer) => {
      if (b.toString().includes("ready")) {
        clearTimeout(t);
        resolve({ pid: child.pid!, kill: (s) => (child.kill(s), exited) });
      }
    });
    child.once("exit", (c) => reject(new Error(`lab child exited early (${c})`)));
  });
}

function assertGone(tag: string, inodes: number[]): void {
  assert.deepEqual(listNetns(`kmlib-lab-${tag}-`), [], "no lab namespace left");
  assert.deepEqual(pidsInNetns(inodes), [], "no process left in the lab's namespaces");
  assert.equal(existsSync(statePath(tag)), false, "state file removed");
}

describe("netguard lab", () => {
  let lab: Lab | undefined;

  test("up: namespaces, services, XDP attach point; nginx reachable over IPv4 and IPv6", (t) => {
    if (!requires(t, "netns")) return;
    lab = Lab.up({ tag: TAG, clients: 2, attackers: 2 });
    const s = labStatus(TAG);
    assert.equal(s.up, true);
    assert.equal(s.namespaces.length, 6);
    assert.ok(s.services.some((p) => p.what === "nginx" && p.alive));
    assert.equal(s.services.filter((p) => p.what.startsWith("iperf3")).length, 4);
    const srv = NetNs.open(lab.attach.ns);
    assert.equal(lab.attach.dev, "eth0");
    assert.equal(lab.attach.ifindex, srv.ifindex("eth0"));
    for (const [from, url] of [["c1", "http://10.77.0.1/"], ["c2", "http://[fd77::1]/index.html"], ["a1", "http://10.77.0.1/index.html"]] as const) {
      const body = lab.ns(from).exec("curl", ["-sS", "--max-time", "3", url]);
      assert.match(body, /kmlib lab server/, `${from} ${url}`);
    }
    // nginx listens only on the lab addresses: not on loopback inside the server namespace
    assert.throws(() => srv.exec("curl", ["-sS", "--max-time", "2", "http://127.0.0.1/"]));
    // the kernel derived the link-local address the ground truth expects
    assert.match(lab.ns("c1").ip(["-6", "addr", "show", "dev", "eth0"]), /fe80::77:ff:fe01:1\//);
  });

  test("every generator runs bounded, is labelled by namespace, and shows on the server veth", async (t) => {
    if (!requires(t, "netns")) return;
    assert.ok(lab, "lab is up");
    const cases: Array<{ spec: TrafficSpec; minRx: (s: Record<string, number>) => number; stat: string }> = [
      { spec: { kind: "curl", from: "c1", count: 8, intervalMs: 10 }, minRx: (s) => 4 * s.ok!, stat: "ok" },
      { spec: { kind: "curl", from: "c2", count: 4, family: 6, parallel: 2 }, minRx: (s) => 4 * s.ok!, stat: "ok" },
      { spec: { kind: "wrk", from: "c1", seconds: 1, connections: 2 }, minRx: (s) => s.requests!, stat: "requests" },
      { spec: { kind: "iperf3", from: "c2", bytes: 512 * 1024, rateMbit: 50 }, minRx: () => (512 * 1024) / 1500, stat: "bytes" },
      { spec: { kind: "iperf3", from: "c1", bytes: 256 * 1024, udp: true, family: 6 }, minRx: () => (256 * 1024) / 1200, stat: "bytes" },
      { spec: { kind: "ping", from: "c1", count: 3 }, minRx: (s) => s.sent!, stat: "received" },
      { spec: { kind: "syn-flood", from: "a1", count: 400 }, minRx: () => 400, stat: "sent" },
      { spec: { kind: "udp-flood", from: "a2", count: 400 }, minRx: () => 400, stat: "sent" },
      { spec: { kind: "icmp-flood", from: "a1", count: 300 }, minRx: () => 300, stat: "sent" },
      { spec: { kind: "syn-scan", from: "a1", ports: "1-300" }, minRx: () => 300, stat: "ports" },
      { spec: { kind: "connect-scan", from: "a2", ports: "1-300", family: 6 }, minRx: () => 300, stat: "ports" },
      { spec: { kind: "slowloris", from: "a2", connections: 20, rate: 20, seconds: 1 }, minRx: () => 3 * 20, stat: "maxConnected" },
    ];
    for (const { spec, minRx, stat } of cases) {
      const rx0 = lab.counters().rxPackets;
      const t0 = Date.now();
      const run = await runTraffic(lab, spec);
      const rx: number = lab.counters().rxPackets - rx0;
      const what: string = `${spec.kind}/${spec.family ?? 4} ${JSON.stringify(run.stats)} rx=${rx}`;
      assert.equal(run.failures, 0, what);
      assert.equal(run.timedOut, false, what);
      assert.ok(Date.now() - t0 < 8000, what);
      assert.ok((run.stats[stat] ?? 0) > 0, what);
      assert.ok(rx >= minRx(run.stats), what);
      assert.equal(run.label, spec.from.startsWith("a") ? "attack" : "benign");
      assert.equal(run.src.ipv4, lab.host(spec.from).ipv4);
      assert.ok(run.endMonoMs > run.startMonoMs);
    }
    assert.equal(lab.running, 0, "no generator left running");
  });

  test("the deadline bounds a generator whatever its count; attacks only from attackers", async (t) => {
    if (!requires(t, "netns")) return;
    assert.ok(lab);
    const t0 = Date.now();
    const run = await runTraffic(lab, { kind: "syn-flood", from: "a1", count: 10_000_000, intervalUs: 1000, maxMs: 400 });
    const ms = Date.now() - t0;
    assert.equal(run.timedOut, true);
    assert.ok(ms < 1500, `stopped after ${ms} ms`);
    assert.equal(lab.running, 0);
    await assert.rejects(runTraffic(lab, { kind: "udp-flood", from: "c1" }), /attacker/);
    await assert.rejects(runTraffic(lab, { kind: "syn-flood", from: "a1", family: 6 }), /IPv4/);
  });

  test("scenario: phases in order with progress, ground truth labels every run", async (t) => {
    if (!requires(t, "netns")) return;
    assert.ok(lab);
    const scenario = standardScenario(lab.plan, { phaseMs: 1200, attacks: ["syn-flood", "connect-scan"] });
    const events: string[] = [];
    const r = await runScenario(lab, scenario, { onProgress: (e) => events.push(`${e.type}:${e.phase}`) });
    assert.deepEqual(
      events.filter((e) => !e.startsWith("run-end")),
      scenario.phases.flatMap((p) => [`phase-start:${p.name}`, `phase-end:${p.name}`]),
    );
    assert.equal(r.phases.length, 4);
    for (const ph of r.phases) {
      assert.ok(ph.endMs - ph.startMs >= 1200 && ph.endMs - ph.startMs < 4000, `${ph.name} lasted ${ph.endMs - ph.startMs} ms`);
      assert.ok(ph.serverRxPackets > 0, ph.name);
    }
    const labeler = new Labeler(r.groundTruth);
    for (const run of r.runs) {
      assert.equal(labeler.label(run.src.ipv4), run.label);
      assert.equal(labeler.label(run.src.ipv6), run.label);
    }
    const flood = r.runs.find((x) => x.kind === "syn-flood")!;
    assert.ok(flood, "the flood ran");
    assert.equal(labeler.kind(flood.src.ipv4, (flood.startMonoMs + flood.endMonoMs) / 2, 0), "syn-flood");
    const inFlood = r.phases[1]!;
    const benignRuns = r.runs.filter((x) => x.label === "benign" && x.startMonoMs >= inFlood.startMonoMs && x.endMonoMs <= inFlood.endMonoMs + 100);
    assert.ok(benignRuns.length > 0, "benign traffic continued during the attack");
    assert.equal(lab.running, 0);
  });

  test("down leaves no namespace, no process, no state", (t) => {
    if (!requires(t, "netns")) return;
    assert.ok(lab);
    const state = readState(TAG)!;
    const inodes = Object.values(state.inodes);
    assert.ok(pidsInNetns(inodes).length >= 5, "services run inside the lab");
    lab.down();
    assertGone(TAG, inodes);
    assert.ok(state.procs.every((p) => !isAlive(p)));
    assert.equal(existsSync(state.workDir), false);
  });

  test("after a SIGKILL of the process that brought the lab up, down cleans everything", async (t) => {
    if (!requires(t, "netns")) return;
    const tag = `${TAG}k`;
    const child = await spawnLabChild(tag);
    await child.kill("SIGKILL");
    const state = readState(tag)!;
    const inodes = Object.values(state.inodes);
    const stale = pidsInNetns(inodes).map((p) => procRef(p, "stale"));
    assert.ok(stale.length >= 3, "services and the flood outlive the killed owner");
    assert.ok(stale.some((p) => readFileSync(`/proc/${p.pid}/comm`, "utf8").trim() === "hping3"), "the flood still runs");
    // the next `up` cleans the leftovers first (the kernel may reuse the inodes for the new
    // namespaces: check the old processes, not the inodes), then `down` removes the new lab
    const again = Lab.up({ tag, clients: 1, attackers: 1 });
    assert.deepEqual(stale.filter((p) => isAlive(p)), [], "stale processes killed by the next up");
    const inodes2 = Object.values(readState(tag)!.inodes);
    again.down();
    assertGone(tag, [...inodes, ...inodes2]);

    // and `lab down` alone (no new up) does it too
    const child2 = await spawnLabChild(tag);
    await child2.kill("SIGKILL");
    const inodes3 = Object.values(readState(tag)!.inodes);
    const r = labDown(tag);
    assert.equal(r.namespaces.length, 4);
    assertGone(tag, inodes3);
  });

  test("SIGTERM: the owner tears its lab down on its way out", async (t) => {
    if (!requires(t, "netns")) return;
    const tag = `${TAG}s`;
    const child = await spawnLabChild(tag);
    const inodes = Object.values(readState(tag)!.inodes);
    const code = await child.kill("SIGTERM");
    assert.equal(code, null, "re-raised: the child dies of SIGTERM");
    assertGone(tag, inodes);
  });
});
