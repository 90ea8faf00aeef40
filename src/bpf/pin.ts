/**
 * @module bpf/pin
 * Pinning objects in bpffs so they outlive this process. Relative paths live under
 * `/sys/fs/bpf/kmlib/` (created on demand); absolute paths must be inside a bpffs mount.
 * `openPinned` returns a raw fd; `programFromPin`/`mapFromPin`/`linkFromPin` wrap it.
 */
import { mkdirSync, readFileSync, rmSync, statfsSync } from "node:fs";
import { dirname, isAbsolute, join, normalize } from "node:path";
import { ErrorCode, KmlibError } from "../errors.ts";
import { check } from "./errors.ts";
import type { FdObject } from "./fd.ts";
import { bpfSys, type BpfSys } from "./sys/index.ts";

export const BPFFS = "/sys/fs/bpf";
export const PIN_ROOT = `${BPFFS}/kmlib`;
const BPF_FS_MAGIC = 0xcafe4a11;

/** Resolve a pin path: relative paths go under /sys/fs/bpf/kmlib/. */
export function pinPath(path: string): string {
  if (path.length === 0) throw new KmlibError(ErrorCode.InvalidArgument, "empty pin path");
  const p = normalize(isAbsolute(path) ? path : join(PIN_ROOT, path));
  if (!isAbsolute(path) && !p.startsWith(`${PIN_ROOT}/`)) throw new KmlibError(ErrorCode.InvalidArgument, `pin path "${path}" escapes ${PIN_ROOT}`);
  return p;
}

function ensureBpffsDir(dir: string): void {
  mkdirSync(dir, { recursive: true });
  if (statfsSync(dir).type !== BPF_FS_MAGIC) {
    throw new KmlibError(ErrorCode.Unsupported, `${dir} is not on a bpf filesystem (mount -t bpf bpf ${BPFFS})`);
  }
}

/** Pin an object; returns the absolute path. EEXIST means something is pinned there. */
export function pinObject(obj: FdObject, path: string): string {
  const p = pinPath(path);
  ensureBpffsDir(dirname(p));
  check(`pin ${obj.describe()} at ${p}`, obj.sys.objPin(obj.fd, p), ["bpf"], "unpin the old object first");
  return p;
}

/** Open a pinned object: its new fd. */
export function openPinned(path: string, sys: BpfSys = bpfSys(), flags = 0): number {
  const p = pinPath(path);
  return check(`open pinned object ${p}`, sys.objGet(p, flags), ["bpf"]);
}

/**
 * Remove a pin (the object lives on while something else holds it). A directory of pins
 * is removed with everything under it. Absent paths are fine.
 */
export function unpin(path: string): void {
  rmSync(pinPath(path), { force: true, recursive: true });
}

export type PinnedKind = "prog" | "map" | "link";

/** What is pinned at a path, read from /proc/self/fdinfo of a freshly opened fd. */
export function pinnedKind(path: string, sys: BpfSys = bpfSys()): PinnedKind {
  const fd = openPinned(path, sys);
  try {
    const info = readFileSync(`/proc/self/fdinfo/${fd}`, "utf8");
    if (/^prog_type:/m.test(info)) return "prog";
    if (/^map_type:/m.test(info)) return "map";
    if (/^link_type:/m.test(info)) return "link";
    throw new KmlibError(ErrorCode.Unsupported, `unknown kind of bpf object pinned at ${path}`);
  } finally {
    sys.close(fd);
  }
}
