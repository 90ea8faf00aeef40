/**
 * @module subsystems/netguard/lab/ground-truth
 * Labels for flow records, from the source address only: which namespace owns the address
 * (benign client or attacker) and which generator that namespace ran at the time. The model
 * never sees addresses; the labels come from them. Pure: no kernel access.
 */
import { ErrorCode, KmlibError } from "../../../errors.ts";
import { hostsOf, type HostRole, type Label, type LabPlan } from "./topology.ts";
import type { TrafficKind, TrafficRun } from "./traffic.ts";

export interface GroundTruthHost {
  id: string;
  role: HostRole;
  label: Label;
  ns: string;
  mac: string;
  /** Canonical addresses: IPv4 dotted, IPv6 as 8 full groups (see `canonicalAddr`). */
  addrs: string[];
}

export interface GroundTruthWindow {
  from: string;
  label: Label;
  kind: TrafficKind;
  startMs: number;
  endMs: number;
  startMonoMs: number;
  endMonoMs: number;
}

export interface GroundTruth {
  hosts: GroundTruthHost[];
  windows: GroundTruthWindow[];
}

/** EUI-64 link-local address the kernel derives from a MAC (addr_gen_mode 0, the default). */
export function linkLocalOf(mac: string): string {
  const b = mac.split(":").map((x) => parseInt(x, 16));
  if (b.length !== 6 || b.some((x) => !(x >= 0 && x <= 255))) throw new KmlibError(ErrorCode.InvalidArgument, `bad MAC ${mac}`);
  const e = [b[0]! ^ 2, b[1]!, b[2]!, 0xff, 0xfe, b[3]!, b[4]!, b[5]!];
  const g = [0, 2, 4, 6].map((i) => ((e[i]! << 8) | e[i + 1]!).toString(16));
  return canonicalAddr(`fe80::${g.join(":")}`);
}

function v6Groups(s: string): number[] {
  let text = s.toLowerCase().replace(/%.*$/, "");
  // a dotted IPv4 tail (::ffff:10.0.0.1) is two groups spelled differently
  const v4 = /(\d+)\.(\d+)\.(\d+)\.(\d+)$/.exec(text);
  if (v4) {
    const o = v4.slice(1).map(Number);
    text = text.slice(0, v4.index) + `${((o[0]! << 8) | o[1]!).toString(16)}:${((o[2]! << 8) | o[3]!).toString(16)}`;
  }
  const parse = (p: string | undefined): number[] => (p ? p.split(":").map((x) => (/^[0-9a-f]{1,4}$/.test(x) ? parseInt(x, 16) : NaN)) : []);
  const halves = text.split("::");
  let g: number[];
  if (halves.length === 1) g = parse(halves[0]);
  else if (halves.length === 2) {
    const left = parse(halves[0]);
    const right = parse(halves[1]);
    g = [...left, ...new Array<number>(Math.max(0, 8 - left.length - right.length)).fill(0), ...right];
  } else g = [];
  if (g.length !== 8 || g.some((x) => Number.isNaN(x))) throw new KmlibError(ErrorCode.InvalidArgument, `bad IPv6 address ${s}`);
  return g;
}

/**
 * One spelling per address: IPv4 dotted quad; IPv6 as eight 4-digit groups; IPv4-mapped IPv6
 * becomes the IPv4 address. Accepts strings or raw bytes (4 or 16, network order).
 */
export function canonicalAddr(a: string | Uint8Array): string {
  let groups: number[];
  if (typeof a !== "string") {
    if (a.length === 4) return [...a].join(".");
    if (a.length !== 16) throw new KmlibError(ErrorCode.InvalidArgument, `address of ${a.length} bytes`);
    groups = [0, 2, 4, 6, 8, 10, 12, 14].map((i) => (a[i]! << 8) | a[i + 1]!);
  } else if (/^\d+\.\d+\.\d+\.\d+$/.test(a)) {
    const o = a.split(".").map(Number);
    if (o.some((x) => x > 255)) throw new KmlibError(ErrorCode.InvalidArgument, `bad IPv4 address ${a}`);
    return o.join(".");
  } else {
    groups = v6Groups(a);
  }
  if (groups.slice(0, 5).every((x) => x === 0) && groups[5] === 0xffff) {
    return [groups[6]! >> 8, groups[6]! & 255, groups[7]! >> 8, groups[7]! & 255].join(".");
  }
  return groups.map((x) => x.toString(16).padStart(4, "0")).join(":");
}

export function groundTruth(plan: LabPlan, runs: TrafficRun[] = []): GroundTruth {
  const hosts = hostsOf(plan).map((h) => ({
    id: h.id,
    role: h.role,
    label: h.label,
    ns: h.ns,
    mac: h.mac,
    addrs: [canonicalAddr(h.ipv4), canonicalAddr(h.ipv6), linkLocalOf(h.mac)],
  }));
  const windows = runs.map((r) => ({ from: r.from, label: r.label, kind: r.kind, startMs: r.startMs, endMs: r.endMs, startMonoMs: r.startMonoMs, endMonoMs: r.endMonoMs }));
  return { hosts, windows };
}

/** Answers "what is this source?" for flow records; build once, query per record. */
export class Labeler {
  readonly #byAddr = new Map<string, GroundTruthHost>();
  readonly #windows: Map<string, GroundTruthWindow[]>;

  constructor(readonly truth: GroundTruth) {
    for (const h of truth.hosts) for (const a of h.addrs) this.#byAddr.set(a, h);
    this.#windows = new Map();
    for (const w of truth.windows) {
      const list = this.#windows.get(w.from) ?? [];
      list.push(w);
      this.#windows.set(w.from, list);
    }
  }

  host(addr: string | Uint8Array): GroundTruthHost | undefined {
    try {
      return this.#byAddr.get(canonicalAddr(addr));
    } catch {
      return undefined;
    }
  }

  /** benign | attack for a lab source address; undefined for anything else. */
  label(addr: string | Uint8Array): Label | undefined {
    return this.host(addr)?.label;
  }

  /**
   * The generator this source ran at a CLOCK_MONOTONIC time (ms; bpf_ktime_get_ns() / 1e6),
   * with `slackMs` of tolerance for packets in flight. An attack window wins over a benign one.
   */
  kind(addr: string | Uint8Array, monoMs: number, slackMs = 500): TrafficKind | undefined {
    const h = this.host(addr);
    if (!h) return undefined;
    const hits = (this.#windows.get(h.id) ?? []).filter((w) => monoMs >= w.startMonoMs - slackMs && monoMs <= w.endMonoMs + slackMs);
    return (hits.find((w) => w.label === "attack") ?? hits[0])?.kind;
  }
}
