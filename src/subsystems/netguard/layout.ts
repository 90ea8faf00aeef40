/**
 * @module subsystems/netguard/layout
 * Byte layouts of every structure the netguard eBPF programs share with user space: the
 * canonical flow key, per-flow state, per-source state, the per-CPU scratch area (whose first
 * RECORD_SIZE bytes are the ring-buffer flow record), the statistics counters, the drop-budget
 * window and the allowlist key. One place, so the generator, the reference and the readers
 * can never disagree. All integers are little-endian (the machine's order), ports and TCP
 * windows in host order, addresses as 16 bytes (IPv4 as ::ffff:a.b.c.d).
 */
import { NUM_FEATURES } from "./features.ts";

/** Canonical bidirectional flow key (the smaller (address, port) side first). */
export const FlowKey = {
  ADDR_A: 0,
  ADDR_B: 16,
  PORT_A: 32, // u16
  PORT_B: 34, // u16
  PROTO: 36, // u8
  FAMILY: 37, // u8: 4 or 6
  PAD: 38, // u16, always 0
  SIZE: 40,
} as const;

/** Per-flow state (LRU hash value). u64 unless noted; *_BWD = *_FWD + 8 (indexed by direction). */
export const FlowState = {
  FIRST_NS: 0,
  LAST_NS: 8,
  PKTS_FWD: 16,
  PKTS_BWD: 24,
  BYTES_FWD: 32,
  BYTES_BWD: 40,
  PAYLOAD_FWD: 48,
  PAYLOAD_BWD: 56,
  LEN_MIN: 64,
  LEN_MAX: 72,
  IAT_MEAN: 80,
  IAT_MAD: 88,
  SYN: 96,
  ACK: 104,
  FIN: 112,
  RST: 120,
  PSH: 128,
  URG: 136,
  INIT_WIN_FWD: 144,
  INIT_WIN_BWD: 152,
  DST_PORT: 160, // u32
  PROTO: 164, // u32
  INIT_SIDE: 168, // u32: key side (0 = A) of the flow's first packet's source
  PAD: 172, // u32
  CACHE_VERDICT: 176, // u32: cached model verdict (0 pass, 1 drop)
  CACHE_CONF: 180, // u32: its confidence, per mille
  CACHE_GEN: 184, // u32: model generation that produced it
  CACHE_NEXT: 188, // u32: re-evaluate once the flow's packet count reaches this
  SIZE: 192,
} as const;

/** TCP flag bits and the flow-state counter each one feeds, in feature order. */
export const TcpFlagCounters = [
  { bit: 1, offset: FlowState.SYN, name: "syn" }, // 0x02
  { bit: 4, offset: FlowState.ACK, name: "ack" }, // 0x10
  { bit: 0, offset: FlowState.FIN, name: "fin" }, // 0x01
  { bit: 2, offset: FlowState.RST, name: "rst" }, // 0x04
  { bit: 3, offset: FlowState.PSH, name: "psh" }, // 0x08
  { bit: 5, offset: FlowState.URG, name: "urg" }, // 0x20
] as const;
export const TcpFlag = { FIN: 0x01, SYN: 0x02, RST: 0x04, PSH: 0x08, ACK: 0x10, URG: 0x20 } as const;

/** Per-source state of the default rules (LRU hash keyed by the 16-byte source address). */
export const SourceState = {
  /** GCRA theoretical arrival time, ns. */
  TAT: 0,
  SYN_WINDOW_START: 8,
  SYN_COUNT: 16,
  SIZE: 24,
} as const;
export const SOURCE_KEY_SIZE = 16;

/** Allowlist LPM-trie key: prefix length in bits (over the 16-byte form), then the address. */
export const AllowKey = { PREFIXLEN: 0, ADDR: 4, SIZE: 20 } as const;

/**
 * The per-CPU scratch area. Bytes [0, RECORD_SIZE) are the flow record sent to user space
 * as is; the model program reads FEATURES and writes MODEL_VERDICT / MODEL_CONF.
 */
export const Scratch = {
  TS: 0, // u64, bpf_ktime_get_ns() of the packet
  KEY: 8, // FlowKey.SIZE bytes
  MODE: 48, // u32: effective mode for this packet
  DEFAULT_VERDICT: 52, // u32
  MODEL_VERDICT: 56, // u32 (valid when Flag.MODEL_RAN)
  MODEL_CONF: 60, // u32 per mille
  FINAL_VERDICT: 64, // u32
  SOURCE: 68, // u32: DecisionSource
  FLAGS: 72, // u32: Flag bits
  GENERATION: 76, // u32: model generation in force
  FEATURES: 80, // NUM_FEATURES x i64
  // Not sent: packet facts the parser fills.
  ALLOW_KEY: 256, // AllowKey: u32 prefixlen (=128) then SRC
  SRC: 260,
  DST: 276,
  SPORT: 292, // u16
  DPORT: 294, // u16
  L3LEN: 296, // u32
  PAYLOAD: 300, // u32
  TCP_FLAGS: 304, // u32
  WIN: 308, // u32
  PROTO: 312, // u32
  FAMILY: 316, // u32
  SIDE: 320, // u32
  DIR: 324, // u32
  // Compiled models (gen/compiled.ts): int32 inputs and scores.
  MODEL_X: 336, // NUM_FEATURES x i32
  MODEL_SCORES: 424, // MAX_MODEL_SCORES x i32
  SIZE: 488,
} as const;
export const MAX_MODEL_SCORES = 16;
if (Scratch.MODEL_X + 4 * NUM_FEATURES > Scratch.MODEL_SCORES || Scratch.MODEL_SCORES + 4 * MAX_MODEL_SCORES > Scratch.SIZE) {
  throw new Error("netguard layout: model areas overlap");
}
export const RECORD_SIZE = Scratch.FEATURES + 8 * NUM_FEATURES;
if (RECORD_SIZE !== Scratch.ALLOW_KEY) throw new Error(`netguard layout: record size ${RECORD_SIZE} overlaps the packet facts`);

export const Verdict = { PASS: 0, DROP: 1 } as const;
export type Verdict = (typeof Verdict)[keyof typeof Verdict];

/** Who decided a packet. */
export const DecisionSource = {
  ALLOWLIST: 0,
  DEFAULT: 1,
  MODEL: 2,
  /** A default rule in the control map's veto mask overrode the model. */
  GUARD: 3,
  /** The model wanted to drop but the per-second drop budget was spent: the default decided. */
  BUDGET: 4,
  /** The mode wanted the model but none is installed: the default decided. */
  NO_MODEL: 5,
} as const;
export type DecisionSource = (typeof DecisionSource)[keyof typeof DecisionSource];
export const NUM_SOURCES = 6;

/** Bits of Scratch.FLAGS (and of the record). RULE_* bits double as the control veto mask. */
export const Flag = {
  MODEL_RAN: 1 << 0,
  CACHED: 1 << 1,
  ALLOW: 1 << 2,
  DIR_BWD: 1 << 3,
  MODEL_MISSING: 1 << 4,
  HEARTBEAT_LOST: 1 << 5,
  /** The per-source rate limit fired. */
  RULE_RATE: 1 << 6,
  /** The SYN-flood rule fired. */
  RULE_SYN: 1 << 7,
  NEW_FLOW: 1 << 8,
} as const;
export const RULE_MASK = Flag.RULE_RATE | Flag.RULE_SYN;

/** Counter indices in the per-CPU stats value (u64 each). */
export const Counter = {
  /** decisions[source][verdict] at DECISIONS + source * 2 + verdict. */
  DECISIONS: 0,
  /** opinions[default][model] at OPINIONS + default * 2 + model, when the model answered. */
  OPINIONS: 12,
  PACKETS: 16,
  UNPARSED: 17,
  MODEL_EVALS: 18,
  MODEL_CACHED: 19,
  MODEL_MISSING: 20,
  HEARTBEAT_LOST: 21,
  SAMPLED: 22,
  RINGBUF_FAIL: 23,
  FLOW_FAIL: 24,
  DECIDE_MISSING: 25,
  /** packets per effective mode at MODES + mode. */
  MODES: 26,
  COUNT: 30,
} as const;
export const STATS_SIZE = Counter.COUNT * 8;

/** The collaboration drop-budget window (one global array entry). */
export const Budget = { WINDOW_START: 0, DROPS: 8, SIZE: 16 } as const;

/** PROG_ARRAY slots. */
export const ProgSlot = { MODEL: 0, DECIDE: 1, COUNT: 2 } as const;

/** Model program result in r0: class in bits 0..15 (0 = benign), confidence per mille in bits 16..31. */
export const ModelAbi = { CLASS_MASK: 0xffff, CONF_SHIFT: 16, CONF_MAX: 1000 } as const;
