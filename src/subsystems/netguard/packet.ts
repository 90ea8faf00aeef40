/**
 * @module subsystems/netguard/packet
 * Crafts Ethernet frames (optional 802.1Q / 802.1ad tags, IPv4 with options and fragments,
 * IPv6, TCP, UDP, ICMP, ICMPv6 or a bare protocol) for test runs and benchmarks. Checksums
 * are filled in (IPv4 header and L4) so the same frames are valid on a live link.
 */
import { ErrorCode, KmlibError } from "../../errors.ts";
import { parseAddress, wireBytes } from "./address.ts";

export type L4Spec =
  | { kind: "tcp"; sport: number; dport: number; flags: number; win?: number; seq?: number; ack?: number; options?: Uint8Array }
  | { kind: "udp"; sport: number; dport: number }
  | { kind: "icmp"; type: number; code?: number; id?: number; seq?: number }
  | { kind: "raw"; proto: number };

export interface PacketSpec {
  /** VLAN ids, outermost first (two tags: the outer is 802.1ad). */
  readonly vlans?: readonly number[];
  readonly src: string;
  readonly dst: string;
  readonly l4: L4Spec;
  /** Payload bytes or a length of zero bytes. */
  readonly payload?: Uint8Array | number;
  readonly ttl?: number;
  /** IPv4 options (padded with zeros to a multiple of 4 bytes). */
  readonly ipOptions?: Uint8Array;
  /** IPv4 fragment offset in 8-byte units, and the more-fragments bit. */
  readonly fragOffset?: number;
  readonly moreFragments?: boolean;
}

export const EtherType = { IPV4: 0x0800, IPV6: 0x86dd, VLAN: 0x8100, QINQ: 0x88a8, ARP: 0x0806 } as const;
export const IpProto = { ICMP: 1, TCP: 6, UDP: 17, ICMPV6: 58 } as const;

function csum(bytes: Uint8Array, initial = 0): number {
  let s = initial;
  for (let i = 0; i + 1 < bytes.length; i += 2) s += (bytes[i]! << 8) | bytes[i + 1]!;
  if (bytes.length % 2) s += bytes[bytes.length - 1]! << 8;
  while (s > 0xffff) s = (s & 0xffff) + (s >>> 16);
  return ~s & 0xffff;
}

function l4Header(l4: L4Spec, v6: boolean): { proto: number; header: Uint8Array; csumAt: number } {
  switch (l4.kind) {
    case "tcp": {
      const opts = l4.options ?? new Uint8Array(0);
      const optLen = Math.ceil(opts.length / 4) * 4;
      const h = new Uint8Array(20 + optLen);
      const dv = new DataView(h.buffer);
      dv.setUint16(0, l4.sport);
      dv.setUint16(2, l4.dport);
      dv.setUint32(4, (l4.seq ?? 1) >>> 0);
      dv.setUint32(8, (l4.ack ?? 0) >>> 0);
      h[12] = ((20 + optLen) / 4) << 4;
      h[13] = l4.flags & 0xff;
      dv.setUint16(14, l4.win ?? 64240);
      h.set(opts, 20);
      return { proto: IpProto.TCP, header: h, csumAt: 16 };
    }
    case "udp": {
      const h = new Uint8Array(8);
      const dv = new DataView(h.buffer);
      dv.setUint16(0, l4.sport);
      dv.setUint16(2, l4.dport);
      return { proto: IpProto.UDP, header: h, csumAt: 6 };
    }
    case "icmp": {
      const h = new Uint8Array(8);
      const dv = new DataView(h.buffer);
      h[0] = l4.type;
      h[1] = l4.code ?? 0;
      dv.setUint16(4, l4.id ?? 0);
      dv.setUint16(6, l4.seq ?? 0);
      return { proto: v6 ? IpProto.ICMPV6 : IpProto.ICMP, header: h, csumAt: 2 };
    }
    case "raw":
      return { proto: l4.proto, header: new Uint8Array(0), csumAt: -1 };
  }
}

/** Build one Ethernet frame. */
export function buildPacket(spec: PacketSpec): Uint8Array {
  const src = parseAddress(spec.src);
  const dst = parseAddress(spec.dst);
  if (src.family !== dst.family) throw new KmlibError(ErrorCode.InvalidArgument, `mixed address families: ${spec.src} -> ${spec.dst}`);
  const v6 = src.family === 6;
  const payload = typeof spec.payload === "number" ? new Uint8Array(spec.payload) : (spec.payload ?? new Uint8Array(0));
  const { proto, header, csumAt } = l4Header(spec.l4, v6);
  const l4 = new Uint8Array(header.length + payload.length);
  l4.set(header);
  l4.set(payload, header.length);
  if (spec.l4.kind === "udp") new DataView(l4.buffer).setUint16(4, l4.length);

  const s = wireBytes(src), d = wireBytes(dst);
  if (csumAt >= 0 && !(spec.l4.kind === "icmp" && !v6)) {
    const pseudo = new Uint8Array(s.length * 2 + 12);
    pseudo.set(s);
    pseudo.set(d, s.length);
    const pv = new DataView(pseudo.buffer);
    pv.setUint32(s.length * 2 + 4, l4.length);
    pv.setUint32(s.length * 2 + 8, proto);
    let sum = 0;
    for (let i = 0; i < pseudo.length; i += 2) sum += (pseudo[i]! << 8) | pseudo[i + 1]!;
    new DataView(l4.buffer).setUint16(csumAt, csum(l4, sum) || (spec.l4.kind === "udp" ? 0xffff : 0));
  } else if (csumAt >= 0) {
    new DataView(l4.buffer).setUint16(csumAt, csum(l4));
  }

  let ip: Uint8Array;
  if (v6) {
    ip = new Uint8Array(40 + l4.length);
    const dv = new DataView(ip.buffer);
    dv.setUint32(0, 0x60000000);
    dv.setUint16(4, l4.length);
    ip[6] = proto;
    ip[7] = spec.ttl ?? 64;
    ip.set(s, 8);
    ip.set(d, 24);
    ip.set(l4, 40);
  } else {
    const opts = spec.ipOptions ?? new Uint8Array(0);
    const hl = 20 + Math.ceil(opts.length / 4) * 4;
    if (hl > 60) throw new KmlibError(ErrorCode.InvalidArgument, `IPv4 options too long: ${opts.length} bytes`);
    ip = new Uint8Array(hl + l4.length);
    const dv = new DataView(ip.buffer);
    ip[0] = 0x40 | (hl / 4);
    dv.setUint16(2, ip.length);
    dv.setUint16(4, 0x1234);
    dv.setUint16(6, ((spec.moreFragments ? 1 : 0) << 13) | ((spec.fragOffset ?? 0) & 0x1fff));
    ip[8] = spec.ttl ?? 64;
    ip[9] = proto;
    ip.set(s, 12);
    ip.set(d, 16);
    ip.set(opts, 20);
    dv.setUint16(10, csum(ip.subarray(0, hl)));
    ip.set(l4, hl);
  }

  const vlans = spec.vlans ?? [];
  if (vlans.length > 2) throw new KmlibError(ErrorCode.InvalidArgument, `at most two VLAN tags, got ${vlans.length}`);
  const frame = new Uint8Array(14 + 4 * vlans.length + ip.length);
  const fv = new DataView(frame.buffer);
  frame.set([0x02, 0, 0, 0, 0, 0x02, 0x02, 0, 0, 0, 0, 0x01], 0);
  let p = 12;
  vlans.forEach((id, i) => {
    fv.setUint16(p, vlans.length === 2 && i === 0 ? EtherType.QINQ : EtherType.VLAN);
    fv.setUint16(p + 2, id & 0x0fff);
    p += 4;
  });
  fv.setUint16(p, v6 ? EtherType.IPV6 : EtherType.IPV4);
  frame.set(ip, p + 2);
  return frame;
}

/** Pad a frame to the 60-byte Ethernet minimum, as a NIC would. */
export function padFrame(frame: Uint8Array): Uint8Array {
  if (frame.length >= 60) return frame;
  const out = new Uint8Array(60);
  out.set(frame);
  return out;
}
