/**
 * @module demo/toolkit
 * The eBPF toolkit demo: build an XDP packet counter with kmlib's DSL, load it, attach it
 * through a bpf_link to a veth in a fresh pair of network namespaces, send real packets
 * (ping, hping3), read the per-CPU counters, swap the program atomically while a flood runs
 * and show that no packet was lost, print the listing, clean up. Needs root, iproute2, hping3.
 */
import { execFileSync } from "node:child_process";
import {
  Add, Exit, JEq, JGT, JNE, LoadMapPtr, LoadMem, Mov, R0, R1, R10, R2, R3, R4, R5, R6, StoreMem, Call, Helper,
  assemble, attachXdp, createMap, disassemble, loadProgram, label, type Assembled, type BpfMap,
} from "../bpf/index.ts";
import { NetNs, vethPair } from "../net/netns.ts";
import type { Progress } from "../cli/progress.ts";

/** Counter slots: by protocol, then one per program version (to show who saw what). */
export const Slot = { icmp: 0, tcp: 1, udp: 2, otherIpv4: 3, nonIpv4: 4, version1: 5, version2: 6 } as const;
const SLOTS = 7;

/** r0 = XDP_PASS after counting the packet by protocol and by program `version` (1 or 2). */
export function buildCounter(version: 1 | 2): Assembled {
  const bump = (slotReg: typeof R4 | typeof R5, done: string) => [
    StoreMem("W", R10, -4, slotReg),
    LoadMapPtr(R1, "counters"),
    Mov.reg(R2, R10),
    Add.imm(R2, -4),
    Call(Helper.map_lookup_elem),
    JEq.imm(R0, 0, done),
    LoadMem("DW", R1, R0, 0),
    Add.imm(R1, 1),
    StoreMem("DW", R0, 0, R1),
    label(done),
  ];
  return assemble([
    Mov.reg(R6, R1),
    LoadMem("W", R2, R6, 0), // ctx->data
    LoadMem("W", R3, R6, 4), // ctx->data_end
    Mov.imm(R4, Slot.nonIpv4),
    Mov.reg(R5, R2),
    Add.imm(R5, 34), // Ethernet (14) + minimal IPv4 header (20)
    JGT.reg(R5, R3, "count"),
    LoadMem("H", R5, R2, 12),
    JNE.imm(R5, 0x0008, "count"), // EtherType 0x0800, read little-endian
    LoadMem("B", R5, R2, 23), // IPv4 protocol
    Mov.imm(R4, Slot.icmp),
    JEq.imm(R5, 1, "count"),
    Mov.imm(R4, Slot.tcp),
    JEq.imm(R5, 6, "count"),
    Mov.imm(R4, Slot.udp),
    JEq.imm(R5, 17, "count"),
    Mov.imm(R4, Slot.otherIpv4),
    label("count"),
    bump(R4, "counted"),
    Mov.imm(R5, version === 1 ? Slot.version1 : Slot.version2),
    bump(R5, "versioned"),
    Mov.imm(R0, 2), // XDP_PASS
    Exit(),
  ]);
}

function readCounters(map: BpfMap): bigint[] {
  const out: bigint[] = [];
  const key = new Uint8Array(4);
  for (let i = 0; i < SLOTS; i++) {
    new DataView(key.buffer).setUint32(0, i, true);
    const perCpu = map.lookupPerCpu(key) ?? [];
    out.push(perCpu.reduce((s, v) => s + new DataView(v.buffer, v.byteOffset).getBigUint64(0, true), 0n));
  }
  return out;
}

export interface ToolkitDemoReport {
  sent: { icmp: number; tcp: number; udp: number };
  counted: Record<keyof typeof Slot, number>;
  swap: { sent: number; counted: number; swaps: number; lost: number; byVersion: [number, number] };
  testRunNs: number;
  listing: string;
}

export async function runToolkitDemo(progress: Progress): Promise<ToolkitDemoReport> {
  const tag = `${process.pid}`;
  const tx = NetNs.create(`demo-tx-${tag}`);
  const rx = NetNs.create(`demo-rx-${tag}`);
  const cleanup = () => {
    tx.close();
    rx.close();
  };
  process.once("SIGINT", cleanup);
  process.once("SIGTERM", cleanup);
  try {
    await progress.phase("network namespaces and veth pair", () => {
      vethPair(tx, "veth-tx", "10.99.0.1/24", rx, "veth-rx", "10.99.0.2/24");
      // Quiet the link: no IPv6 autoconfiguration chatter in the counts.
      for (const ns of [tx, rx]) ns.exec("sysctl", ["-q", "-w", "net.ipv6.conf.all.disable_ipv6=1"]);
    });
    using counters = createMap({ name: "counters", type: "PERCPU_ARRAY", keySize: 4, valueSize: 8, maxEntries: SLOTS });
    const v1 = buildCounter(1), v2 = buildCounter(2);
    using prog1 = await progress.phase("load XDP program v1 (verifier)", () =>
      loadProgram({ name: "kmlib_count_v1", type: "XDP", instructions: v1, maps: { counters } }));
    using prog2 = loadProgram({ name: "kmlib_count_v2", type: "XDP", instructions: v2, maps: { counters } });
    const testRunNs = prog1.testRun({ data: new Uint8Array(64), repeat: 100_000 }).nsPerRun;
    // The test-run counted its frames too: what the wire brings is measured from here.
    const c0 = readCounters(counters);
    using link = await progress.phase("attach through bpf_link to veth-rx", () => attachXdp(prog1, { ifname: "veth-rx", netns: rx.name }));
    const sent = { icmp: 100, tcp: 200, udp: 200 };
    await progress.phase(`send ${sent.icmp} ICMP, ${sent.tcp} TCP SYN, ${sent.udp} UDP packets`, () => {
      tx.exec("ping", ["-q", "-c", String(sent.icmp), "-i", "0.002", "10.99.0.2"]);
      tx.exec("hping3", ["-q", "-S", "-p", "80", "-c", String(sent.tcp), "-i", "u1000", "10.99.0.2"]);
      tx.exec("hping3", ["-q", "--udp", "-p", "9", "-c", String(sent.udp), "-i", "u1000", "10.99.0.2"]);
    });
    const c1 = readCounters(counters).map((v, i) => v - c0[i]!);
    const flood = 20_000, swaps = 20;
    const udpBefore = c1[Slot.udp]! + c0[Slot.udp]!;
    await progress.phase(`swap v1/v2 ${swaps} times during a ${flood}-packet UDP flood`, async () => {
      const child = tx.spawn("hping3", ["-q", "--udp", "-p", "9", "-c", String(flood), "-i", "u50", "10.99.0.2"]);
      const exited = new Promise<void>((res) => child.once("exit", () => res()));
      for (let i = 0; i < swaps; i++) {
        await new Promise((r) => setTimeout(r, 40));
        link.update(i % 2 === 0 ? prog2 : prog1);
      }
      await exited;
    });
    const c2 = readCounters(counters);
    const swapCounted = Number(c2[Slot.udp]! - udpBefore);
    const listing = disassemble(v1.instructions);
    const counted = Object.fromEntries(Object.entries(Slot).map(([k, i]) => [k, Number(c1[i]!)])) as Record<keyof typeof Slot, number>;
    return {
      sent,
      counted,
      swap: {
        sent: flood,
        counted: swapCounted,
        swaps,
        lost: flood - swapCounted,
        byVersion: [Number(c2[Slot.version1]! - c0[Slot.version1]! - c1[Slot.version1]!), Number(c2[Slot.version2]! - c0[Slot.version2]! - c1[Slot.version2]!)],
      },
      testRunNs,
      listing,
    };
  } finally {
    cleanup();
    process.off("SIGINT", cleanup);
    process.off("SIGTERM", cleanup);
  }
}

/** True when the tools the demo needs are present; otherwise the reason. */
export function toolkitDemoMissing(): string | undefined {
  if (process.getuid?.() !== 0) return "the demo needs root (bpf(), network namespaces)";
  for (const cmd of ["ip", "hping3", "ping"]) {
    try {
      execFileSync("sh", ["-c", `command -v ${cmd}`], { stdio: "ignore" });
    } catch {
      return `${cmd} not found (run scripts/bootstrap.sh)`;
    }
  }
  return undefined;
}
