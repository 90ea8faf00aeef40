/**
 * @module subsystems/netguard/address
 * IP addresses in netguard's 16-byte form (IPv4 as ::ffff:a.b.c.d, the form every map key
 * uses) and prefixes for the allowlist. Text parsing and printing, no DNS.
 */
import { isIPv4, isIPv6 } from "node:net";
import { ErrorCode, KmlibError } from "../../errors.ts";

export interface Address {
  readonly family: 4 | 6;
  /** 16 bytes; IPv4 mapped as ::ffff:a.b.c.d. */
  readonly bytes: Uint8Array;
}

const bad = (text: string, why: string) => new KmlibError(ErrorCode.InvalidArgument, `invalid address "${text}": ${why}`);

function v4Bytes(text: string): number[] {
  return text.split(".").map(Number);
}

function v6Bytes(text: string): number[] {
  let s = text;
  const tail: number[] = [];
  const lastColon = s.lastIndexOf(":");
  if (s.slice(lastColon + 1).includes(".")) {
    tail.push(...v4Bytes(s.slice(lastColon + 1)));
    s = s.slice(0, lastColon + 1) + "0:0";
  }
  const [head, rest] = s.split("::") as [string, string | undefined];
  const groups = (x: string) => (x === "" ? [] : x.split(":").map((g) => parseInt(g, 16)));
  const h = groups(head);
  const r = rest === undefined ? [] : groups(rest);
  const fill = 8 - h.length - r.length;
  const all = [...h, ...Array<number>(rest === undefined ? 0 : fill).fill(0), ...r];
  const out: number[] = [];
  for (const g of all) out.push(g >> 8, g & 0xff);
  if (tail.length === 4) out.splice(12, 4, ...tail);
  return out;
}

export function parseAddress(text: string): Address {
  const bytes = new Uint8Array(16);
  if (isIPv4(text)) {
    bytes[10] = 0xff;
    bytes[11] = 0xff;
    bytes.set(v4Bytes(text), 12);
    return { family: 4, bytes };
  }
  if (isIPv6(text)) {
    bytes.set(v6Bytes(text.replace(/%.*$/, "")));
    return { family: 6, bytes };
  }
  throw bad(text, "neither IPv4 nor IPv6");
}

/** The 4 raw bytes of an IPv4 address, or the 16 of an IPv6 one (packet order). */
export function wireBytes(a: Address): Uint8Array {
  return a.family === 4 ? a.bytes.slice(12) : a.bytes.slice();
}

export function formatAddress(bytes: Uint8Array, family?: 4 | 6): string {
  const mapped = bytes.slice(0, 10).every((b) => b === 0) && bytes[10] === 0xff && bytes[11] === 0xff;
  if (family === 4 || (family === undefined && mapped)) return [...bytes.slice(12, 16)].join(".");
  const groups: string[] = [];
  for (let i = 0; i < 16; i += 2) groups.push(((bytes[i]! << 8) | bytes[i + 1]!).toString(16));
  // Compress the longest run of zero groups (RFC 5952).
  let best = -1, bestLen = 0;
  for (let i = 0; i < 8; ) {
    let j = i;
    while (j < 8 && groups[j] === "0") j++;
    if (j - i > bestLen && j - i > 1) [best, bestLen] = [i, j - i];
    i = j === i ? i + 1 : j;
  }
  if (best < 0) return groups.join(":");
  return `${groups.slice(0, best).join(":")}::${groups.slice(best + bestLen).join(":")}`;
}

export interface Prefix {
  readonly address: Address;
  /** Prefix length over the 16-byte form (IPv4 /p becomes 96 + p). */
  readonly bits: number;
}

/** "10.0.0.0/8", "fd00::/64" or a bare address (a host prefix). */
export function parsePrefix(text: string): Prefix {
  const [addr, len] = text.split("/") as [string, string | undefined];
  const address = parseAddress(addr);
  const max = address.family === 4 ? 32 : 128;
  const n = len === undefined ? max : Number(len);
  if (!Number.isInteger(n) || n < 0 || n > max) throw bad(text, `prefix length must be 0..${max}`);
  return { address, bits: address.family === 4 ? 96 + n : n };
}
