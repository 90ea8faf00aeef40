/**
 * @module subsystems/netguard/e2e/heartbeat
 * The heartbeat fallback on the real kernel: an agent process (agent-child.ts) runs the data
 * path in recommendation with a model; during a flood it is killed with SIGKILL. Nothing in
 * user space reacts: the data path sees the stale heartbeat and falls back to the default
 * rules on its own, which keep the server reachable. Read from the pinned maps: when the
 * fallback began, who decided before and after, and whether curl still succeeds.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { PIN_ROOT, mapFromPin, type BpfMap } from "../../../bpf/index.ts";
import { ErrorCode, KmlibError } from "../../../errors.ts";
import { decodeControl, Mode } from "../control.ts";
import { DecisionSource } from "../layout.ts";
import { runTraffic, monoMs, type Lab } from "../lab/index.ts";
import { MapName } from "../program.ts";
import { decodeStats, type NetguardStats } from "../record.ts";
import { NetguardAdapter } from "./adapter.ts";
import type { ChildArgs } from "./agent-child.ts";

export interface HeartbeatResult {
  readonly timeoutMs: number;
  /** From SIGKILL to the first packet the kernel judged with a stale heartbeat. */
  readonly fallbackAfterMs: number;
  /** Packets after the fallback began: all in emergency, decided by the default rules. */
  readonly after: { packets: number; emergency: number; heartbeatLost: number; modelDecisions: number; defaultDrops: number; defaultPasses: number };
  /** Before the kill: the model was deciding in recommendation. */
  readonly before: { recommendation: number; modelDecisions: number };
  readonly requestedModeAfter: string;
  readonly attack: { kind: string; from: string; sent: number };
  /** curl during the whole flood, and a burst started once the fallback was seen. */
  readonly curl: { requests: number; ok: number };
  readonly curlAfterFallback: { requests: number; ok: number };
  /** The XDP program is gone once the pins are removed. */
  readonly detached: boolean;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const ROOT = fileURLToPath(new URL("../../../../", import.meta.url));

function waitReady(child: ChildProcess, ms: number): Promise<void> {
  return new Promise((resolve, reject) => {
    let out = "", err = "";
    const timer = setTimeout(() => reject(new KmlibError(ErrorCode.Syscall, `agent child not ready within ${ms} ms: ${err.trim()}`)), ms);
    child.stdout!.on("data", (b: Buffer) => {
      out += b.toString();
      if (out.includes("ready")) {
        clearTimeout(timer);
        resolve();
      }
    });
    child.stderr!.on("data", (b: Buffer) => (err += b.toString()));
    child.once("exit", (code) => {
      clearTimeout(timer);
      reject(new KmlibError(ErrorCode.Syscall, `agent child exited (${code}) before ready: ${err.trim()}`));
    });
  });
}

const PIN_PREFIX = "netguard-hb-";

/** Pins left by a run whose process is gone (it died before its clean-up). */
function removeStalePins(): void {
  let names: string[] = [];
  try {
    names = readdirSync(PIN_ROOT);
  } catch {
    return;
  }
  for (const n of names) {
    const pid = Number(n.slice(PIN_PREFIX.length));
    if (!n.startsWith(PIN_PREFIX) || !Number.isInteger(pid)) continue;
    try {
      process.kill(pid, 0);
    } catch {
      NetguardAdapter.unpin(n);
    }
  }
}

function xdpAttached(lab: Lab): boolean {
  const j = JSON.parse(lab.ns("srv").ip(["-j", "link", "show", "dev", lab.attach.dev])) as Array<Record<string, unknown>>;
  return j[0]?.xdp !== undefined;
}

export async function heartbeatFallback(lab: Lab, artefact: Uint8Array, o: { timeoutMs?: number; heartbeatMs?: number; attackMs?: number; killAfterMs?: number } = {}): Promise<HeartbeatResult> {
  const timeoutMs = o.timeoutMs ?? 1000;
  const attackMs = o.attackMs ?? 6000;
  const killAfterMs = o.killAfterMs ?? 1500;
  const pin = `${PIN_PREFIX}${process.pid}`;
  const dir = mkdtempSync(join(tmpdir(), "kmlib-netguard-hb-"));
  const artefactPath = join(dir, "model.json");
  writeFileSync(artefactPath, artefact);
  const args: ChildArgs = { ifname: lab.attach.dev, netns: lab.attach.ns, pin, artefactPath, heartbeatMs: o.heartbeatMs ?? 100, heartbeatTimeoutMs: timeoutMs };
  removeStalePins();
  const child = spawn(process.execPath, ["--import", "tsx", fileURLToPath(new URL("./agent-child.ts", import.meta.url)), JSON.stringify(args)], { cwd: ROOT, stdio: ["pipe", "pipe", "pipe"] });
  let stats: BpfMap | undefined, control: BpfMap | undefined;
  try {
    await waitReady(child, 30_000);
    stats = mapFromPin(`${pin}/${MapName.STATS}`);
    control = mapFromPin(`${pin}/${MapName.CONTROL}`);
    const key = new Uint8Array(4);
    const read = (): NetguardStats => decodeStats(stats!.lookupPerCpu(key) ?? []);
    const attacker = lab.plan.attackers[lab.plan.attackers.length - 1]!.id;
    const client = lab.plan.clients[0]!.id;
    const flood = runTraffic(lab, { kind: "udp-flood", from: attacker, count: 1_000_000, intervalUs: 100, maxMs: attackMs });
    const curl = runTraffic(lab, { kind: "curl", from: client, count: 10_000, intervalMs: 100, maxMs: attackMs });
    await sleep(killAfterMs);
    const s0 = read();
    child.kill("SIGKILL");
    const tKill = monoMs();
    let s1 = s0;
    while (monoMs() - tKill < timeoutMs * 5) {
      s1 = read();
      if (s1.heartbeatLost > s0.heartbeatLost) break;
      await sleep(5);
    }
    const fallbackAfterMs = monoMs() - tKill;
    const curlAfter = await runTraffic(lab, { kind: "curl", from: client, count: 10, intervalMs: 50, maxMs: 5000 });
    const [f, c] = await Promise.all([flood, curl]);
    const s2 = read();
    const d = (a: bigint, b: bigint) => Number(a - b);
    const requestedModeAfter = ["emergency", "learning", "collaboration", "recommendation"][decodeControl(control.lookup(key)!).mode] ?? "?";
    stats.close();
    control.close();
    stats = control = undefined;
    NetguardAdapter.unpin(pin);
    let detached = false;
    for (let i = 0; i < 50 && !(detached = !xdpAttached(lab)); i++) await sleep(20);
    return {
      timeoutMs,
      fallbackAfterMs,
      before: { recommendation: Number(s0.modes[Mode.RECOMMENDATION]), modelDecisions: Number(s0.decisions[DecisionSource.MODEL]![0] + s0.decisions[DecisionSource.MODEL]![1]) },
      after: {
        packets: d(s2.packets, s1.packets),
        emergency: d(s2.modes[Mode.EMERGENCY]!, s1.modes[Mode.EMERGENCY]!),
        heartbeatLost: d(s2.heartbeatLost, s1.heartbeatLost),
        modelDecisions: d(s2.decisions[DecisionSource.MODEL]![0] + s2.decisions[DecisionSource.MODEL]![1], s1.decisions[DecisionSource.MODEL]![0] + s1.decisions[DecisionSource.MODEL]![1]),
        defaultDrops: d(s2.decisions[DecisionSource.DEFAULT]![1], s1.decisions[DecisionSource.DEFAULT]![1]),
        defaultPasses: d(s2.decisions[DecisionSource.DEFAULT]![0], s1.decisions[DecisionSource.DEFAULT]![0]),
      },
      requestedModeAfter,
      attack: { kind: "udp-flood", from: attacker, sent: f.stats.sent ?? 0 },
      curl: { requests: c.stats.requests ?? 0, ok: c.stats.ok ?? 0 },
      curlAfterFallback: { requests: curlAfter.stats.requests ?? 0, ok: curlAfter.stats.ok ?? 0 },
      detached,
    };
  } finally {
    stats?.close();
    control?.close();
    if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
    NetguardAdapter.unpin(pin);
    rmSync(dir, { recursive: true, force: true });
  }
}
