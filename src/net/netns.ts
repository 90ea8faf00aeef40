/**
 * @module net/netns
 * Network namespaces and veth pairs through iproute2, for the demo, the lab and kernel tests.
 * Every namespace kmlib creates is named `kmlib-*` so a crashed run can be cleaned up
 * (`cleanupStale`). Needs root (CAP_NET_ADMIN, CAP_SYS_ADMIN) and iproute2.
 */
import { execFileSync, spawn, type ChildProcess, type SpawnOptions } from "node:child_process";
import { readdirSync, readlinkSync, statSync } from "node:fs";
import { ErrorCode, KmlibError } from "../errors.ts";

export const NETNS_PREFIX = "kmlib-";

function ip(args: string[]): string {
  try {
    return execFileSync("ip", args, { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });
  } catch (e) {
    const err = e as { stderr?: string; code?: string };
    if (err.code === "ENOENT") throw new KmlibError(ErrorCode.Unsupported, "iproute2 `ip` not found (apt-get install iproute2)", { cause: e });
    const msg = (err.stderr ?? String(e)).trim();
    const code = /Operation not permitted|Permission denied/.test(msg) ? ErrorCode.Permission : ErrorCode.Syscall;
    throw new KmlibError(code, `ip ${args.join(" ")}: ${msg}${code === ErrorCode.Permission ? " (needs root: CAP_NET_ADMIN and CAP_SYS_ADMIN)" : ""}`, { cause: e });
  }
}

/** A network namespace owned by this process; `close()` deletes it. */
export class NetNs {
  #closed = false;
  private constructor(readonly name: string) {}

  static create(name: string): NetNs {
    if (!name.startsWith(NETNS_PREFIX)) name = NETNS_PREFIX + name;
    if (name.length > 64) throw new KmlibError(ErrorCode.InvalidArgument, `netns name too long: ${name}`);
    ip(["netns", "add", name]);
    const ns = new NetNs(name);
    ns.ip(["link", "set", "lo", "up"]);
    return ns;
  }

  /** A handle on an existing namespace (created by another process); `close()` deletes it too. */
  static open(name: string): NetNs {
    if (!netnsExists(name)) throw new KmlibError(ErrorCode.NotFound, `no network namespace ${name}`);
    return new NetNs(name);
  }

  /** The nsfs inode identifying this namespace (what /proc/PID/ns/net links to). */
  get inode(): number {
    return netnsInode(this.name)!;
  }

  /** Run `ip` inside this namespace. */
  ip(args: string[]): string {
    return ip(["-n", this.name, ...args]);
  }

  /** Run a command to completion inside this namespace; returns stdout. */
  exec(cmd: string, args: string[], timeoutMs = 30_000): string {
    return execFileSync("ip", ["netns", "exec", this.name, cmd, ...args], { encoding: "utf8", timeout: timeoutMs, stdio: ["ignore", "pipe", "pipe"] });
  }

  /** Start a command inside this namespace. */
  spawn(cmd: string, args: string[], opts: SpawnOptions = {}): ChildProcess {
    return spawn("ip", ["netns", "exec", this.name, cmd, ...args], { stdio: "ignore", ...opts });
  }

  ifindex(dev: string): number {
    const out = this.ip(["-j", "link", "show", "dev", dev]);
    const parsed = JSON.parse(out) as Array<{ ifindex: number }>;
    return parsed[0]!.ifindex;
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    try {
      ip(["netns", "del", this.name]);
    } catch {
      // already gone
    }
  }
  [Symbol.dispose](): void {
    this.close();
  }
}

/** A veth pair with one end in each namespace, addressed and up. */
export function vethPair(a: NetNs, aDev: string, aAddr: string, b: NetNs, bDev: string, bAddr: string): void {
  a.ip(["link", "add", aDev, "type", "veth", "peer", "name", bDev, "netns", b.name]);
  a.ip(["addr", "add", aAddr, "dev", aDev]);
  b.ip(["addr", "add", bAddr, "dev", bDev]);
  a.ip(["link", "set", aDev, "up"]);
  b.ip(["link", "set", bDev, "up"]);
}

/** Names of the named network namespaces (those under /run/netns), optionally only with a prefix. */
export function listNetns(prefix = ""): string[] {
  const out = ip(["-j", "netns", "list"]).trim();
  const list = out ? (JSON.parse(out) as Array<{ name: string }>) : [];
  return list.map((n) => n.name).filter((n) => n.startsWith(prefix));
}

export function netnsExists(name: string): boolean {
  return netnsInode(name) !== undefined;
}

/** The nsfs inode of a named namespace, or undefined when it does not exist. */
export function netnsInode(name: string): number | undefined {
  try {
    return statSync(`/run/netns/${name}`).ino;
  } catch {
    return undefined;
  }
}

/**
 * Pids of every process whose network namespace is one of `inodes`, found through
 * /proc/PID/ns/net. Unlike `ip netns pids` this also finds processes left in a namespace
 * whose name was already deleted (the namespace lives on while a process holds it).
 */
export function pidsInNetns(inodes: Iterable<number>): number[] {
  const want = new Set([...inodes].map((i) => `net:[${i}]`));
  if (want.size === 0) return [];
  const pids: number[] = [];
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      if (want.has(readlinkSync(`/proc/${entry}/ns/net`))) pids.push(Number(entry));
    } catch {
      // exited meanwhile, or a kernel thread
    }
  }
  return pids;
}

/** Kill (SIGKILL) every process inside a named namespace; returns their pids. */
export function killNetnsPids(name: string): number[] {
  const inode = netnsInode(name);
  if (inode === undefined) return [];
  const pids = pidsInNetns([inode]).filter((p) => p !== process.pid);
  for (const pid of pids) {
    try {
      process.kill(pid, "SIGKILL");
    } catch {
      // already gone
    }
  }
  return pids;
}

/**
 * Delete `kmlib-*` namespaces left behind by crashed runs (optionally only those with a prefix).
 * With `killProcesses`, processes still inside each namespace are killed first, so nothing
 * keeps running in a namespace that lost its name.
 */
export function cleanupStale(prefix = NETNS_PREFIX, opts: { killProcesses?: boolean } = {}): string[] {
  const gone: string[] = [];
  for (const name of listNetns(prefix)) {
    if (opts.killProcesses) killNetnsPids(name);
    try {
      ip(["netns", "del", name]);
      gone.push(name);
    } catch {
      // raced with its owner
    }
  }
  return gone;
}
