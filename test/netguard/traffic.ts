/**
 * @module test/netguard/traffic
 * Crafted packet sequences for netguard tests: a mix that exercises every parser path
 * (VLAN, QinQ, IPv4 options and fragments, IPv6, TCP, UDP, ICMP, ICMPv6, other protocols,
 * non-IP) in both directions of several flows.
 */
import { buildPacket, type PacketSpec } from "../../src/subsystems/netguard/packet.ts";
import { TcpFlag } from "../../src/subsystems/netguard/layout.ts";

const { SYN, ACK, PSH, FIN, RST, URG } = TcpFlag;

/** A TCP conversation: handshake, data both ways, close. */
export function tcpConversation(client: string, server: string, sport: number, dport: number, extra: Partial<PacketSpec> = {}): PacketSpec[] {
  const c = (flags: number, payload = 0, win = 64240): PacketSpec => ({ ...extra, src: client, dst: server, l4: { kind: "tcp", sport, dport, flags, win }, payload });
  const s = (flags: number, payload = 0, win = 65160): PacketSpec => ({ ...extra, src: server, dst: client, l4: { kind: "tcp", sport: dport, dport: sport, flags, win }, payload });
  return [c(SYN), s(SYN | ACK), c(ACK), c(PSH | ACK, 120), s(ACK), s(PSH | ACK, 1400), s(PSH | ACK | URG, 700), c(ACK), c(FIN | ACK), s(FIN | ACK), c(ACK)];
}

/** Every parser path, in a deterministic interleaving. */
export function mixedTraffic(): Uint8Array[] {
  const specs: PacketSpec[][] = [
    tcpConversation("10.0.0.1", "10.0.0.100", 40001, 80),
    tcpConversation("10.0.0.200", "10.0.0.100", 40002, 443, { vlans: [10] }),
    tcpConversation("fd00::1", "fd00::64", 40003, 8080),
    tcpConversation("10.0.0.2", "10.0.0.100", 40004, 22, { vlans: [100, 20], ipOptions: new Uint8Array([0x94, 4, 0, 0, 1, 1, 1, 0]) }),
    [
      { src: "10.0.0.3", dst: "10.0.0.100", l4: { kind: "udp", sport: 5353, dport: 53 }, payload: 40 },
      { src: "10.0.0.100", dst: "10.0.0.3", l4: { kind: "udp", sport: 53, dport: 5353 }, payload: 120 },
      { src: "10.0.0.3", dst: "10.0.0.100", l4: { kind: "udp", sport: 5353, dport: 53 }, payload: 0 },
    ],
    [
      { src: "10.0.0.4", dst: "10.0.0.100", l4: { kind: "icmp", type: 8, id: 7, seq: 1 }, payload: 56 },
      { src: "10.0.0.100", dst: "10.0.0.4", l4: { kind: "icmp", type: 0, id: 7, seq: 1 }, payload: 56 },
      { src: "fd00::4", dst: "fd00::64", l4: { kind: "icmp", type: 128, id: 9, seq: 1 }, payload: 16 },
      { src: "fd00::64", dst: "fd00::4", l4: { kind: "icmp", type: 129, id: 9, seq: 1 }, payload: 16 },
    ],
    [
      // Fragments: the first carries the UDP header, the next one none.
      { src: "10.0.0.5", dst: "10.0.0.100", l4: { kind: "udp", sport: 7000, dport: 7001 }, payload: 1000, moreFragments: true },
      { src: "10.0.0.5", dst: "10.0.0.100", l4: { kind: "raw", proto: 17 }, payload: 500, fragOffset: 128 },
      { src: "10.0.0.6", dst: "10.0.0.100", l4: { kind: "raw", proto: 47 }, payload: 64 },
      { src: "fd00::6", dst: "fd00::64", l4: { kind: "raw", proto: 59 }, payload: 0 },
      // RST and a lone SYN to a closed port.
      { src: "10.0.0.7", dst: "10.0.0.100", l4: { kind: "tcp", sport: 999, dport: 81, flags: SYN, win: 512 } },
      { src: "10.0.0.100", dst: "10.0.0.7", l4: { kind: "tcp", sport: 81, dport: 999, flags: RST | ACK, win: 0 } },
    ],
  ];
  const out: Uint8Array[] = [];
  const queues = specs.map((s) => [...s]);
  // Round-robin so flows interleave as on a real link.
  while (queues.some((q) => q.length)) for (const q of queues) if (q.length) out.push(buildPacket(q.shift()!));
  // Non-IP: an ARP frame.
  const arp = new Uint8Array(42);
  arp.set([0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 2, 0, 0, 0, 0, 1, 0x08, 0x06]);
  out.push(arp);
  return out;
}

/** Every prefix of a frame from 14 bytes (the test-run minimum) to its full length. */
export function truncations(frame: Uint8Array): Uint8Array[] {
  const out: Uint8Array[] = [];
  for (let n = 14; n <= frame.length; n++) out.push(frame.slice(0, n));
  return out;
}
