/**
 * @module bench/suites/netguard-datapath
 * The netguard data path's cost per packet, beside an empty program of the same type in the
 * same run (kernel-clock test-run over a packet mix, weighted; each frame repeated so its
 * flow is warm, which is the steady state of a real flow):
 * - emergency (parse, flow features, allowlist, default rules, decide, counters);
 * - recommendation with the stand-in model evaluated on every packet (cache off);
 * - recommendation with the per-flow verdict cache (default 64 packets);
 * - the same on tc; and XDP live-frames packets per second, dropping, vs an empty program.
 */
import { Exit, Mov, R0, loadProgram, XdpAction, TcAction } from "../../src/bpf/index.ts";
import { NetguardDataPath } from "../../src/subsystems/netguard/datapath.ts";
import { buildThresholdModel, type Attach } from "../../src/subsystems/netguard/program.ts";
import { defaultControl, gcra, Mode, type Control } from "../../src/subsystems/netguard/control.ts";
import { buildPacket, type PacketSpec } from "../../src/subsystems/netguard/packet.ts";
import { TcpFlag } from "../../src/subsystems/netguard/layout.ts";
import { entry, median, progress, type BenchEntry } from "../types.ts";

const ROUNDS = 5;
const REPEAT = 100_000;

/** A realistic mix: mostly TCP data on IPv4, some UDP, IPv6, VLAN-tagged and ICMP. */
const MIX: [number, PacketSpec][] = [
  [0.35, { src: "10.0.0.1", dst: "10.0.0.100", l4: { kind: "tcp", sport: 40000, dport: 443, flags: TcpFlag.ACK | TcpFlag.PSH }, payload: 1400 }],
  [0.25, { src: "10.0.0.100", dst: "10.0.0.1", l4: { kind: "tcp", sport: 443, dport: 40000, flags: TcpFlag.ACK }, payload: 0 }],
  [0.15, { src: "10.0.0.2", dst: "10.0.0.100", l4: { kind: "udp", sport: 5353, dport: 53 }, payload: 60 }],
  [0.1, { src: "fd00::1", dst: "fd00::64", l4: { kind: "tcp", sport: 40001, dport: 80, flags: TcpFlag.ACK }, payload: 600 }],
  [0.1, { vlans: [10], src: "10.0.0.3", dst: "10.0.0.100", l4: { kind: "tcp", sport: 40002, dport: 22, flags: TcpFlag.ACK | TcpFlag.PSH }, payload: 100 }],
  [0.05, { src: "10.0.0.4", dst: "10.0.0.100", l4: { kind: "icmp", type: 8, id: 1 }, payload: 56 }],
];
const frames = MIX.map(([w, s]) => [w, buildPacket(s)] as const);

const quiet = { ...gcra({ pps: 1e9, burst: 1e9 }), synWindowNs: 0n };

function mixNs(run: (f: Uint8Array) => number): number {
  return frames.reduce((s, [w, f]) => s + w * run(f), 0);
}

function emptyNs(attach: Attach): number[] {
  using p = loadProgram({ name: "empty", type: attach === "xdp" ? "XDP" : "SCHED_CLS", instructions: [Mov.imm(R0, attach === "xdp" ? XdpAction.PASS : TcAction.OK), Exit()] });
  return Array.from({ length: ROUNDS }, () => mixNs((f) => p.testRun({ data: f, repeat: REPEAT }).nsPerRun));
}

function netguardNs(attach: Attach, control: Partial<Control>, model: boolean): number[] {
  using dp = NetguardDataPath.load({ attach, control: { ...defaultControl(), ...quiet, ...control } });
  if (model) dp.swapModel(dp.loadModel(buildThresholdModel(attach, { feature: "pkts_fwd", threshold: 1n << 40n })));
  return Array.from({ length: ROUNDS }, () => mixNs((f) => dp.testRun(f, REPEAT).nsPerRun));
}

function livePps(): BenchEntry {
  const frame = frames[0]![1];
  const N = 2_000_000;
  using empty = loadProgram({ name: "empty_drop", type: "XDP", instructions: [Mov.imm(R0, XdpAction.DROP), Exit()] });
  using dp = NetguardDataPath.load({ control: { ...defaultControl(), ...quiet, mode: Mode.RECOMMENDATION } });
  dp.swapModel(dp.loadModel(buildThresholdModel("xdp", { feature: "pkts_fwd", threshold: 0 }))); // drops everything
  const ng: number[] = [], base: number[] = [];
  for (let i = 0; i < ROUNDS; i++) {
    progress(`live frames round ${i + 1}/${ROUNDS}`);
    ng.push(dp.main.testRunLive({ data: frame, repeat: N }).framesPerSecond);
    base.push(empty.testRunLive({ data: frame, repeat: N }).framesPerSecond);
  }
  const drops = dp.stats().decisions[2]![1];
  return entry("netguard-xdp-live-drop", median(ng), "packets/s", "empty XDP program dropping, live frames", median(base), { frames: N, modelDrops: Number(drops) });
}

export default async function run(): Promise<BenchEntry[]> {
  const out: BenchEntry[] = [];
  for (const attach of ["xdp", "tc"] as const) {
    progress(`${attach}: empty program`);
    const base = median(emptyNs(attach));
    const cases: [string, Partial<Control>, boolean][] = [
      ["emergency", { mode: Mode.EMERGENCY }, false],
      ["model-every-packet", { mode: Mode.RECOMMENDATION, cacheMaxPkts: 0 }, true],
      ["model-cached", { mode: Mode.RECOMMENDATION }, true],
    ];
    for (const [name, control, model] of cases) {
      progress(`${attach}: ${name}`);
      out.push(entry(`netguard-${attach}-${name}`, median(netguardNs(attach, control, model)), "ns/packet", `empty ${attach} program, same packet mix`, base, { repeat: REPEAT, mix: MIX.map(([w]) => w) }));
    }
  }
  out.push(livePps());
  return out;
}
