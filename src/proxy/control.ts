/**
 * @module proxy/control
 * The control record: what the agent tells the kernel-side proxy, in one array-map value the
 * data path reads on every decision. Layout (little-endian, 64 bytes):
 *
 *   off  size  field
 *     0   u32  mode               ModeCode (1 emergency .. 4 recommendation)
 *     4   u32  flags              reserved, 0
 *     8   u64  model_version      registry version of the deployed model, 0 = none
 *    16   u64  heartbeat_ns       agent's CLOCK_MONOTONIC at its last heartbeat (= bpf_ktime_get_ns)
 *    24   u64  heartbeat_timeout_ns
 *    32   u32  confidence_q16     collaboration threshold, confidence x 65536
 *    36   u32  budget_limit       model decisions allowed per window in collaboration
 *    40   u32  budget_window      decisions per budget window
 *    44   u32  reserved
 *    48   u64  generation         bumped by every write, for readers that want to see changes
 *    56   u64  reserved
 *
 * `effectiveMode` is the rule the kernel side applies, written once here and generated into
 * eBPF by `proxy/kernel/fragment.ts`: a stale or missing heartbeat means emergency.
 */
import { ErrorCode, KmlibError } from "../errors.ts";
import { Mode, ModeCode, modeFromCode } from "./mode.ts";

export const CONTROL_SIZE = 64;
export const ControlOffset = {
  mode: 0,
  flags: 4,
  modelVersion: 8,
  heartbeatNs: 16,
  heartbeatTimeoutNs: 24,
  confidenceQ16: 32,
  budgetLimit: 36,
  budgetWindow: 40,
  generation: 48,
} as const;

export interface Control {
  readonly mode: Mode;
  readonly modelVersion: number;
  readonly heartbeatNs: bigint;
  readonly heartbeatTimeoutNs: bigint;
  /** Collaboration confidence threshold in [0, 1]. */
  readonly confidenceThreshold: number;
  readonly budgetLimit: number;
  readonly budgetWindow: number;
  readonly generation: bigint;
}

export const toQ16 = (x: number): number => Math.max(0, Math.min(0xffff_ffff, Math.round(x * 65536)));

export function encodeControl(c: Control): Uint8Array {
  if (!Number.isSafeInteger(c.modelVersion) || c.modelVersion < 0) throw new KmlibError(ErrorCode.InvalidArgument, `control.modelVersion: must be a non-negative integer, got ${c.modelVersion}`);
  for (const k of ["budgetLimit", "budgetWindow"] as const) {
    if (!Number.isInteger(c[k]) || c[k] < 0 || c[k] > 0xffff_ffff) throw new KmlibError(ErrorCode.InvalidArgument, `control.${k}: must be a u32, got ${c[k]}`);
  }
  const out = new Uint8Array(CONTROL_SIZE);
  const dv = new DataView(out.buffer);
  dv.setUint32(ControlOffset.mode, ModeCode[c.mode], true);
  dv.setBigUint64(ControlOffset.modelVersion, BigInt(c.modelVersion), true);
  dv.setBigUint64(ControlOffset.heartbeatNs, c.heartbeatNs, true);
  dv.setBigUint64(ControlOffset.heartbeatTimeoutNs, c.heartbeatTimeoutNs, true);
  dv.setUint32(ControlOffset.confidenceQ16, toQ16(c.confidenceThreshold), true);
  dv.setUint32(ControlOffset.budgetLimit, c.budgetLimit, true);
  dv.setUint32(ControlOffset.budgetWindow, c.budgetWindow, true);
  dv.setBigUint64(ControlOffset.generation, c.generation, true);
  return out;
}

export function decodeControl(b: Uint8Array): Control {
  if (b.length < CONTROL_SIZE) throw new KmlibError(ErrorCode.InvalidArgument, `control record: expected ${CONTROL_SIZE} bytes, got ${b.length}`);
  const dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
  const code = dv.getUint32(ControlOffset.mode, true);
  return {
    // An unset (zero) or unknown mode reads as emergency, exactly as the kernel side treats it.
    mode: code >= ModeCode.emergency && code <= ModeCode.recommendation ? modeFromCode(code) : Mode.emergency,
    modelVersion: Number(dv.getBigUint64(ControlOffset.modelVersion, true)),
    heartbeatNs: dv.getBigUint64(ControlOffset.heartbeatNs, true),
    heartbeatTimeoutNs: dv.getBigUint64(ControlOffset.heartbeatTimeoutNs, true),
    confidenceThreshold: dv.getUint32(ControlOffset.confidenceQ16, true) / 65536,
    budgetLimit: dv.getUint32(ControlOffset.budgetLimit, true),
    budgetWindow: dv.getUint32(ControlOffset.budgetWindow, true),
    generation: dv.getBigUint64(ControlOffset.generation, true),
  };
}

/** Why the effective mode differs from the requested one. */
export type Fallback = "none" | "no-heartbeat" | "stale-heartbeat";

/**
 * The mode the data path uses at `nowNs` (CLOCK_MONOTONIC): the requested mode while the
 * heartbeat is fresh, emergency otherwise. Unsigned arithmetic, as in the kernel: a heartbeat
 * "in the future" wraps to a huge age and also means emergency.
 */
export function effectiveMode(c: Pick<Control, "mode" | "heartbeatNs" | "heartbeatTimeoutNs">, nowNs: bigint): { mode: Mode; fallback: Fallback } {
  if (c.heartbeatNs === 0n) return { mode: Mode.emergency, fallback: "no-heartbeat" };
  const age = BigInt.asUintN(64, nowNs - c.heartbeatNs);
  if (age > c.heartbeatTimeoutNs) return { mode: Mode.emergency, fallback: "stale-heartbeat" };
  return { mode: c.mode, fallback: "none" };
}

/** The agent's CLOCK_MONOTONIC in ns: the clock bpf_ktime_get_ns reads. */
export const monotonicNs = (): bigint => process.hrtime.bigint();
