/**
 * @module bpf/errors
 * Errors from talking to the kernel: `SyscallError` (with errno), `VerifierError` (keeps the
 * whole verifier log, its message shows the last useful lines), and `PermissionError`, which
 * names the missing privilege after reading this process's effective capabilities, so an
 * EPERM is a hint, not a mystery.
 */
import { readFileSync } from "node:fs";
import { ErrorCode, KmlibError } from "../errors.ts";
import { errnoMessage, errnoName } from "./sys/index.ts";

const EPERM = 1, EACCES = 13;

/** A failed bpf() or libc call: `errno` is positive (EPERM = 1). */
export class SyscallError extends KmlibError {
  readonly errno: number;
  readonly op: string;
  constructor(op: string, errno: number, detail?: string) {
    super(ErrorCode.Syscall, `${op}: ${errnoMessage(errno)}${detail ? `: ${detail}` : ""}`);
    this.errno = Math.abs(errno);
    this.op = op;
  }
  get errnoName(): string {
    return errnoName(this.errno);
  }
}

/** Privileges an operation needs. `bpf` and `perfmon` are also granted by CAP_SYS_ADMIN. */
export type Privilege = "bpf" | "net_admin" | "perfmon" | "sys_admin";

const CAP = { NET_ADMIN: 12n, SYS_ADMIN: 21n, PERFMON: 38n, BPF: 39n } as const;
const capName: Record<Privilege, string> = { bpf: "CAP_BPF", net_admin: "CAP_NET_ADMIN", perfmon: "CAP_PERFMON", sys_admin: "CAP_SYS_ADMIN" };

/** This process's effective capability set, or undefined when /proc cannot tell. */
export function effectiveCaps(): bigint | undefined {
  try {
    const m = /^CapEff:\s*([0-9a-f]+)$/m.exec(readFileSync("/proc/self/status", "utf8"));
    return m ? BigInt(`0x${m[1]}`) : undefined;
  } catch {
    return undefined;
  }
}

function holds(caps: bigint, p: Privilege): boolean {
  const has = (c: bigint) => (caps & (1n << c)) !== 0n;
  switch (p) {
    case "bpf": return has(CAP.BPF) || has(CAP.SYS_ADMIN);
    case "perfmon": return has(CAP.PERFMON) || has(CAP.SYS_ADMIN);
    case "net_admin": return has(CAP.NET_ADMIN);
    case "sys_admin": return has(CAP.SYS_ADMIN);
  }
}

function readSysctl(path: string): string | undefined {
  try {
    return readFileSync(path, "utf8").trim();
  } catch {
    return undefined;
  }
}

/** The caller lacks a privilege; `missing` lists the capabilities it lacks (may be empty). */
export class PermissionError extends KmlibError {
  readonly errno: number;
  readonly missing: readonly string[];
  constructor(op: string, errno: number, needs: readonly Privilege[], caps: bigint | undefined = effectiveCaps()) {
    const need = needs.map((p) => capName[p]).join(" and ");
    const lacking = caps === undefined ? [] : needs.filter((p) => !holds(caps, p)).map((p) => capName[p]);
    const parts = [`${op}: ${errnoMessage(errno)}`, `needs ${need}${needs.some((p) => p !== "sys_admin" && p !== "net_admin") ? " (or CAP_SYS_ADMIN)" : ""}`];
    if (lacking.length > 0) {
      parts.push(`this process lacks ${lacking.join(", ")}`);
      const unpriv = readSysctl("/proc/sys/kernel/unprivileged_bpf_disabled");
      if (unpriv && unpriv !== "0" && lacking.includes("CAP_BPF")) parts.push(`kernel.unprivileged_bpf_disabled=${unpriv}`);
      parts.push("run as root or grant the capabilities (setcap / systemd AmbientCapabilities)");
    } else if (caps !== undefined) {
      // Capabilities are there: what is left is the locked-memory limit (kernels < 5.11
      // charge bpf memory to RLIMIT_MEMLOCK), lockdown, or an LSM policy.
      const lockdown = /\[(\w+)\]/.exec(readSysctl("/sys/kernel/security/lockdown") ?? "")?.[1];
      parts.push(`the capabilities are present: check ${lockdown && lockdown !== "none" ? `kernel lockdown (it is "${lockdown}")` : "kernel lockdown (/sys/kernel/security/lockdown)"}, LSM policy, and RLIMIT_MEMLOCK (ulimit -l; kernels < 5.11)`);
    }
    super(ErrorCode.Permission, parts.join("; "));
    this.errno = Math.abs(errno);
    this.missing = lacking;
  }
}

/**
 * Turn a negative libbpf result into the right error: EPERM/EACCES become PermissionError
 * when the operation needs privileges, anything else a SyscallError.
 */
export function sysError(op: string, ret: number, needs: readonly Privilege[] = ["bpf"], detail?: string): KmlibError {
  const e = Math.abs(ret);
  if ((e === EPERM || e === EACCES) && needs.length > 0) return new PermissionError(op, e, needs);
  return new SyscallError(op, e, detail);
}

/** Throws `sysError(...)` when `ret` is negative; returns `ret` otherwise. */
export function check(op: string, ret: number, needs?: readonly Privilege[], detail?: string): number {
  if (ret < 0) throw sysError(op, ret, needs, detail);
  return ret;
}

const statLine = /^(processed \d+ insns|verification time|stack depth|max_states_per_insn|mark_read)/;

/** The kernel verifier refused a program. `log` is the whole log. */
export class VerifierError extends KmlibError {
  readonly log: string;
  readonly errno: number;
  /** True when even the largest log buffer could not hold the whole log. */
  readonly truncated: boolean;
  constructor(program: string, errno: number, log: string, truncated = false, maxLines = 3) {
    const { summary, omitted } = summarizeLog(log, maxLines);
    const tail = summary.length > 0 ? `:\n  ${summary.join("\n  ")}` : " (empty verifier log)";
    const more = omitted > 0 ? `\n  (${omitted} line${omitted === 1 ? "" : "s"} omitted)` : "";
    super(ErrorCode.Verifier, `verifier rejected program "${program}": ${errnoMessage(errno)}${tail}${more}${truncated ? " [log truncated]" : ""}`);
    this.log = log;
    this.errno = Math.abs(errno);
    this.truncated = truncated;
  }
}

/** The last `maxLines` useful lines of a verifier log (statistics lines dropped). */
export function summarizeLog(log: string, maxLines = 3): { summary: string[]; omitted: number } {
  const lines = log.split("\n").map((l) => l.trimEnd());
  while (lines.length > 0 && (lines.at(-1) === "" || statLine.test(lines.at(-1)!))) lines.pop();
  const summary = lines.slice(-maxLines);
  return { summary, omitted: lines.length - summary.length };
}
