/**
 * @module bpf/sys/errno
 * Names and short descriptions for the errno values bpf() returns, so errors read
 * `EPERM (operation not permitted)` rather than `-1`.
 */
import { constants } from "node:os";

const names = new Map<number, string>();
for (const [name, n] of Object.entries(constants.errno)) if (!names.has(n)) names.set(n, name);
// Kernel-internal values that leak out of bpf() (include/linux/errno.h).
names.set(524, "ENOTSUPP");

const messages: Record<string, string> = {
  EPERM: "operation not permitted",
  ENOENT: "no such entry",
  E2BIG: "argument too big",
  EBADF: "bad file descriptor",
  EAGAIN: "try again",
  ENOMEM: "out of memory",
  EACCES: "permission denied",
  EFAULT: "bad address",
  EBUSY: "busy",
  EEXIST: "already exists",
  ENODEV: "no such device",
  EINVAL: "invalid argument",
  ENOSPC: "no space left",
  ERANGE: "out of range",
  ENOTSUPP: "not supported by the kernel",
  EOPNOTSUPP: "operation not supported",
  ENOTDIR: "not a directory",
  ENOSYS: "function not implemented",
  ELOOP: "too many levels",
};

/** "EPERM" for 1 or -1; "errno 999" when unknown. */
export function errnoName(err: number): string {
  return names.get(Math.abs(err)) ?? `errno ${Math.abs(err)}`;
}

/** "EPERM (operation not permitted)". */
export function errnoMessage(err: number): string {
  const name = errnoName(err);
  const m = messages[name];
  return m ? `${name} (${m})` : name;
}

/** The number for a name, e.g. errno("ENOSPC") === 28. */
export function errno(name: keyof typeof constants.errno | "ENOTSUPP"): number {
  return name === "ENOTSUPP" ? 524 : constants.errno[name];
}
