import { test, describe } from "node:test";
import assert from "node:assert/strict";
import { parsePacket, flowKey } from "../../src/subsystems/netguard/reference/parse.ts";
import { flowFeatures, newFlow, updateFlow, encodeFlowState, decodeFlowState } from "../../src/subsystems/netguard/reference/flow.ts";
import { applyRules, newSource } from "../../src/subsystems/netguard/reference/rules.ts";
import { buildPacket } from "../../src/subsystems/netguard/packet.ts";
import { parseAddress, formatAddress, parsePrefix } from "../../src/subsystems/netguard/address.ts";
import { defaultControl, gcra } from "../../src/subsystems/netguard/control.ts";
import { Flag, TcpFlag } from "../../src/subsystems/netguard/layout.ts";
import { featureIndex } from "../../src/subsystems/netguard/features.ts";
import { mixedTraffic, tcpConversation, truncations } from "./traffic.ts";

const syn = (src: string, sport: number, dst = "10.0.0.100", dport = 80) =>
  parsePacket(buildPacket({ src, dst, l4: { kind: "tcp", sport, dport, flags: TcpFlag.SYN } }))!;

describe("addresses", () => {
  test("IPv4 maps to ::ffff:a.b.c.d and prints back", () => {
    const a = parseAddress("192.0.2.7");
    assert.deepEqual([...a.bytes.slice(10)], [0xff, 0xff, 192, 0, 2, 7]);
    assert.equal(formatAddress(a.bytes), "192.0.2.7");
  });
  test("IPv6 forms round-trip through the canonical text", () => {
    for (const t of ["fd00::1", "2001:db8:0:1::", "::1", "fe80::1:2:3:4", "2001:db8:1:2:3:4:5:6"]) {
      assert.equal(formatAddress(parseAddress(t).bytes, 6), t);
    }
  });
  test("prefixes count bits over the 16-byte form and reject bad lengths", () => {
    assert.equal(parsePrefix("10.0.0.0/8").bits, 104);
    assert.equal(parsePrefix("fd00::/64").bits, 64);
    assert.equal(parsePrefix("10.1.2.3").bits, 128);
    assert.throws(() => parsePrefix("10.0.0.0/33"), /prefix length/);
    assert.throws(() => parseAddress("10.0.0"), /invalid address/);
  });
});

describe("reference parser", () => {
  test("reads every layer of a VLAN-tagged IPv4 TCP frame with options", () => {
    const f = buildPacket({
      vlans: [5, 6], src: "10.1.1.1", dst: "10.2.2.2", ipOptions: new Uint8Array([1, 1, 1, 1]),
      l4: { kind: "tcp", sport: 1000, dport: 443, flags: TcpFlag.SYN, win: 1234 }, payload: 10,
    });
    const p = parsePacket(f)!;
    assert.equal(p.family, 4);
    assert.equal(p.proto, 6);
    assert.equal(p.sport, 1000);
    assert.equal(p.dport, 443);
    assert.equal(p.win, 1234);
    assert.equal(p.l3len, 24 + 20 + 10); // header with 4 option bytes, TCP, payload
    assert.equal(p.payload, 10);
    assert.equal(formatAddress(p.src), "10.1.1.1");
    assert.equal(p.l3len, f.length - 14 - 8);
  });

  test("IPv6 UDP and ICMPv6; ICMP has no ports", () => {
    const u = parsePacket(buildPacket({ src: "fd00::1", dst: "fd00::2", l4: { kind: "udp", sport: 53, dport: 9 }, payload: 3 }))!;
    assert.deepEqual([u.family, u.proto, u.sport, u.dport, u.l3len, u.payload], [6, 17, 53, 9, 40 + 8 + 3, 3]);
    const i = parsePacket(buildPacket({ src: "fd00::1", dst: "fd00::2", l4: { kind: "icmp", type: 128, id: 5 }, payload: 4 }))!;
    assert.deepEqual([i.proto, i.sport, i.dport, i.payload], [58, 0, 0, 4]);
  });

  test("a non-first fragment has no layer-4 fields; its whole IP payload counts", () => {
    const p = parsePacket(buildPacket({ src: "10.0.0.1", dst: "10.0.0.2", l4: { kind: "raw", proto: 6 }, payload: 30, fragOffset: 10 }))!;
    assert.deepEqual([p.proto, p.sport, p.dport, p.tcpFlags, p.payload], [6, 0, 0, 0, 30]);
  });

  test("non-IP, bad versions and header lengths are unparsed", () => {
    const f = buildPacket({ src: "10.0.0.1", dst: "10.0.0.2", l4: { kind: "udp", sport: 1, dport: 2 } });
    const arp = f.slice();
    arp[13] = 0x06;
    assert.equal(parsePacket(arp), undefined);
    const v5 = f.slice();
    v5[14] = 0x55;
    assert.equal(parsePacket(v5), undefined);
    const ihl4 = f.slice();
    ihl4[14] = 0x44;
    assert.equal(parsePacket(ihl4), undefined);
    const short = f.slice();
    short[16] = 0;
    short[17] = 10; // total length below the header
    assert.equal(parsePacket(short), undefined);
  });

  test("truncated frames are unparsed until their needed headers are whole, and never throw", () => {
    for (const frame of mixedTraffic()) {
      const full = parsePacket(frame);
      for (const t of truncations(frame)) {
        const p = parsePacket(t);
        if (p) assert.deepEqual(p, full, "a parse of a prefix equals the parse of the whole frame");
      }
    }
  });

  test("both directions share one canonical key, with opposite sides", () => {
    const [a, b] = tcpConversation("10.9.9.9", "10.0.0.1", 5555, 80).map((s) => parsePacket(buildPacket(s))!);
    const ka = flowKey(a!), kb = flowKey(b!);
    assert.deepEqual(ka.key, kb.key);
    assert.notEqual(ka.side, kb.side);
    assert.equal(ka.side, 1, "10.9.9.9 sorts after 10.0.0.1");
  });
});

describe("reference flow arithmetic", () => {
  test("counts, lengths, flags and the initiator's direction", () => {
    const f = newFlow();
    const pkts = tcpConversation("10.0.0.9", "10.0.0.1", 4000, 80).map((s) => parsePacket(buildPacket(s))!);
    let t = 1_000n;
    for (const p of pkts) updateFlow(f, p, flowKey(p).side, (t += 1000n));
    const x = flowFeatures(f);
    const fwd = pkts.filter((p) => p.sport === 4000), bwd = pkts.filter((p) => p.sport === 80);
    const sum = (ps: typeof pkts, k: "l3len" | "payload") => BigInt(ps.reduce((s, p) => s + p[k], 0));
    assert.equal(x[featureIndex("pkts_fwd")], BigInt(fwd.length));
    assert.equal(x[featureIndex("pkts_bwd")], BigInt(bwd.length));
    assert.equal(x[featureIndex("bytes_fwd")], sum(fwd, "l3len"));
    assert.equal(x[featureIndex("payload_bwd")], sum(bwd, "payload"));
    assert.equal(x[featureIndex("dst_port")], 80n);
    assert.equal(x[featureIndex("len_min")], BigInt(Math.min(...pkts.map((p) => p.l3len))));
    assert.equal(x[featureIndex("len_max")], BigInt(Math.max(...pkts.map((p) => p.l3len))));
    assert.equal(x[featureIndex("len_mean")], (sum(fwd, "l3len") + sum(bwd, "l3len")) / BigInt(pkts.length));
    assert.equal(x[featureIndex("syn")], 2n);
    assert.equal(x[featureIndex("fin")], 2n);
    assert.equal(x[featureIndex("urg")], 1n);
    assert.equal(x[featureIndex("ack")], BigInt(pkts.filter((p) => p.tcpFlags & TcpFlag.ACK).length));
    assert.equal(x[featureIndex("init_win_fwd")], 64240n);
    assert.equal(x[featureIndex("init_win_bwd")], 65160n);
    assert.equal(x[featureIndex("flow_age")], 1000n * BigInt(pkts.length - 1));
    // Constant gaps: the EWMA mean sits on the gap and the deviation stays 0.
    assert.equal(x[featureIndex("iat_mean")], 1000n);
    assert.equal(x[featureIndex("iat_mad")], 0n);
  });

  test("inter-arrival EWMA follows the documented recurrences (floor shifts)", () => {
    const f = newFlow();
    const p = syn("10.0.0.1", 1);
    const times = [0n, 800n, 1000n, 4000n, 4100n];
    for (const t of times) updateFlow(f, p, 0, t);
    let mean = 800n, mad = 0n;
    for (const iat of [200n, 3000n, 100n]) {
      const d = iat - mean;
      const abs = d < 0n ? -d : d;
      const floorShift = (v: bigint, s: bigint) => (v >= 0n ? v >> s : -((-v + (1n << s) - 1n) >> s));
      mad += floorShift(abs - mad, 2n);
      mean += floorShift(d, 3n);
    }
    assert.equal(f.iatMean, mean);
    assert.equal(f.iatMad, mad);
    assert.ok(f.iatMad > 0n);
  });

  test("a clock going backwards gives an inter-arrival of 0, not a huge number", () => {
    const f = newFlow();
    const p = syn("10.0.0.1", 1);
    updateFlow(f, p, 0, 5000n);
    updateFlow(f, p, 0, 4000n);
    assert.equal(f.iatMean, 0n);
  });

  test("flow state encodes and decodes losslessly", () => {
    const f = newFlow();
    for (const s of tcpConversation("10.0.0.9", "10.0.0.1", 4000, 80)) {
      const p = parsePacket(buildPacket(s))!;
      updateFlow(f, p, flowKey(p).side, 12345n + BigInt(s.l4.kind.length));
    }
    f.cacheNext = 7;
    assert.deepEqual(decodeFlowState(encodeFlowState(f)), f);
  });
});

describe("reference default rules", () => {
  test("GCRA lets a burst through, then one packet per interval", () => {
    const c = { ...defaultControl(), ...gcra({ pps: 1000, burst: 5 }), synWindowNs: 0n };
    const s = newSource();
    const p = syn("10.0.0.1", 1);
    const fired = Array.from({ length: 8 }, () => applyRules(s, p, 10_000_000n, c));
    assert.deepEqual(fired.map((f) => f !== 0), [false, false, false, false, false, true, true, true]);
    // One interval later exactly one more conforms.
    assert.equal(applyRules(s, p, 11_000_000n, c), 0);
    assert.equal(applyRules(s, p, 11_000_000n, c), Flag.RULE_RATE);
  });

  test("SYN flood: SYNs beyond the limit in a window fire; SYN-ACKs and new windows do not", () => {
    const c = { ...defaultControl(), rateIntervalNs: 0n, synLimit: 3, synWindowNs: 1_000_000n };
    const s = newSource();
    const fired = [1, 2, 3, 4, 5].map((i) => applyRules(s, syn("10.0.0.1", i), 5_000_000n, c));
    assert.deepEqual(fired, [0, 0, 0, Flag.RULE_SYN, Flag.RULE_SYN]);
    const synAck = parsePacket(buildPacket({ src: "10.0.0.1", dst: "10.0.0.2", l4: { kind: "tcp", sport: 1, dport: 2, flags: TcpFlag.SYN | TcpFlag.ACK } }))!;
    assert.equal(applyRules(s, synAck, 5_000_001n, c), 0);
    assert.equal(applyRules(s, syn("10.0.0.1", 9), 6_000_000n, c), 0, "a new window starts the count again");
  });
});
