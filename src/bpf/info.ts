/**
 * @module bpf/info
 * Object information (BPF_OBJ_GET_INFO_BY_FD) decoded from the kernel's structs
 * (bpf_prog_info, bpf_map_info, bpf_link_info; offsets checked against the UAPI headers),
 * run-time statistics (BPF_ENABLE_STATS), and walking every object id in the system.
 */
import { check } from "./errors.ts";
import { FdObject } from "./fd.ts";
import { bpfSys, type BpfSys } from "./sys/index.ts";
import { BPF_STATS_RUN_TIME, LinkType, MapType, ProgType, nameOf } from "./types.ts";

export interface ProgramInfo {
  readonly id: number;
  readonly type: number;
  readonly typeName: string;
  readonly name: string;
  /** The kernel's 8-byte program tag, hex. */
  readonly tag: string;
  readonly jitedSize: number;
  readonly xlatedSize: number;
  /** Nanoseconds since boot when loaded. */
  readonly loadTime: bigint;
  readonly createdByUid: number;
  readonly mapCount: number;
  readonly btfId: number;
  /** Cumulative run time and count; only grow while statistics are enabled. */
  readonly runTimeNs: bigint;
  readonly runCount: bigint;
  readonly recursionMisses: bigint;
  readonly verifiedInsns: number;
  readonly gplCompatible: boolean;
}

export interface MapInfo {
  readonly id: number;
  readonly type: number;
  readonly typeName: string;
  readonly name: string;
  readonly keySize: number;
  readonly valueSize: number;
  readonly maxEntries: number;
  readonly flags: number;
}

export interface LinkInfo {
  readonly id: number;
  readonly type: number;
  readonly typeName: string;
  readonly progId: number;
  /** For XDP and tcx links: the interface. */
  readonly ifindex?: number;
  /** For tcx links: the attach type (ingress/egress). */
  readonly attachType?: number;
}

function cstr(b: Uint8Array, off: number, len: number): string {
  const s = b.subarray(off, off + len);
  const end = s.indexOf(0);
  return new TextDecoder().decode(end < 0 ? s : s.subarray(0, end));
}

function rawInfo(sys: BpfSys, fd: number, size: number, what: string): { b: Uint8Array; v: DataView } {
  const b = new Uint8Array(size);
  const len = new Uint32Array([size]);
  check(`get info of ${what}`, sys.objGetInfo(fd, b, len));
  return { b, v: new DataView(b.buffer) };
}

export function decodeProgramInfo(b: Uint8Array): ProgramInfo {
  const v = new DataView(b.buffer, b.byteOffset, b.byteLength);
  const u32 = (o: number) => v.getUint32(o, true);
  const u64 = (o: number) => v.getBigUint64(o, true);
  const type = u32(0);
  return {
    type,
    typeName: nameOf(ProgType, type),
    id: u32(4),
    tag: Buffer.from(b.subarray(8, 16)).toString("hex"),
    jitedSize: u32(16),
    xlatedSize: u32(20),
    loadTime: u64(40),
    createdByUid: u32(48),
    mapCount: u32(52),
    name: cstr(b, 64, 16),
    gplCompatible: (u32(84) & 1) === 1,
    btfId: u32(128),
    runTimeNs: u64(192),
    runCount: u64(200),
    recursionMisses: u64(208),
    verifiedInsns: u32(216),
  };
}

export function programInfo(fd: number, sys: BpfSys = bpfSys(), what = "program"): ProgramInfo {
  return decodeProgramInfo(rawInfo(sys, fd, 232, what).b);
}

export function mapInfo(fd: number, sys: BpfSys = bpfSys(), what = "map"): MapInfo {
  const { b, v } = rawInfo(sys, fd, 88, what);
  const u32 = (o: number) => v.getUint32(o, true);
  const type = u32(0);
  return { type, typeName: nameOf(MapType, type), id: u32(4), keySize: u32(8), valueSize: u32(12), maxEntries: u32(16), flags: u32(20), name: cstr(b, 24, 16) };
}

export function linkInfo(fd: number, sys: BpfSys = bpfSys(), what = "link"): LinkInfo {
  const { v } = rawInfo(sys, fd, 48, what);
  const u32 = (o: number) => v.getUint32(o, true);
  const type = u32(0);
  const base = { type, typeName: nameOf(LinkType, type), id: u32(4), progId: u32(8) };
  if (type === LinkType.XDP) return { ...base, ifindex: u32(16) };
  if (type === LinkType.TCX || type === LinkType.NETKIT) return { ...base, ifindex: u32(16), attachType: u32(20) };
  return base;
}

/**
 * Run-time statistics (run_time_ns, run_cnt) are collected while this handle is open.
 * Needs CAP_SYS_ADMIN. Close it when done: the accounting costs a little per run.
 */
export class StatsHandle extends FdObject {
  describe(): string {
    return "run-time statistics handle";
  }
}

export function enableStats(sys: BpfSys = bpfSys()): StatsHandle {
  return new StatsHandle(check("enable run-time statistics (BPF_ENABLE_STATS)", sys.enableStats(BPF_STATS_RUN_TIME), ["sys_admin"]), sys);
}

/** Every id of the given kind currently in the kernel. */
export function listIds(kind: "prog" | "map" | "link", sys: BpfSys = bpfSys()): number[] {
  const ids: number[] = [];
  const next = new Uint32Array(1);
  let id = 0;
  for (;;) {
    const r = sys.getNextId(kind, id, next);
    if (r === -2) break; // ENOENT: past the last id
    check(`list ${kind} ids`, r);
    id = next[0]!;
    ids.push(id);
  }
  return ids;
}

/** Info of every object of a kind; objects that vanish meanwhile are skipped. */
export function listInfos(kind: "prog", sys?: BpfSys): ProgramInfo[];
export function listInfos(kind: "map", sys?: BpfSys): MapInfo[];
export function listInfos(kind: "link", sys?: BpfSys): LinkInfo[];
export function listInfos(kind: "prog" | "map" | "link", sys: BpfSys = bpfSys()): (ProgramInfo | MapInfo | LinkInfo)[] {
  const out: (ProgramInfo | MapInfo | LinkInfo)[] = [];
  for (const id of listIds(kind, sys)) {
    const fd = sys.getFdById(kind, id);
    if (fd === -2) continue;
    check(`open ${kind} id ${id}`, fd);
    try {
      out.push(kind === "prog" ? programInfo(fd, sys) : kind === "map" ? mapInfo(fd, sys) : linkInfo(fd, sys));
    } finally {
      sys.close(fd);
    }
  }
  return out;
}
