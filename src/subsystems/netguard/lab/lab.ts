/**
 * @module subsystems/netguard/lab/lab
 * Bring the netguard lab up and down: namespaces, bridge, veths, addresses, services, and a
 * state file so the lab is torn down even after a crash. `Lab.up` first removes whatever a
 * previous run left (namespaces with the lab's prefix, processes inside them, recorded pids);
 * a non-persistent lab also tears itself down on process exit, SIGINT and SIGTERM.
 * Needs root, iproute2, ethtool, nginx and iperf3.
 */
import { mkdtempSync, readFileSync, rmSync, statSync } from "node:fs";
import { join } from "node:path";
import { tmpdir } from "node:os";
import type { ChildProcess } from "node:child_process";
import { ErrorCode, KmlibError } from "../../../errors.ts";
import { NetNs, listNetns, netnsExists, netnsInode, pidsInNetns } from "../../../net/netns.ts";
import { hostsOf, labPrefix, namespacesOf, planLab, findHost, type HostPlan, type LabOptions, type LabPlan } from "./topology.ts";
import { isAlive, killSync, type ProcRef } from "./procs.ts";
import { readState, recordedTags, removeState, writeState, type LabState } from "./state.ts";
import { startServices } from "./services.ts";
import { installExitHandlers, uninstallExitHandlers } from "./exit-handlers.ts";

export interface LabUpOptions extends LabOptions {
  /** Keep running after this process exits (`kmlib lab up`); otherwise torn down on exit. */
  persistent?: boolean;
}

export interface IfaceCounters {
  rxPackets: number;
  txPackets: number;
  rxBytes: number;
  txBytes: number;
  rxDropped: number;
}

export interface TeardownReport {
  namespaces: string[];
  killed: number[];
  workDir: string | undefined;
}

function counters(ns: NetNs, dev: string): IfaceCounters {
  const out = JSON.parse(ns.ip(["-j", "-s", "link", "show", "dev", dev])) as Array<{ stats64: { rx: { packets: number; bytes: number; dropped: number }; tx: { packets: number; bytes: number } } }>;
  const s = out[0]!.stats64;
  return { rxPackets: s.rx.packets, txPackets: s.tx.packets, rxBytes: s.rx.bytes, txBytes: s.tx.bytes, rxDropped: s.rx.dropped };
}

/** A running lab. `down()` (or dispose) tears it down; safe to call twice. */
export class Lab {
  #down = false;
  readonly #children = new Set<ChildProcess>();
  readonly #ns = new Map<string, NetNs>();

  private constructor(readonly state: LabState) {
    for (const h of hostsOf(state.plan)) this.#ns.set(h.id, NetNs.open(h.ns));
  }

  get plan(): LabPlan {
    return this.state.plan;
  }

  /** Where the XDP program attaches: the server's veth end, facing every other host. */
  get attach(): LabState["attach"] {
    return this.state.attach;
  }

  get closed(): boolean {
    return this.#down;
  }

  static up(opts: LabUpOptions = {}): Lab {
    const plan = planLab(opts);
    labDown(plan.tag);
    const persistent = opts.persistent ?? false;
    // in the OS temp dir (world-traversable) since nginx workers run as nobody
    const workDir = mkdtempSync(join(tmpdir(), `kmlib-lab-work${plan.tag ? `-${plan.tag}` : ""}-`));
    const state: LabState = {
      version: 1,
      plan,
      createdAt: new Date().toISOString(),
      ownerPid: process.pid,
      persistent,
      inodes: {},
      procs: [],
      workDir,
      attach: { ns: plan.server.ns, dev: plan.server.dev, ifindex: 0 },
    };
    // recorded before anything exists, so a crash at any point below is recoverable
    writeState(state);
    if (!persistent) installExitHandlers(plan.tag, () => teardown(state));
    try {
      build(plan, state);
      const server = NetNs.open(plan.server.ns);
      state.attach.ifindex = server.ifindex(plan.server.dev);
      writeState(state);
      startServices(plan, server, workDir, (p) => {
        state.procs.push(p);
        writeState(state);
      });
    } catch (e) {
      labDown(plan.tag);
      if (!persistent) uninstallExitHandlers(plan.tag);
      throw e;
    }
    return new Lab(state);
  }

  /** The running lab recorded for a tag (e.g. by `kmlib lab up`), opened in this process. */
  static open(tag?: string): Lab {
    const state = readState(tag);
    if (!state || !labStatus(tag).up) throw new KmlibError(ErrorCode.NotFound, `no running lab${tag ? ` tagged ${tag}` : ""} (run \`kmlib lab up\`)`);
    return new Lab(state);
  }

  /** The namespace of a host, by id (`srv`, `c1`, `a2`), namespace name or address. */
  ns(host: string): NetNs {
    return this.#ns.get(findHost(this.plan, host).id)!;
  }

  host(key: string): HostPlan {
    return findHost(this.plan, key);
  }

  /** Counters of a host's lab interface (default: the server's, i.e. the XDP attach point). */
  counters(host = "srv"): IfaceCounters {
    const h = findHost(this.plan, host);
    return counters(this.ns(h.id), h.dev);
  }

  /** Track a generator process so `down()` kills it if it still runs. */
  track(child: ChildProcess): void {
    this.#children.add(child);
    child.once("exit", () => this.#children.delete(child));
  }

  get running(): number {
    return this.#children.size;
  }

  down(): TeardownReport {
    if (this.#down) return { namespaces: [], killed: [], workDir: undefined };
    this.#down = true;
    for (const c of this.#children) c.kill("SIGKILL");
    if (!this.state.persistent) uninstallExitHandlers(this.plan.tag);
    return teardown(this.state);
  }

  close(): void {
    this.down();
  }

  [Symbol.dispose](): void {
    this.down();
  }
}

function build(plan: LabPlan, state: LabState): void {
  const br = NetNs.create(plan.bridgeNs);
  state.inodes[br.name] = br.inode;
  writeState(state);
  // the bridge is a plain L2 switch: no addresses, no IPv6 chatter of its own
  br.exec("sh", ["-c", "echo 1 > /proc/sys/net/ipv6/conf/all/disable_ipv6 && echo 1 > /proc/sys/net/ipv6/conf/default/disable_ipv6"]);
  br.ip(["link", "add", plan.bridgeDev, "type", "bridge", "stp_state", "0", "forward_delay", "0", "mcast_snooping", "0"]);
  br.ip(["link", "set", plan.bridgeDev, "up"]);
  for (const h of hostsOf(plan)) {
    const ns = NetNs.create(h.ns);
    state.inodes[ns.name] = ns.inode;
    writeState(state);
    br.ip(["link", "add", h.bridgePort, "type", "veth", "peer", "name", h.dev, "netns", h.ns]);
    br.ip(["link", "set", h.bridgePort, "master", plan.bridgeDev, "up"]);
    ns.ip(["link", "set", h.dev, "address", h.mac]);
    ns.ip(["addr", "add", `${h.ipv4}/${plan.ipv4Prefix}`, "dev", h.dev]);
    // nodad: usable at once (nginx binds it right away), and no address is ever duplicated
    ns.ip(["addr", "add", `${h.ipv6}/${plan.ipv6Prefix}`, "dev", h.dev, "nodad"]);
    if (!plan.offloads) {
      for (const dev of [[ns, h.dev], [br, h.bridgePort]] as const) {
        dev[0].exec("ethtool", ["-K", dev[1], "tso", "off", "gso", "off", "gro", "off"]);
      }
    }
    ns.ip(["link", "set", h.dev, "up"]);
  }
}

/** Synchronous teardown of one recorded lab (also used from exit handlers). */
function teardown(state: LabState): TeardownReport {
  const killed = new Set<number>();
  for (const r of killSync(state.procs)) killed.add(typeof r === "number" ? r : r.pid);
  const report = removeNamespaces(state.plan.prefix, Object.values(state.inodes));
  for (const p of report.killed) killed.add(p);
  rmSync(state.workDir, { recursive: true, force: true });
  removeState(state.plan.tag);
  return { namespaces: report.namespaces, killed: [...killed], workDir: state.workDir };
}

/** Programs the lab runs: the only ones killed in a namespace known by its inode alone. */
const LAB_PROGRAMS = new Set(["nginx", "iperf3", "curl", "wrk", "ping", "hping3", "nmap", "slowhttptest"]);

function comm(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/comm`, "utf8").trim();
  } catch {
    return "";
  }
}

/**
 * Kill every process inside the lab's namespaces, then delete the namespaces. Named
 * namespaces with the prefix are the lab's: everything in them dies. A recorded inode whose
 * name is gone may be a lab namespace someone deleted while processes held it, or — since
 * the kernel reuses nsfs inodes quickly — someone else's; there only the lab's own programs
 * are killed, and never in the namespace we run in or one named outside the lab.
 */
function removeNamespaces(prefix: string, recordedInodes: number[]): { namespaces: string[]; killed: number[] } {
  const names = listNetns(prefix);
  const named = new Set(names.map((n) => netnsInode(n)).filter((i): i is number => i !== undefined));
  const own = statSync("/proc/self/ns/net").ino;
  const foreign = new Set(listNetns().filter((n) => !n.startsWith(prefix)).map((n) => netnsInode(n)));
  const orphans = recordedInodes.filter((i) => i !== own && !foreign.has(i) && !named.has(i));
  const pids = [...pidsInNetns(named), ...pidsInNetns(orphans).filter((p) => LAB_PROGRAMS.has(comm(p)))].filter((p) => p !== process.pid);
  killSync(pids, 300);
  const gone: string[] = [];
  for (const n of names) {
    try {
      NetNs.open(n).close();
      if (!netnsExists(n)) gone.push(n);
    } catch {
      // raced with another teardown
    }
  }
  return { namespaces: gone, killed: pids };
}

/**
 * Tear down the lab with this tag (without a tag: every `kmlib-lab-*` lab), whether it was
 * started by this process, another one, or a process that crashed.
 */
export function labDown(tag?: string): TeardownReport {
  const tags = tag === undefined ? recordedTags() : [tag];
  const report: TeardownReport = { namespaces: [], killed: [], workDir: undefined };
  for (const t of tags) {
    let state: LabState | undefined;
    try {
      state = readState(t);
    } catch {
      // unreadable state: the namespace sweep below still finds the lab's processes
      removeState(t);
    }
    if (!state) continue;
    const r = teardown(state);
    report.namespaces.push(...r.namespaces);
    report.killed.push(...r.killed);
    if (t === tag) report.workDir = r.workDir;
  }
  // whatever no state file accounts for (a crash before the first write, a lost /run)
  const r = removeNamespaces(labPrefix(tag), []);
  report.namespaces.push(...r.namespaces);
  report.killed.push(...r.killed);
  return report;
}

export interface LabStatus {
  up: boolean;
  tag: string | undefined;
  stateFile: boolean;
  namespaces: Array<{ name: string; exists: boolean }>;
  services: Array<ProcRef & { alive: boolean }>;
  attach: LabState["attach"] | undefined;
  hosts: Array<Pick<HostPlan, "id" | "role" | "label" | "ns" | "dev" | "mac" | "ipv4" | "ipv6">>;
  serverCounters: IfaceCounters | undefined;
  /** Namespaces with the lab's prefix that no state file accounts for (left by a crash). */
  stray: string[];
}

export function labStatus(tag?: string): LabStatus {
  const state = readState(tag);
  // namespaces of other recorded labs are theirs, not strays of this one
  const others = new Set<string>();
  for (const t of recordedTags()) {
    if (t === tag) continue;
    try {
      const o = readState(t);
      if (o) for (const n of namespacesOf(o.plan)) others.add(n);
    } catch {
      // unreadable: its namespaces count as strays
    }
  }
  const existing = listNetns(labPrefix(tag)).filter((n) => !others.has(n));
  if (!state) {
    return { up: false, tag, stateFile: false, namespaces: [], services: [], attach: undefined, hosts: [], serverCounters: undefined, stray: existing };
  }
  const names = namespacesOf(state.plan);
  const namespaces = names.map((name) => ({ name, exists: existing.includes(name) }));
  const services = state.procs.map((p) => ({ ...p, alive: isAlive(p) }));
  const up = namespaces.every((n) => n.exists) && services.length > 0 && services.every((s) => s.alive);
  let serverCounters: IfaceCounters | undefined;
  if (netnsExists(state.plan.server.ns)) {
    try {
      serverCounters = counters(NetNs.open(state.plan.server.ns), state.plan.server.dev);
    } catch {
      // device gone
    }
  }
  const hosts = hostsOf(state.plan).map(({ id, role, label, ns, dev, mac, ipv4, ipv6 }) => ({ id, role, label, ns, dev, mac, ipv4, ipv6 }));
  return { up, tag, stateFile: true, namespaces, services, attach: state.attach, hosts, serverCounters, stray: existing.filter((n) => !names.includes(n)) };
}

