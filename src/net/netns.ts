/**
 * @module net/netns
 * Network namespaces and veth pairs through iproute2, for the demo, the lab and kernel tests.
 * Every namespace kmlib creates is named `kmlib-*` so a crashed run can be cleaned up
 * (`cleanupStale`). Needs root (CAP_NET_ADMIN, CAP_SYS_ADMIN) and iproute2.
 */
import { execFileSync, spawn, type ChildProcess, type SpawnOptions } from "node:child_process";
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

/** Delete `kmlib-*` namespaces left behind by crashed runs (optionally only those with a prefix). */
export function cleanupStale(prefix = NETNS_PREFIX): string[] {
  const out = ip(["-j", "netns", "list"]).trim();
  const list = out ? (JSON.parse(out) as Array<{ name: string }>) : [];
  const gone: string[] = [];
  for (const { name } of list) {
    if (name.startsWith(prefix)) {
      try {
        ip(["netns", "del", name]);
        gone.push(name);
      } catch {
        // raced with its owner
      }
    }
  }
  return gone;
}
