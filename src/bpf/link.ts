/**
 * @module bpf/link
 * Attaching programs through bpf_link: XDP (BPF_XDP link on an ifindex, kernel >= 5.9) and
 * tc through tcx (BPF_TCX_INGRESS/EGRESS links, kernel >= 6.6; kmlib uses tcx, not the
 * legacy clsact qdisc + cls_bpf filters). A link holds the attachment: closing the last fd
 * (or `detach()`) removes it, and `update()` swaps the program atomically (BPF_LINK_UPDATE),
 * so every packet sees either the old or the new program and none is lost in between.
 * Interfaces in another network namespace are resolved and attached from inside it
 * (setns on the calling thread, restored before returning). Needs CAP_NET_ADMIN + CAP_BPF.
 */
import { openSync, closeSync } from "node:fs";
import { isAbsolute } from "node:path";
import { ErrorCode, KmlibError } from "../errors.ts";
import { check, sysError } from "./errors.ts";
import { FdObject } from "./fd.ts";
import { linkInfo, type LinkInfo } from "./info.ts";
import { rejectUnknown } from "./options.ts";
import { openPinned, pinObject } from "./pin.ts";
import { bpfSys, CLONE_NEWNET, type BpfSys } from "./sys/index.ts";
import { AttachType, BPF_F_REPLACE, LinkType, XdpFlag, nameOf } from "./types.ts";

/** An interface: its ifindex, its name, or its name inside a named network namespace. */
export type LinkTarget = number | string | { readonly ifname: string; readonly netns?: string };

/** Anything holding a program fd (a loaded `Program`). */
export interface ProgramRef {
  readonly fd: number;
  describe?(): string;
}

export type LinkKind = "xdp" | "tcx-ingress" | "tcx-egress" | "tracing" | "other";

const ENODEV = 19, EBUSY = 16, EEXIST = 17, EINVAL = 22;

function netnsPath(ns: string): string {
  return isAbsolute(ns) ? ns : `/run/netns/${ns}`;
}

/**
 * Run `fn` with the calling thread inside network namespace `ns` (a name under /run/netns
 * or a path), then switch back. `fn` must be synchronous: nothing else runs meanwhile.
 */
export function inNetns<T>(ns: string | undefined, fn: () => T, sys: BpfSys = bpfSys()): T {
  if (ns === undefined) return fn();
  let target: number;
  try {
    target = openSync(netnsPath(ns), "r");
  } catch (e) {
    throw new KmlibError(ErrorCode.NotFound, `no network namespace "${ns}" (${netnsPath(ns)})`, { cause: e });
  }
  const home = openSync("/proc/thread-self/ns/net", "r");
  let back = 0;
  let result: T;
  try {
    check(`enter network namespace "${ns}"`, sys.setns(target, CLONE_NEWNET), ["sys_admin"]);
    try {
      result = fn();
    } finally {
      back = sys.setns(home, CLONE_NEWNET);
    }
  } finally {
    closeSync(home);
    closeSync(target);
  }
  // Staying in the wrong namespace would silently misdirect every later call.
  if (back < 0) throw sysError("return to the original network namespace", back, ["sys_admin"]);
  return result;
}

function describeTarget(t: LinkTarget): string {
  if (typeof t === "number") return `ifindex ${t}`;
  if (typeof t === "string") return `interface "${t}"`;
  return `interface "${t.ifname}"${t.netns ? ` in netns "${t.netns}"` : ""}`;
}

function resolveIfindex(t: LinkTarget, sys: BpfSys): number {
  const name = typeof t === "string" ? t : typeof t === "object" ? t.ifname : undefined;
  if (name === undefined) return t as number;
  const r = sys.ifNameToIndex(name);
  if (r === -ENODEV || r === 0) throw new KmlibError(ErrorCode.NotFound, `no ${describeTarget(t)}`);
  return check(`look up ${describeTarget(t)}`, r, []);
}

function createLink(prog: ProgramRef, target: LinkTarget, attachType: number, flags: number, kind: LinkKind, sys: BpfSys): Link {
  const netns = typeof target === "object" ? target.netns : undefined;
  return inNetns(netns, () => {
    const ifindex = resolveIfindex(target, sys);
    const fd = sys.linkCreate({ progFd: prog.fd, targetFd: ifindex, attachType, flags });
    if (fd < 0) {
      const what = `attach ${prog.describe?.() ?? "program"} as ${kind} to ${describeTarget(target)}`;
      if (fd === -EBUSY || fd === -EEXIST) {
        throw sysError(what, fd, [], kind === "xdp"
          ? "the interface already has an XDP program (another link, or one attached through netlink: `ip link set dev IF xdp off`)"
          : "a conflicting program is attached");
      }
      if (fd === -EINVAL) throw sysError(what, fd, [], "wrong program type for this hook, or the kernel lacks this link type (XDP links: 5.9, tcx: 6.6)");
      throw sysError(what, fd, ["bpf", "net_admin"]);
    }
    return new Link(fd, kind, ifindex, describeTarget(target), sys);
  }, sys);
}

export interface XdpAttachOptions {
  /** "driver" (native), "generic" (skb), or "auto" (default: native when the driver has it). */
  readonly mode?: "auto" | "driver" | "generic";
  readonly sys?: BpfSys;
}

/** Attach an XDP program to an interface through a bpf_link. */
export function attachXdp(prog: ProgramRef, target: LinkTarget, opts: XdpAttachOptions = {}): Link {
  rejectUnknown(opts, ["mode", "sys"], "XDP attach options");
  const mode = opts.mode ?? "auto";
  const flags = mode === "driver" ? XdpFlag.DRV_MODE : mode === "generic" ? XdpFlag.SKB_MODE : 0;
  return createLink(prog, target, AttachType.XDP, flags, "xdp", opts.sys ?? bpfSys());
}

/** Attach a SCHED_CLS program to an interface's tc ingress or egress through tcx. */
export function attachTcx(prog: ProgramRef, target: LinkTarget, direction: "ingress" | "egress", opts: { readonly sys?: BpfSys } = {}): Link {
  rejectUnknown(opts, ["sys"], "tcx attach options");
  const type = direction === "ingress" ? AttachType.TCX_INGRESS : AttachType.TCX_EGRESS;
  return createLink(prog, target, type, 0, direction === "ingress" ? "tcx-ingress" : "tcx-egress", opts.sys ?? bpfSys());
}

/**
 * Attach a TRACING program (fentry/fexit/fmod_ret, loaded with `attachBtfId` from
 * `kernelFunctionBtfId`) to its kernel function. Needs CAP_BPF + CAP_PERFMON.
 */
export function attachTracing(prog: ProgramRef & { readonly expectedAttachType?: number }, attachType: "TRACE_FENTRY" | "TRACE_FEXIT" | "MODIFY_RETURN" = "TRACE_FENTRY", opts: { readonly sys?: BpfSys } = {}): Link {
  rejectUnknown(opts, ["sys"], "tracing attach options");
  const sys = opts.sys ?? bpfSys();
  const fd = sys.linkCreate({ progFd: prog.fd, targetFd: 0, attachType: AttachType[attachType], flags: 0 });
  if (fd < 0) throw sysError(`attach ${prog.describe?.() ?? "program"} (${attachType})`, fd, ["bpf", "perfmon"]);
  return new Link(fd, "tracing", 0, attachType, sys);
}

/** An attachment. Closing it detaches the program unless the link is pinned. */
export class Link extends FdObject {
  readonly kind: LinkKind;
  readonly ifindex: number;
  readonly #target: string;

  constructor(fd: number, kind: LinkKind, ifindex: number, target: string, sys: BpfSys = bpfSys()) {
    super(fd, sys);
    this.kind = kind;
    this.ifindex = ifindex;
    this.#target = target;
  }

  describe(): string {
    return this.kind === "tracing" ? `tracing link (${this.#target})` : `${this.kind} link on ${this.#target}`;
  }

  /**
   * Atomically replace the attached program. With `expected`, replace only if that program
   * is still the attached one (BPF_F_REPLACE; the kernel answers EPERM otherwise).
   */
  update(prog: ProgramRef, opts: { readonly expected?: ProgramRef } = {}): void {
    rejectUnknown(opts, ["expected"], "link update options");
    const flags = opts.expected ? BPF_F_REPLACE : 0;
    const r = this.sys.linkUpdate(this.fd, prog.fd, flags, opts.expected?.fd ?? 0);
    if (r < 0) {
      const what = `replace the program of ${this.describe()} with ${prog.describe?.() ?? "a program"}`;
      if (r === -1 && opts.expected) throw sysError(what, r, [], "the attached program is not the expected one (someone else replaced it)");
      if (r === -EINVAL) throw sysError(what, r, [], "the new program must have the same type and attach type");
      throw sysError(what, r, ["bpf", "net_admin"]);
    }
  }

  /** Detach now (the link fd stays open but defunct until closed). */
  detach(): void {
    check(`detach ${this.describe()}`, this.sys.linkDetach(this.fd), ["bpf", "net_admin"]);
  }

  info(): LinkInfo {
    return linkInfo(this.fd, this.sys, this.describe());
  }

  /** Pin so the attachment outlives this process; returns the path. */
  pin(path: string): string {
    return pinObject(this, path);
  }
}

/** Open a link pinned at `path` (relative: under /sys/fs/bpf/kmlib/). */
export function linkFromPin(path: string, sys: BpfSys = bpfSys()): Link {
  const fd = openPinned(path, sys);
  try {
    const i = linkInfo(fd, sys);
    const kind: LinkKind = i.type === LinkType.XDP ? "xdp"
      : i.type === LinkType.TCX ? (i.attachType === AttachType.TCX_EGRESS ? "tcx-egress" : "tcx-ingress")
      : i.type === LinkType.TRACING ? "tracing"
      : "other";
    return new Link(fd, kind, i.ifindex ?? 0, i.ifindex ? `ifindex ${i.ifindex}` : nameOf(LinkType, i.type), sys);
  } catch (e) {
    sys.close(fd);
    throw e;
  }
}
