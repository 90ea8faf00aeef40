/**
 * @module subsystems/netguard/features
 * The feature contract between the netguard kernel programs and the trainer: names, order,
 * units and exact integer definitions. The kernel writes these as NUM_FEATURES signed 64-bit
 * integers (all non-negative) at Scratch.FEATURES, after folding the current packet into its
 * flow; ring-buffer records carry the same vector. Addresses are never features.
 *
 * Definitions (n = packets so far in the flow, this one included):
 * - "fwd" is the direction of the flow's first packet (its sender is the initiator), "bwd"
 *   the other. `len` is the layer-3 length from the IP header (IPv4 total length, IPv6
 *   payload length + 40), so VLAN tags and Ethernet padding never change a feature.
 * - payload = len - IP header - L4 header (TCP data offset, 8 for UDP/ICMP/ICMPv6, 0 for
 *   other protocols and non-first IPv4 fragments), floored at 0.
 * - len_mean = floor((bytes_fwd + bytes_bwd) / n): the one division by a variable, made once
 *   per packet (n >= 1 by construction).
 * - Inter-arrival time iat = now - last (0 if the clock went backwards across CPUs). For the
 *   second packet: iat_mean = iat, iat_mad = 0. Afterwards (Jacobson/Karels, RFC 6298 gains,
 *   with `>>` an arithmetic shift on signed 64-bit values, i.e. floor):
 *     d = iat - iat_mean;  iat_mad += (|d| - iat_mad) >> 2;  iat_mean += d >> 3
 * - TCP flag counts count packets with the flag set, both directions.
 * - init_win_* = TCP window (unscaled header field) of the first packet in that direction.
 *
 * Model input. Compiled models read signed 32-bit features (compile/abi.ts, identity
 * quantization), so a model sees each feature as min(value >> modelShift, 2^31 - 1):
 * times in 1024-ns units (2^31 of them is 36 minutes), everything else as is, saturating.
 * `modelInput` is that transform, for the trainer; `shiftSaturate` is its step for one value
 * (also what the e2e path's models, which carry their own shifts, apply).
 */

import { ErrorCode, KmlibError } from "../../errors.ts";

export interface FeatureSpec {
  readonly name: string;
  readonly unit: "count" | "bytes" | "ns" | "port" | "protocol";
  readonly description: string;
  /** Right shift applied before a compiled model reads the feature (see the module comment). */
  readonly modelShift?: number;
}

/** The feature vector, in order. Append only: trained models depend on the indices. */
export const FEATURES = [
  { name: "proto", unit: "protocol", description: "IP protocol number (6 TCP, 17 UDP, 1 ICMP, 58 ICMPv6, ...)" },
  { name: "dst_port", unit: "port", description: "destination port of the flow's first packet (0 without ports)" },
  { name: "pkts_fwd", unit: "count", description: "packets from the initiator" },
  { name: "pkts_bwd", unit: "count", description: "packets towards the initiator" },
  { name: "bytes_fwd", unit: "bytes", description: "layer-3 bytes from the initiator" },
  { name: "bytes_bwd", unit: "bytes", description: "layer-3 bytes towards the initiator" },
  { name: "payload_fwd", unit: "bytes", description: "layer-4 payload bytes from the initiator" },
  { name: "payload_bwd", unit: "bytes", description: "layer-4 payload bytes towards the initiator" },
  { name: "len_min", unit: "bytes", description: "smallest layer-3 packet length" },
  { name: "len_max", unit: "bytes", description: "largest layer-3 packet length" },
  { name: "len_mean", unit: "bytes", description: "floor of total layer-3 bytes / packets" },
  { name: "iat_mean", unit: "ns", description: "EWMA (gain 1/8) of the inter-arrival time", modelShift: 10 },
  { name: "iat_mad", unit: "ns", description: "EWMA (gain 1/4) of |iat - iat_mean|", modelShift: 10 },
  { name: "syn", unit: "count", description: "packets with TCP SYN" },
  { name: "ack", unit: "count", description: "packets with TCP ACK" },
  { name: "fin", unit: "count", description: "packets with TCP FIN" },
  { name: "rst", unit: "count", description: "packets with TCP RST" },
  { name: "psh", unit: "count", description: "packets with TCP PSH" },
  { name: "urg", unit: "count", description: "packets with TCP URG" },
  { name: "init_win_fwd", unit: "bytes", description: "TCP window field of the initiator's first packet" },
  { name: "init_win_bwd", unit: "bytes", description: "TCP window field of the first packet towards the initiator" },
  { name: "flow_age", unit: "ns", description: "time from the flow's first packet to this one", modelShift: 10 },
] as const satisfies readonly FeatureSpec[];

export type FeatureName = (typeof FEATURES)[number]["name"];
export const NUM_FEATURES = FEATURES.length;
export const FEATURE_NAMES: readonly FeatureName[] = FEATURES.map((f) => f.name);

/** Index of a feature by name (a typo is a compile error). */
export function featureIndex(name: FeatureName): number {
  return FEATURE_NAMES.indexOf(name);
}

/** Bumped whenever the definition of any feature changes; models record the version they were trained on. */
export const FEATURE_CONTRACT_VERSION = 1;

export const MODEL_INPUT_MAX = 2147483647;

/** The right shift of each feature on its way into a compiled model. */
export const MODEL_SHIFTS: readonly number[] = FEATURES.map((f) => ("modelShift" in f ? f.modelShift : 0));

/** min(v >> shift, 2^31 - 1), v read as unsigned 64-bit: a feature as a model's int32 input. */
export function shiftSaturate(v: bigint, shift: number): number {
  const x = BigInt.asUintN(64, v) >> BigInt(shift);
  return x > BigInt(MODEL_INPUT_MAX) ? MODEL_INPUT_MAX : Number(x);
}

/** What a compiled model reads for feature `index` of value `v`: min(v >> shift, 2^31 - 1). */
export function modelInputValue(index: number, v: bigint): number {
  return shiftSaturate(v, MODEL_SHIFTS[index] ?? 0);
}

/**
 * A model's int32 inputs from a kernel feature vector: by default every feature in contract
 * order, or the named ones in the model's order (a compiled model's `featureNames`).
 */
export function modelInput(features: readonly bigint[], names?: readonly string[]): number[] {
  const idx = names ? names.map(featureIndexOf) : FEATURES.map((_, i) => i);
  return idx.map((i) => modelInputValue(i, features[i] ?? 0n));
}

/** Index of a feature name given at run time; throws naming the known features. */
export function featureIndexOf(name: string): number {
  const i = (FEATURE_NAMES as readonly string[]).indexOf(name);
  if (i < 0) throw new KmlibError(ErrorCode.InvalidModel, `the model reads feature "${name}", which netguard does not compute (features: ${FEATURE_NAMES.join(", ")})`);
  return i;
}
