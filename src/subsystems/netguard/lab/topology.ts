/**
 * @module subsystems/netguard/lab/topology
 * The lab's plan as plain data: which namespaces, devices, addresses and MACs exist, derived
 * deterministically from a few options so every run is the same network. Pure: building it
 * touches nothing; `lab.ts` realises it.
 *
 * Layout: one bridge namespace holds a Linux bridge; every host (the server, benign clients,
 * attackers) has one veth whose peer is a bridge port. All hosts share one L2 segment, so the
 * server's `eth0` (the XDP attach point) sees every packet from every client and attacker.
 * Addresses are private (10.77.0.0/16, fd77::/64) and exist only inside these namespaces.
 */
import { ErrorCode, KmlibError } from "../../../errors.ts";

export const LAB_PREFIX = "kmlib-lab-";

export const HostRole = { Server: "server", Client: "client", Attacker: "attacker" } as const;
export type HostRole = (typeof HostRole)[keyof typeof HostRole];

/** What the traffic of a host counts as: the ground truth comes from the namespace. */
export type Label = "benign" | "attack";

export interface LabOptions {
  /** Benign client namespaces (1..20, default 2). */
  clients?: number;
  /** Attacker namespaces (1..20, default 2). */
  attackers?: number;
  /**
   * Distinguishes several labs on one machine: names become `kmlib-lab-TAG-*`. Without a tag
   * the lab is `kmlib-lab-*` (and its stale clean-up covers every lab).
   */
  tag?: string;
  /**
   * Keep TSO/GSO/GRO on the veths. Off by default, so packets on the wire (and under XDP)
   * are MTU-sized like on a real link rather than 64 KiB segments.
   */
  offloads?: boolean;
}

export interface HostPlan {
  /** Short name: `srv`, `c1`, `a1`... */
  id: string;
  role: HostRole;
  /** Label of what this host sends (the server's own packets are replies: benign). */
  label: Label;
  ns: string;
  /** Device inside the host namespace. */
  dev: string;
  /** The veth peer inside the bridge namespace. */
  bridgePort: string;
  mac: string;
  ipv4: string;
  ipv6: string;
}

export interface LabPlan {
  tag: string | undefined;
  /** Prefix shared by every namespace of this lab. */
  prefix: string;
  bridgeNs: string;
  bridgeDev: string;
  ipv4Prefix: 16;
  ipv6Prefix: 64;
  server: HostPlan;
  clients: HostPlan[];
  attackers: HostPlan[];
  offloads: boolean;
}

const TAG_RE = /^[a-z0-9]{1,16}$/;

function count(v: number | undefined, dflt: number, what: string): number {
  const n = v ?? dflt;
  if (!Number.isInteger(n) || n < 1 || n > 20) throw new KmlibError(ErrorCode.InvalidArgument, `${what} must be an integer in 1..20, got ${v}`);
  return n;
}

function mac(roleByte: number, n: number): string {
  return ["02", "77", "00", roleByte, 0, n].map((b) => (typeof b === "string" ? b : b.toString(16).padStart(2, "0"))).join(":");
}

function host(prefix: string, role: HostRole, n: number): HostPlan {
  switch (role) {
    case HostRole.Server:
      return { id: "srv", role, label: "benign", ns: `${prefix}srv`, dev: "eth0", bridgePort: "p-srv", mac: mac(0, 1), ipv4: "10.77.0.1", ipv6: "fd77::1" };
    case HostRole.Client:
      return { id: `c${n}`, role, label: "benign", ns: `${prefix}c${n}`, dev: "eth0", bridgePort: `p-c${n}`, mac: mac(1, n), ipv4: `10.77.1.${n}`, ipv6: `fd77::1:${n}` };
    case HostRole.Attacker:
      return { id: `a${n}`, role, label: "attack", ns: `${prefix}a${n}`, dev: "eth0", bridgePort: `p-a${n}`, mac: mac(2, n), ipv4: `10.77.2.${n}`, ipv6: `fd77::2:${n}` };
  }
}

export function labPrefix(tag: string | undefined): string {
  if (tag !== undefined && !TAG_RE.test(tag)) throw new KmlibError(ErrorCode.InvalidArgument, `lab tag must match ${TAG_RE}, got ${JSON.stringify(tag)}`);
  return tag === undefined ? LAB_PREFIX : `${LAB_PREFIX}${tag}-`;
}

export function planLab(opts: LabOptions = {}): LabPlan {
  const prefix = labPrefix(opts.tag);
  const nc = count(opts.clients, 2, "clients");
  const na = count(opts.attackers, 2, "attackers");
  return {
    tag: opts.tag,
    prefix,
    bridgeNs: `${prefix}br`,
    bridgeDev: "br0",
    ipv4Prefix: 16,
    ipv6Prefix: 64,
    server: host(prefix, HostRole.Server, 1),
    clients: Array.from({ length: nc }, (_, i) => host(prefix, HostRole.Client, i + 1)),
    attackers: Array.from({ length: na }, (_, i) => host(prefix, HostRole.Attacker, i + 1)),
    offloads: opts.offloads ?? false,
  };
}

/** Every host of the plan: server first, then clients, then attackers. */
export function hostsOf(plan: LabPlan): HostPlan[] {
  return [plan.server, ...plan.clients, ...plan.attackers];
}

/** Every namespace of the plan (bridge included). */
export function namespacesOf(plan: LabPlan): string[] {
  return [plan.bridgeNs, ...hostsOf(plan).map((h) => h.ns)];
}

/** Find a host by its short id (`c1`), its namespace, or one of its addresses. */
export function findHost(plan: LabPlan, key: string): HostPlan {
  const h = hostsOf(plan).find((x) => x.id === key || x.ns === key || x.ipv4 === key || x.ipv6 === key);
  if (!h) throw new KmlibError(ErrorCode.NotFound, `no lab host ${JSON.stringify(key)} (hosts: ${hostsOf(plan).map((x) => x.id).join(", ")})`);
  return h;
}
