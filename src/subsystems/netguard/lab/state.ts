/**
 * @module subsystems/netguard/lab/state
 * The lab's state file: what `lab up` built (plan, namespace inodes, service pids, temp dir),
 * so `lab down` in another process — or the next `lab up` after a crash — can tear it all
 * down. Lives in /run/kmlib (tmpfs: gone after a reboot, like the namespaces) or, when that
 * is not writable, in the OS temp dir.
 */
import { mkdirSync, readFileSync, readdirSync, renameSync, rmSync, writeFileSync, accessSync, constants } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ErrorCode, KmlibError } from "../../../errors.ts";
import type { LabPlan } from "./topology.ts";
import type { ProcRef } from "./procs.ts";

export const LAB_STATE_VERSION = 1;

export interface LabState {
  version: typeof LAB_STATE_VERSION;
  plan: LabPlan;
  createdAt: string;
  /** The process that ran `up`; a persistent lab outlives it. */
  ownerPid: number;
  persistent: boolean;
  /** nsfs inode per namespace: finds processes even after a namespace lost its name. */
  inodes: Record<string, number>;
  /** Services (nginx, iperf3 servers). Generators are found through the inodes. */
  procs: ProcRef[];
  /** Generated configs, logs, pid files, web root. */
  workDir: string;
  /** The XDP attach point: the server's veth end, which sees all client and attacker traffic. */
  attach: { ns: string; dev: string; ifindex: number };
}

let dirOverride: string | undefined;

/** Where state files live; tests may redirect it. */
export function stateDir(): string {
  if (dirOverride) return dirOverride;
  if (process.env.KMLIB_STATE_DIR) return process.env.KMLIB_STATE_DIR;
  try {
    mkdirSync("/run/kmlib", { recursive: true });
    accessSync("/run/kmlib", constants.W_OK);
    return "/run/kmlib";
  } catch {
    const d = join(tmpdir(), "kmlib");
    mkdirSync(d, { recursive: true });
    return d;
  }
}

export function setStateDir(dir: string | undefined): void {
  dirOverride = dir;
}

export function statePath(tag: string | undefined): string {
  return join(stateDir(), tag === undefined ? "lab.json" : `lab-${tag}.json`);
}

export function writeState(s: LabState): void {
  const p = statePath(s.plan.tag);
  mkdirSync(stateDir(), { recursive: true });
  // write then rename: a crash never leaves a half-written state file
  writeFileSync(`${p}.tmp`, JSON.stringify(s, null, 2));
  renameSync(`${p}.tmp`, p);
}

export function readState(tag: string | undefined): LabState | undefined {
  const p = statePath(tag);
  let text: string;
  try {
    text = readFileSync(p, "utf8");
  } catch {
    return undefined;
  }
  let s: LabState;
  try {
    s = JSON.parse(text) as LabState;
  } catch (e) {
    throw new KmlibError(ErrorCode.InvalidConfig, `corrupt lab state file ${p} (delete it, then run \`kmlib lab down\`)`, { cause: e });
  }
  if (s.version !== LAB_STATE_VERSION) throw new KmlibError(ErrorCode.InvalidConfig, `lab state file ${p} has version ${s.version}, expected ${LAB_STATE_VERSION}`);
  return s;
}

export function removeState(tag: string | undefined): void {
  rmSync(statePath(tag), { force: true });
}

/** Tags of every recorded lab (`undefined` is the untagged one). */
export function recordedTags(): Array<string | undefined> {
  const tags: Array<string | undefined> = [];
  for (const f of readdirSync(stateDir())) {
    const m = /^lab(?:-([a-z0-9]+))?\.json$/.exec(f);
    if (m) tags.push(m[1]);
  }
  return tags;
}
