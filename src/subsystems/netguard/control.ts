/**
 * @module subsystems/netguard/control
 * The netguard control map: one array entry user space writes and the data path reads on
 * every packet (mode, model generation, confidence threshold, drop budget, sampling rate,
 * veto mask, default-rule parameters, agent heartbeat). This is netguard's own minimal
 * layout until the proxy core's control map lands; everything that touches the bytes goes
 * through `ControlOffset`, `encodeControl` and `decodeControl`, so swapping it is local.
 */
import { ErrorCode, KmlibError } from "../../errors.ts";

/** The four ml-lib modes as the data path numbers them. */
export const Mode = { EMERGENCY: 0, LEARNING: 1, COLLABORATION: 2, RECOMMENDATION: 3 } as const;
export type Mode = (typeof Mode)[keyof typeof Mode];
export type ModeName = Lowercase<keyof typeof Mode>;
export const MODE_NAMES: readonly ModeName[] = ["emergency", "learning", "collaboration", "recommendation"];
export const modeByName = (n: ModeName): Mode => MODE_NAMES.indexOf(n) as Mode;

export const ControlOffset = {
  MODE: 0, // u32
  GENERATION: 4, // u32: bump on every model swap (invalidates per-flow verdict caches)
  CONF_THRESHOLD: 8, // u32 per mille: collaboration trusts the model at or above this
  DROP_BUDGET: 12, // u32: model drops per second allowed in collaboration
  SAMPLE_RATE: 16, // u32 per 65536 packets sent to the ring buffer
  VETO_MASK: 20, // u32: Flag.RULE_* bits whose drops the model cannot override
  SYN_LIMIT: 24, // u32: SYNs without ACK per source per window before SYNs are dropped
  CACHE_MAX_PKTS: 28, // u32: longest run of packets served by a cached model verdict (0 = no cache)
  RATE_INTERVAL_NS: 32, // u64: GCRA emission interval, 1e9 / packets per second (0 = no rate limit)
  RATE_TOLERANCE_NS: 40, // u64: GCRA tolerance, (burst - 1) * interval
  SYN_WINDOW_NS: 48, // u64 (0 = no SYN-flood rule)
  HEARTBEAT_NS: 56, // u64: CLOCK_MONOTONIC of the agent's last heartbeat
  HEARTBEAT_TIMEOUT_NS: 64, // u64: stale heartbeat => emergency (0 = not watched)
  SIZE: 72,
} as const;

export interface Control {
  mode: Mode;
  generation: number;
  /** Per mille, 0..1000. */
  confThreshold: number;
  dropBudget: number;
  /** Per 65536 packets, 0..65536. */
  sampleRate: number;
  vetoMask: number;
  synLimit: number;
  cacheMaxPkts: number;
  rateIntervalNs: bigint;
  rateToleranceNs: bigint;
  synWindowNs: bigint;
  heartbeatNs: bigint;
  heartbeatTimeoutNs: bigint;
}

export interface RateLimit {
  /** Sustained packets per second per source. */
  readonly pps: number;
  /** Packets a source may send at once. */
  readonly burst: number;
}

/** GCRA parameters for a rate: interval = 1e9 / pps, tolerance = (burst - 1) * interval. */
export function gcra(rate: RateLimit): { rateIntervalNs: bigint; rateToleranceNs: bigint } {
  if (!(rate.pps > 0) || !Number.isInteger(rate.burst) || rate.burst < 1) {
    throw new KmlibError(ErrorCode.InvalidArgument, `invalid rate limit: ${rate.pps} pps, burst ${rate.burst}`);
  }
  const interval = BigInt(Math.max(1, Math.round(1e9 / rate.pps)));
  return { rateIntervalNs: interval, rateToleranceNs: BigInt(rate.burst - 1) * interval };
}

/** Defaults: emergency, rules at 1000 pps (burst 200) and 64 SYNs/s per source. */
export function defaultControl(): Control {
  return {
    mode: Mode.EMERGENCY,
    generation: 0,
    confThreshold: 800,
    dropBudget: 10_000,
    sampleRate: 0,
    vetoMask: 0,
    synLimit: 64,
    cacheMaxPkts: 64,
    ...gcra({ pps: 1000, burst: 200 }),
    synWindowNs: 1_000_000_000n,
    heartbeatNs: 0n,
    heartbeatTimeoutNs: 0n,
  };
}

const u32Fields = [
  ["mode", ControlOffset.MODE],
  ["generation", ControlOffset.GENERATION],
  ["confThreshold", ControlOffset.CONF_THRESHOLD],
  ["dropBudget", ControlOffset.DROP_BUDGET],
  ["sampleRate", ControlOffset.SAMPLE_RATE],
  ["vetoMask", ControlOffset.VETO_MASK],
  ["synLimit", ControlOffset.SYN_LIMIT],
  ["cacheMaxPkts", ControlOffset.CACHE_MAX_PKTS],
] as const;
const u64Fields = [
  ["rateIntervalNs", ControlOffset.RATE_INTERVAL_NS],
  ["rateToleranceNs", ControlOffset.RATE_TOLERANCE_NS],
  ["synWindowNs", ControlOffset.SYN_WINDOW_NS],
  ["heartbeatNs", ControlOffset.HEARTBEAT_NS],
  ["heartbeatTimeoutNs", ControlOffset.HEARTBEAT_TIMEOUT_NS],
] as const;

function check(ok: boolean, what: string): void {
  if (!ok) throw new KmlibError(ErrorCode.InvalidArgument, `invalid netguard control: ${what}`);
}

export function validateControl(c: Control): void {
  for (const [k] of u32Fields) check(Number.isInteger(c[k]) && c[k] >= 0 && c[k] <= 0xffffffff, `${k} = ${c[k]} is not a u32`);
  for (const [k] of u64Fields) check(c[k] >= 0n && c[k] < 1n << 63n, `${k} = ${c[k]} is out of range`);
  check(c.mode <= Mode.RECOMMENDATION, `mode ${c.mode}`);
  check(c.confThreshold <= 1000, `confThreshold ${c.confThreshold} > 1000`);
  check(c.sampleRate <= 65536, `sampleRate ${c.sampleRate} > 65536`);
}

export function encodeControl(c: Control): Uint8Array {
  validateControl(c);
  const out = new Uint8Array(ControlOffset.SIZE);
  const dv = new DataView(out.buffer);
  for (const [k, off] of u32Fields) dv.setUint32(off, c[k], true);
  for (const [k, off] of u64Fields) dv.setBigUint64(off, c[k], true);
  return out;
}

export function decodeControl(b: Uint8Array): Control {
  if (b.length < ControlOffset.SIZE) throw new KmlibError(ErrorCode.InvalidArgument, `netguard control value is ${b.length} bytes, expected ${ControlOffset.SIZE}`);
  const dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
  const c = defaultControl();
  for (const [k, off] of u32Fields) (c as unknown as Record<string, number>)[k] = dv.getUint32(off, true);
  for (const [k, off] of u64Fields) c[k] = dv.getBigUint64(off, true);
  // The data path treats an unknown mode as emergency; so does the decoder.
  if (c.mode > Mode.RECOMMENDATION) c.mode = Mode.EMERGENCY;
  return c;
}
