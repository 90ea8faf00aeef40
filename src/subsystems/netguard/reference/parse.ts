/**
 * @module subsystems/netguard/reference/parse
 * The packet parser of the netguard data path, in TypeScript, rule for rule the same as the
 * generated eBPF (gen/parse.ts): whatever the kernel treats as unparsed (non-IP, truncated,
 * malformed) returns undefined here, and everything it extracts is extracted the same way.
 *
 * Rules: Ethernet (14 bytes), then at most two VLAN tags (0x8100 / 0x88a8, 4 bytes each);
 * IPv4 needs 20 bytes, version 4, IHL >= 5 and total length >= IHL * 4; IPv6 needs 40 bytes
 * and version 6 (no extension-header walk: the next header is the protocol). Non-first IPv4
 * fragments and protocols other than TCP/UDP/ICMP/ICMPv6 carry no ports. TCP needs its 20
 * fixed bytes and data offset >= 5; UDP and ICMP/ICMPv6 (protocol 1 or 58 in either family)
 * need 8 bytes. ICMP flows have ports 0.
 */
import { FlowKey } from "../layout.ts";

export interface ParsedPacket {
  readonly family: 4 | 6;
  readonly proto: number;
  /** 16-byte addresses (IPv4 mapped). */
  readonly src: Uint8Array;
  readonly dst: Uint8Array;
  readonly sport: number;
  readonly dport: number;
  /** Layer-3 length from the IP header. */
  readonly l3len: number;
  readonly payload: number;
  readonly tcpFlags: number;
  readonly win: number;
}

const ETH_VLAN = 0x8100, ETH_QINQ = 0x88a8, ETH_IPV4 = 0x0800, ETH_IPV6 = 0x86dd;

export function parsePacket(frame: Uint8Array): ParsedPacket | undefined {
  const n = frame.length;
  const dv = new DataView(frame.buffer, frame.byteOffset, frame.byteLength);
  if (14 > n) return undefined;
  let type = dv.getUint16(12);
  let p = 14;
  for (let i = 0; i < 2; i++) {
    if (type !== ETH_VLAN && type !== ETH_QINQ) break;
    if (p + 4 > n) return undefined;
    type = dv.getUint16(p + 2);
    p += 4;
  }
  const src = new Uint8Array(16), dst = new Uint8Array(16);
  let family: 4 | 6, proto: number, l3len: number, l4len: number, l4: number | undefined;
  if (type === ETH_IPV4) {
    if (p + 20 > n) return undefined;
    if (frame[p]! >> 4 !== 4) return undefined;
    const ihl = frame[p]! & 0xf;
    if (ihl < 5) return undefined;
    const hl = ihl * 4;
    l3len = dv.getUint16(p + 2);
    if (l3len < hl) return undefined;
    family = 4;
    proto = frame[p + 9]!;
    src[10] = src[11] = dst[10] = dst[11] = 0xff;
    src.set(frame.subarray(p + 12, p + 16), 12);
    dst.set(frame.subarray(p + 16, p + 20), 12);
    l4len = l3len - hl;
    l4 = (dv.getUint16(p + 6) & 0x1fff) !== 0 ? undefined : p + hl;
  } else if (type === ETH_IPV6) {
    if (p + 40 > n) return undefined;
    if (frame[p]! >> 4 !== 6) return undefined;
    l4len = dv.getUint16(p + 4);
    l3len = l4len + 40;
    family = 6;
    proto = frame[p + 6]!;
    src.set(frame.subarray(p + 8, p + 24));
    dst.set(frame.subarray(p + 24, p + 40));
    l4 = p + 40;
  } else {
    return undefined;
  }
  let sport = 0, dport = 0, tcpFlags = 0, win = 0, hdr = 0;
  if (l4 !== undefined) {
    if (proto === 6) {
      if (l4 + 20 > n) return undefined;
      sport = dv.getUint16(l4);
      dport = dv.getUint16(l4 + 2);
      const doff = frame[l4 + 12]! >> 4;
      if (doff < 5) return undefined;
      hdr = doff * 4;
      tcpFlags = frame[l4 + 13]!;
      win = dv.getUint16(l4 + 14);
    } else if (proto === 17) {
      if (l4 + 8 > n) return undefined;
      sport = dv.getUint16(l4);
      dport = dv.getUint16(l4 + 2);
      hdr = 8;
    } else if (proto === 1 || proto === 58) {
      if (l4 + 8 > n) return undefined;
      hdr = 8;
    }
  }
  const payload = l4len < hdr ? 0 : l4len - hdr;
  return { family, proto, src, dst, sport, dport, l3len, payload, tcpFlags, win };
}

/** Lexicographic order of (address bytes, port): negative if a < b. */
function compareSide(a: Uint8Array, ap: number, b: Uint8Array, bp: number): number {
  for (let i = 0; i < 16; i++) if (a[i] !== b[i]) return a[i]! - b[i]!;
  return ap - bp;
}

/**
 * The canonical flow key: the smaller (address, port) side first, so both directions share
 * one key. `side` is 0 when the packet's source is side A. Equal sides count as side 0.
 */
export function flowKey(p: ParsedPacket): { key: Uint8Array; side: 0 | 1 } {
  const side = compareSide(p.src, p.sport, p.dst, p.dport) <= 0 ? 0 : 1;
  const key = new Uint8Array(FlowKey.SIZE);
  const dv = new DataView(key.buffer);
  const [a, ap, b, bp] = side === 0 ? [p.src, p.sport, p.dst, p.dport] : [p.dst, p.dport, p.src, p.sport];
  key.set(a, FlowKey.ADDR_A);
  key.set(b, FlowKey.ADDR_B);
  dv.setUint16(FlowKey.PORT_A, ap, true);
  dv.setUint16(FlowKey.PORT_B, bp, true);
  key[FlowKey.PROTO] = p.proto;
  key[FlowKey.FAMILY] = p.family;
  return { key, side };
}
