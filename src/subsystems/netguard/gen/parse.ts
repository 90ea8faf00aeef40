/**
 * @module subsystems/netguard/gen/parse
 * eBPF fragments that parse a frame into the scratch area and build the canonical flow key.
 * Rule for rule the same as reference/parse.ts. Every packet access is preceded by the
 * verifier's bounds check (ptr + N > data_end => unparsed), with variable header lengths
 * (IPv4 IHL, TCP data offset) masked to small ranges first so the verifier can track them.
 *
 * In: R6 = context, R9 = scratch. Uses R7 (header cursor), R8 (data_end), R0-R5.
 * Out: Scratch.{SRC,DST,SPORT,DPORT,L3LEN,PAYLOAD,TCP_FLAGS,WIN,PROTO,FAMILY,SIDE,KEY}.
 */
import {
  Add, And, JEq, JGT, JLT, JNE, Ja, LoadMem, Lsh, Mov, Rsh, StoreImm, StoreMem, Sub, ToBE, label,
  R0, R2, R3, R4, R5, R6, R7, R8, R9, type AsmInput, type Register,
} from "../../../bpf/asm/index.ts";
import { FlowKey, Scratch } from "../layout.ts";
import { ATTACH, type Attach } from "./common.ts";

const L = (n: string) => `ng_p_${n}`;
/** if cursor + n > data_end goto unparsed (R2 = cursor + n). */
const need = (n: number, unparsed: string): AsmInput => [Mov.reg(R2, R7), Add.imm(R2, n), JGT.reg(R2, R8, unparsed)];
/** Host-order u16 at cursor + off into dst. */
const be16 = (dst: Register, off: number): AsmInput => [LoadMem("H", dst, R7, off), ToBE(dst, 16)];
/** Copy 16 bytes within the scratch area (4-byte aligned), through R0. */
const copy16 = (from: number, to: number): AsmInput =>
  [0, 4, 8, 12].map((i) => [LoadMem("W", R0, R9, from + i), StoreMem("W", R9, to + i, R0)]);
/** No ports, flags or window (protocols without them). */
const noL4Fields: AsmInput = [StoreImm("W", R9, Scratch.SPORT, 0), StoreImm("W", R9, Scratch.TCP_FLAGS, 0), StoreImm("W", R9, Scratch.WIN, 0)];

export function parseFragment(attach: Attach, unparsed: string): AsmInput {
  const a = ATTACH[attach];
  const vlan = (i: number): AsmInput => [
    JEq.imm(R3, 0x8100, L(`vlan${i}`)),
    JEq.imm(R3, 0x88a8, L(`vlan${i}`)),
    Ja(L("l3")),
    label(L(`vlan${i}`)),
    need(4, unparsed),
    be16(R3, 2),
    Add.imm(R7, 4),
  ];
  return [
    LoadMem("W", R7, R6, a.dataOff),
    LoadMem("W", R8, R6, a.dataEndOff),
    // Ethernet, then up to two VLAN tags (802.1Q, 802.1ad outer).
    need(14, unparsed),
    be16(R3, 12),
    Add.imm(R7, 14),
    vlan(0),
    vlan(1),
    label(L("l3")),
    JEq.imm(R3, 0x0800, L("ipv4")),
    JEq.imm(R3, 0x86dd, L("ipv6")),
    Ja(unparsed),

    label(L("ipv4")),
    need(20, unparsed),
    LoadMem("B", R3, R7, 0),
    Mov.reg(R2, R3),
    Rsh.imm(R2, 4),
    JNE.imm(R2, 4, unparsed),
    And.imm(R3, 0xf),
    JLT.imm(R3, 5, unparsed),
    Lsh.imm(R3, 2), // header bytes, 20..60
    be16(R4, 2), // total length
    JLT.reg(R4, R3, unparsed),
    StoreMem("W", R9, Scratch.L3LEN, R4),
    Sub.reg(R4, R3), // layer-4 length
    LoadMem("B", R5, R7, 9),
    StoreMem("W", R9, Scratch.PROTO, R5),
    StoreImm("W", R9, Scratch.FAMILY, 4),
    // ::ffff:a.b.c.d
    [Scratch.SRC, Scratch.DST].map((at, i) => [
      StoreImm("W", R9, at, 0),
      StoreImm("W", R9, at + 4, 0),
      StoreImm("W", R9, at + 8, -65536), // bytes 00 00 ff ff
      LoadMem("W", R0, R7, 12 + 4 * i),
      StoreMem("W", R9, at + 12, R0),
    ]),
    // A non-first fragment carries no layer-4 header.
    be16(R0, 6),
    And.imm(R0, 0x1fff),
    JNE.imm(R0, 0, L("l4_other")),
    Add.reg(R7, R3),
    Ja(L("l4")),

    label(L("ipv6")),
    need(40, unparsed),
    LoadMem("B", R3, R7, 0),
    Rsh.imm(R3, 4),
    JNE.imm(R3, 6, unparsed),
    be16(R4, 4), // payload length = layer-4 length (no extension-header walk)
    Mov.reg(R3, R4),
    Add.imm(R3, 40),
    StoreMem("W", R9, Scratch.L3LEN, R3),
    LoadMem("B", R5, R7, 6),
    StoreMem("W", R9, Scratch.PROTO, R5),
    StoreImm("W", R9, Scratch.FAMILY, 6),
    [0, 4, 8, 12].map((i) => [
      LoadMem("W", R0, R7, 8 + i),
      StoreMem("W", R9, Scratch.SRC + i, R0),
      LoadMem("W", R0, R7, 24 + i),
      StoreMem("W", R9, Scratch.DST + i, R0),
    ]),
    Add.imm(R7, 40),

    // Layer 4: R7 = header, R4 = layer-4 length, R5 = protocol. R3 = header length after.
    label(L("l4")),
    JEq.imm(R5, 6, L("tcp")),
    JEq.imm(R5, 17, L("udp")),
    JEq.imm(R5, 1, L("icmp")),
    JEq.imm(R5, 58, L("icmp")),
    label(L("l4_other")),
    noL4Fields,
    Mov.imm(R3, 0),
    Ja(L("payload")),

    label(L("tcp")),
    need(20, unparsed),
    be16(R0, 0),
    StoreMem("H", R9, Scratch.SPORT, R0),
    be16(R0, 2),
    StoreMem("H", R9, Scratch.DPORT, R0),
    LoadMem("B", R3, R7, 12),
    Rsh.imm(R3, 4),
    JLT.imm(R3, 5, unparsed),
    Lsh.imm(R3, 2),
    LoadMem("B", R0, R7, 13),
    StoreMem("W", R9, Scratch.TCP_FLAGS, R0),
    be16(R0, 14),
    StoreMem("W", R9, Scratch.WIN, R0),
    Ja(L("payload")),

    label(L("udp")),
    need(8, unparsed),
    be16(R0, 0),
    StoreMem("H", R9, Scratch.SPORT, R0),
    be16(R0, 2),
    StoreMem("H", R9, Scratch.DPORT, R0),
    StoreImm("W", R9, Scratch.TCP_FLAGS, 0),
    StoreImm("W", R9, Scratch.WIN, 0),
    Mov.imm(R3, 8),
    Ja(L("payload")),

    label(L("icmp")),
    need(8, unparsed),
    noL4Fields,
    Mov.imm(R3, 8),

    label(L("payload")),
    JLT.reg(R4, R3, L("no_payload")),
    Sub.reg(R4, R3),
    Ja(L("payload_set")),
    label(L("no_payload")),
    Mov.imm(R4, 0),
    label(L("payload_set")),
    StoreMem("W", R9, Scratch.PAYLOAD, R4),
  ];
}

/**
 * Canonical key: (address, port) sides compared as big-endian bytes then port; the smaller
 * one is side A. Scratch.SIDE = 0 when the packet's source is side A.
 */
export function flowKeyFragment(): AsmInput {
  const K = Scratch.KEY;
  return [
    [0, 4, 8, 12].map((i) => [
      LoadMem("W", R2, R9, Scratch.SRC + i),
      ToBE(R2, 32),
      LoadMem("W", R3, R9, Scratch.DST + i),
      ToBE(R3, 32),
      JLT.reg(R2, R3, L("side0")),
      JGT.reg(R2, R3, L("side1")),
    ]),
    LoadMem("H", R2, R9, Scratch.SPORT),
    LoadMem("H", R3, R9, Scratch.DPORT),
    JGT.reg(R2, R3, L("side1")),
    label(L("side0")),
    copy16(Scratch.SRC, K + FlowKey.ADDR_A),
    copy16(Scratch.DST, K + FlowKey.ADDR_B),
    LoadMem("W", R0, R9, Scratch.SPORT), // sport | dport << 16 = portA | portB << 16
    StoreMem("W", R9, K + FlowKey.PORT_A, R0),
    StoreImm("W", R9, Scratch.SIDE, 0),
    Ja(L("key_done")),
    label(L("side1")),
    copy16(Scratch.DST, K + FlowKey.ADDR_A),
    copy16(Scratch.SRC, K + FlowKey.ADDR_B),
    LoadMem("H", R0, R9, Scratch.DPORT),
    StoreMem("H", R9, K + FlowKey.PORT_A, R0),
    LoadMem("H", R0, R9, Scratch.SPORT),
    StoreMem("H", R9, K + FlowKey.PORT_B, R0),
    StoreImm("W", R9, Scratch.SIDE, 1),
    label(L("key_done")),
    LoadMem("W", R0, R9, Scratch.PROTO),
    StoreMem("B", R9, K + FlowKey.PROTO, R0),
    LoadMem("W", R0, R9, Scratch.FAMILY),
    StoreMem("B", R9, K + FlowKey.FAMILY, R0),
    StoreImm("H", R9, K + FlowKey.PAD, 0),
  ];
}
