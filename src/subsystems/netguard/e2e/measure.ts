/**
 * @module subsystems/netguard/e2e/measure
 * Cost of the data path with a compiled model, each figure beside an empty XDP program
 * measured in the same call (the anchor):
 * - ns per packet: BPF_PROG_TEST_RUN (kernel clock) over a realistic packet mix, weighted;
 *   each frame repeated so its flow is warm. With the model evaluated on every packet (verdict
 *   cache off) and with the default per-flow verdict cache.
 * - packets per second with XDP live frames (BPF_F_TEST_XDP_LIVE_FRAMES): a flood frame the
 *   model drops, beside an empty program that drops.
 * Both use a private data path (not the attached one), so lab traffic does not interfere.
 */
import { Exit, Mov, R0, XdpAction, loadProgram } from "../../../bpf/index.ts";
import { Mode, defaultControl, gcra, type Control } from "../control.ts";
import { NetguardDataPath } from "../datapath.ts";
import { TcpFlag } from "../layout.ts";
import { buildPacket, type PacketSpec } from "../packet.ts";
import { buildNetguardModelProgram, type NetguardModel } from "./model-program.ts";

/** What a web server's interface sees: mostly TCP data and ACKs, some UDP, IPv6, ICMP and SYNs. */
export const PACKET_MIX: readonly (readonly [number, PacketSpec])[] = [
  [0.3, { src: "10.77.1.1", dst: "10.77.0.1", l4: { kind: "tcp", sport: 40000, dport: 80, flags: TcpFlag.ACK | TcpFlag.PSH }, payload: 1400 }],
  [0.25, { src: "10.77.1.2", dst: "10.77.0.1", l4: { kind: "tcp", sport: 40001, dport: 5201, flags: TcpFlag.ACK }, payload: 0 }],
  [0.15, { src: "10.77.1.1", dst: "10.77.0.1", l4: { kind: "udp", sport: 5353, dport: 53 }, payload: 60 }],
  [0.1, { src: "fd77::1:2", dst: "fd77::1", l4: { kind: "tcp", sport: 40002, dport: 80, flags: TcpFlag.ACK }, payload: 600 }],
  [0.1, { src: "10.77.2.1", dst: "10.77.0.1", l4: { kind: "tcp", sport: 3000, dport: 80, flags: TcpFlag.SYN, win: 512 } }],
  [0.05, { src: "10.77.1.2", dst: "10.77.0.1", l4: { kind: "icmp", type: 8, id: 1 }, payload: 56 }],
  [0.05, { src: "fd77::1:1", dst: "fd77::1", l4: { kind: "udp", sport: 40003, dport: 5201 }, payload: 1200 }],
];

/** Default rules that never fire, so every packet takes the full path to the model. */
const QUIET: Partial<Control> = { ...gcra({ pps: 1e9, burst: 1e9 }), synWindowNs: 0n, heartbeatTimeoutNs: 0n };

export interface CostFigures {
  /** Model on every packet (cache off). */
  readonly nsPerPacket: number;
  /** With the per-flow verdict cache (deployed default). */
  readonly nsPerPacketCached: number;
  /** Emergency: parse, features, rules, no model. */
  readonly nsPerPacketNoModel: number;
  /** The empty XDP program on the same mix. */
  readonly emptyNsPerPacket: number;
  readonly repeat: number;
  readonly rounds: number;
  readonly modelInstructions: number;
  readonly livePps: number;
  readonly liveEmptyPps: number;
  readonly liveFrames: number;
  /** Whether the model dropped the live frame (else the figure is for a passing frame). */
  readonly liveFrameDropped: boolean;
}

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};

const yieldLoop = (): Promise<void> => new Promise((r) => setImmediate(r));

/** Weighted mean over the mix; yields between frames so the agent's heartbeat timer keeps running. */
async function mixNs(run: (f: Uint8Array) => number, frames: readonly (readonly [number, Uint8Array])[]): Promise<number> {
  let s = 0;
  for (const [w, f] of frames) {
    s += w * run(f);
    await yieldLoop();
  }
  return s;
}

/** A flood-like frame this data path drops (the last candidate when it drops none). */
function dropFrame(dp: NetguardDataPath): { frame: Uint8Array; dropped: boolean } {
  const candidates: PacketSpec[] = [
    { src: "10.77.2.1", dst: "10.77.0.1", l4: { kind: "tcp", sport: 3001, dport: 80, flags: TcpFlag.SYN, win: 512 } },
    { src: "10.77.2.1", dst: "10.77.0.1", l4: { kind: "udp", sport: 3002, dport: 53 } },
    { src: "10.77.2.1", dst: "10.77.0.1", l4: { kind: "icmp", type: 8, id: 7 }, payload: 1000 },
  ];
  let frame: Uint8Array = new Uint8Array(0);
  for (const c of candidates) {
    frame = buildPacket(c);
    if (dp.testRun(frame).retval === XdpAction.DROP) return { frame, dropped: true };
  }
  return { frame, dropped: false };
}

export async function measureCost(model: NetguardModel, o: { repeat?: number; rounds?: number; liveFrames?: number } = {}): Promise<CostFigures> {
  const repeat = o.repeat ?? 20_000;
  const rounds = o.rounds ?? 3;
  const liveFrames = o.liveFrames ?? 500_000;
  const frames = PACKET_MIX.map(([w, s]) => [w, buildPacket(s)] as const);
  using empty = loadProgram({ name: "empty_pass", type: "XDP", instructions: [Mov.imm(R0, XdpAction.PASS), Exit()] });
  using emptyDrop = loadProgram({ name: "empty_drop", type: "XDP", instructions: [Mov.imm(R0, XdpAction.DROP), Exit()] });
  const spec = buildNetguardModelProgram(model);
  const paths = {
    every: NetguardDataPath.load({ control: { ...defaultControl(), ...QUIET, mode: Mode.RECOMMENDATION, cacheMaxPkts: 0 } }),
    cached: NetguardDataPath.load({ control: { ...defaultControl(), ...QUIET, mode: Mode.RECOMMENDATION } }),
    none: NetguardDataPath.load({ control: { ...defaultControl(), ...QUIET, mode: Mode.EMERGENCY } }),
  };
  const base: number[] = [], every: number[] = [], cached: number[] = [], none: number[] = [];
  const live: number[] = [], liveEmpty: number[] = [];
  let dropped = false;
  try {
    paths.every.swapModel(paths.every.loadModel(spec));
    paths.cached.swapModel(paths.cached.loadModel(spec));
    for (let i = 0; i < rounds; i++) {
      base.push(await mixNs((f) => empty.testRun({ data: f, repeat }).nsPerRun, frames));
      every.push(await mixNs((f) => paths.every.testRun(f, repeat).nsPerRun, frames));
      cached.push(await mixNs((f) => paths.cached.testRun(f, repeat).nsPerRun, frames));
      none.push(await mixNs((f) => paths.none.testRun(f, repeat).nsPerRun, frames));
    }
    // live frames: a frame the model drops, vs an empty program dropping
    const d = dropFrame(paths.every);
    dropped = d.dropped;
    for (let i = 0; i < rounds; i++) {
      live.push(paths.every.main.testRunLive({ data: d.frame, repeat: liveFrames }).framesPerSecond);
      await yieldLoop();
      liveEmpty.push(emptyDrop.testRunLive({ data: d.frame, repeat: liveFrames }).framesPerSecond);
      await yieldLoop();
    }
  } finally {
    for (const p of Object.values(paths)) p.close();
  }
  return {
    nsPerPacket: median(every),
    nsPerPacketCached: median(cached),
    nsPerPacketNoModel: median(none),
    emptyNsPerPacket: median(base),
    repeat,
    rounds,
    modelInstructions: spec.assembled.bytes.length / 8,
    livePps: median(live),
    liveEmptyPps: median(liveEmpty),
    liveFrames,
    liveFrameDropped: dropped,
  };
}
