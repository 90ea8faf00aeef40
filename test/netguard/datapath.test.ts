import { test, describe } from "node:test";
import assert from "node:assert/strict";
import { requires } from "../helpers/kernel.ts";
import { Harness } from "./harness.ts";
import { mixedTraffic, tcpConversation, truncations } from "./traffic.ts";
import { buildPacket } from "../../src/subsystems/netguard/packet.ts";
import { parsePacket } from "../../src/subsystems/netguard/reference/parse.ts";
import { Mode, gcra } from "../../src/subsystems/netguard/control.ts";
import { DecisionSource, Flag, TcpFlag, Verdict } from "../../src/subsystems/netguard/layout.ts";
import { formatAddress } from "../../src/subsystems/netguard/address.ts";
import { featureIndex } from "../../src/subsystems/netguard/features.ts";

const synFrom = (src: string, sport: number) => buildPacket({ src, dst: "10.0.0.100", l4: { kind: "tcp", sport, dport: 80, flags: TcpFlag.SYN, win: 512 } });
/**
 * The kernel's skb test-run (tc) refuses an IPv4 or IPv6 frame whose IP header is cut short
 * (EINVAL before the program runs); XDP test-run takes any frame of 14 bytes or more.
 */
function skbTestRunRefuses(frame: Uint8Array): boolean {
  const type = (frame[12]! << 8) | frame[13]!;
  return (type === 0x0800 && frame.length < 14 + 20) || (type === 0x86dd && frame.length < 14 + 40);
}
/** Rules loose enough never to fire. */
const quietRules = { ...gcra({ pps: 1e6, burst: 1e6 }), synWindowNs: 0n };

for (const attach of ["xdp", "tc"] as const) {
  describe(`netguard data path (${attach})`, () => {
    test("parses every frame kind; features, records and flow state match the reference bit for bit", (t) => {
      if (!requires(t, "bpf")) return;
      using h = new Harness(attach, quietRules);
      const frames = mixedTraffic();
      const sent = h.sendAll(frames);
      assert.equal(sent.filter((s) => s.record).length, frames.length - 1, "all but the ARP frame are parsed");
      assert.ok(sent.some((s) => (s.record?.flags ?? 0) & Flag.DIR_BWD), "some packets go backwards");
      h.checkState();
      // The same again under learning with a model, so the model and cache paths run too.
      h.setMode(Mode.LEARNING);
      h.setModel({ feature: "dst_port", threshold: 1000 });
      h.sendAll(frames);
      h.sendAll(frames);
      h.checkState();
      const st = h.dp.stats();
      assert.ok(st.modelEvals > 0n && st.modelCached > 0n, "the cache served some packets");
    });

    test("truncated frames pass and never crash; unparsed exactly where the reference says", (t) => {
      if (!requires(t, "bpf")) return;
      using h = new Harness(attach, quietRules);
      const kinds = mixedTraffic().filter((_, i) => i % 3 === 0);
      let unparsed = 0;
      for (const f of kinds) {
        for (const cut of truncations(f)) {
          if (attach === "tc" && skbTestRunRefuses(cut)) continue;
          const s = h.send(cut);
          if (!parsePacket(cut)) {
            unparsed++;
            assert.equal(s.verdict, Verdict.PASS);
          }
        }
      }
      assert.ok(unparsed > 100, `only ${unparsed} unparsed cuts`);
      assert.equal(h.dp.stats().unparsed, BigInt(unparsed));
      h.checkState();
    });

    test("default rules drop a SYN flood from one source while other sources pass", (t) => {
      if (!requires(t, "bpf")) return;
      using h = new Harness(attach, { ...gcra({ pps: 1e6, burst: 1e6 }), synLimit: 20, synWindowNs: 10_000_000_000n });
      const attacker: boolean[] = [];
      const benign: boolean[] = [];
      for (let i = 0; i < 200; i++) {
        attacker.push(h.send(synFrom("10.66.0.1", 1000 + i)).verdict === Verdict.DROP);
        if (i % 20 === 0) {
          for (const s of tcpConversation(`10.0.1.${i / 20 + 1}`, "10.0.0.100", 2000 + i, 80)) {
            benign.push(h.send(buildPacket(s)).verdict === Verdict.DROP);
          }
        }
      }
      assert.equal(attacker.filter(Boolean).length, 180, "everything past the limit of 20 is dropped");
      assert.equal(benign.filter(Boolean).length, 0);
      h.checkState();
    });

    test("the per-source rate limit drops a burst beyond its allowance", (t) => {
      if (!requires(t, "bpf")) return;
      using h = new Harness(attach, { ...gcra({ pps: 1, burst: 10 }), synWindowNs: 0n });
      const frame = buildPacket({ src: "10.5.5.5", dst: "10.0.0.100", l4: { kind: "udp", sport: 1, dport: 2 }, payload: 10 });
      const drops = h.sendAll(Array.from({ length: 30 }, () => frame)).filter((s) => s.verdict === Verdict.DROP).length;
      assert.equal(drops, 20);
      assert.equal(h.send(buildPacket({ src: "10.5.5.6", dst: "10.0.0.100", l4: { kind: "udp", sport: 1, dport: 2 } })).verdict, Verdict.PASS);
      h.checkState();
    });

    test("each mode: who decides, and the allowlist over a model drop", (t) => {
      if (!requires(t, "bpf")) return;
      using h = new Harness(attach, { ...quietRules, confThreshold: 800 });
      h.setModel({ feature: "dst_port", threshold: 1000, confidence: 900 }); // flags flows to ports > 1000
      let port = 31000;
      const to8080 = () => tcpConversation("10.0.2.1", "10.0.0.100", port++, 8080).map(buildPacket);
      const to80 = () => tcpConversation("10.0.2.2", "10.0.0.100", port++, 80).map(buildPacket);
      const run = () => {
        const frames = [...to8080(), ...to80()];
        return h.sendAll(frames).map((x, i) => ({ ...x, src: formatAddress(parsePacket(frames[i]!)!.src) }));
      };

      h.setMode(Mode.EMERGENCY);
      let s = run();
      assert.ok(s.every((x) => x.verdict === Verdict.PASS && !(x.record!.flags & Flag.MODEL_RAN)), "emergency: default only, no model");
      h.setMode(Mode.LEARNING);
      s = run();
      assert.ok(s.every((x) => x.verdict === Verdict.PASS && x.record!.source === DecisionSource.DEFAULT), "learning: the default decides");
      assert.ok(s.some((x) => x.record!.modelVerdict === Verdict.DROP), "the model's shadow opinion is reported");
      for (const mode of [Mode.COLLABORATION, Mode.RECOMMENDATION]) {
        h.setMode(mode);
        s = run();
        const dropped = s.filter((x) => x.verdict === Verdict.DROP);
        assert.equal(dropped.length, 11, "the conversation to 8080 is dropped");
        assert.ok(dropped.every((x) => x.record!.source === DecisionSource.MODEL), "the model dropped them");
      }
      // Below the confidence threshold collaboration leaves it to the default; recommendation does not.
      h.setControl({ confThreshold: 950, mode: Mode.COLLABORATION });
      assert.ok(run().every((x) => x.verdict === Verdict.PASS && x.record!.source === DecisionSource.DEFAULT), "unconfident: the default decides");
      h.setMode(Mode.RECOMMENDATION);
      assert.equal(run().filter((x) => x.verdict === Verdict.DROP).length, 11);
      // The allowlist (by source address) wins over the model: first the clients, then the server too.
      h.allow("10.0.2.0/24");
      s = run();
      const fromClients = s.filter((x) => x.src !== "10.0.0.100");
      assert.ok(fromClients.length === 12 && fromClients.every((x) => x.verdict === Verdict.PASS && x.record!.source === DecisionSource.ALLOWLIST), "allowlisted clients pass");
      assert.equal(s.filter((x) => x.verdict === Verdict.DROP).length, 5, "the server's replies on the flagged flow are still the model's");
      h.allow("10.0.0.100");
      s = run();
      assert.ok(s.every((x) => x.verdict === Verdict.PASS && x.record!.source === DecisionSource.ALLOWLIST), "everything allowlisted passes");
      // No model: recommendation falls back to the default, saying so.
      h.setModel(undefined);
      const noModel = h.sendAll(tcpConversation("10.0.3.1", "10.0.0.101", 33000, 8080).map(buildPacket));
      assert.ok(noModel.every((x) => x.verdict === Verdict.PASS && x.record!.source === DecisionSource.NO_MODEL), "no model: the default, saying so");
      h.checkState();
    });

    test("a default rule in the veto mask overrides the model (guard)", (t) => {
      if (!requires(t, "bpf")) return;
      using h = new Harness(attach, { ...gcra({ pps: 1e6, burst: 1e6 }), synLimit: 2, synWindowNs: 10_000_000_000n, mode: Mode.RECOMMENDATION, vetoMask: Flag.RULE_SYN });
      h.setModel({ feature: "pkts_fwd", threshold: 1_000_000 }); // never an attack
      const s = h.sendAll(Array.from({ length: 5 }, (_, i) => synFrom("10.66.0.2", 100 + i)));
      assert.deepEqual(s.map((x) => x.record!.source), [DecisionSource.MODEL, DecisionSource.MODEL, DecisionSource.GUARD, DecisionSource.GUARD, DecisionSource.GUARD]);
      assert.deepEqual(s.map((x) => x.verdict), [0, 0, 1, 1, 1]);
      h.checkState();
    });

    test("collaboration enforces the per-second drop budget", (t) => {
      if (!requires(t, "bpf")) return;
      using h = new Harness(attach, { ...quietRules, mode: Mode.COLLABORATION, dropBudget: 5, cacheMaxPkts: 0 });
      h.setModel({ feature: "pkts_fwd", threshold: 0 }); // everything is an attack
      const frame = buildPacket({ src: "10.7.7.7", dst: "10.0.0.100", l4: { kind: "udp", sport: 9, dport: 9 } });
      const s = h.sendAll(Array.from({ length: 20 }, () => frame));
      const bySource = (src: number) => s.filter((x) => x.record!.source === src).length;
      // The test runs in far less than a second, so one window.
      assert.equal(bySource(DecisionSource.MODEL), 5);
      assert.equal(bySource(DecisionSource.BUDGET), 15);
      assert.equal(s.filter((x) => x.verdict === Verdict.DROP).length, 5);
      h.checkState();
    });

    test("a stale agent heartbeat puts the data path in emergency", (t) => {
      if (!requires(t, "bpf")) return;
      using h = new Harness(attach, { ...quietRules, mode: Mode.RECOMMENDATION });
      h.setModel({ feature: "pkts_fwd", threshold: 0 });
      const frame = buildPacket({ src: "10.8.8.8", dst: "10.0.0.100", l4: { kind: "udp", sport: 9, dport: 9 } });
      h.setControl({ heartbeatNs: process.hrtime.bigint(), heartbeatTimeoutNs: 60_000_000_000n });
      assert.equal(h.send(frame).verdict, Verdict.DROP, "fresh heartbeat: the model decides");
      h.setControl({ heartbeatNs: process.hrtime.bigint() - 120_000_000_000n });
      const s = h.send(frame);
      assert.equal(s.verdict, Verdict.PASS);
      assert.equal(s.record!.mode, Mode.EMERGENCY);
      assert.ok(s.record!.flags & Flag.HEARTBEAT_LOST, "flagged as heartbeat lost");
      assert.equal(h.dp.stats().heartbeatLost, 1n);
      h.checkState();
    });

    test("verdict cache: a long flow is judged at packets 1, 2, 4, ... and a model swap invalidates it", (t) => {
      if (!requires(t, "bpf")) return;
      using h = new Harness(attach, { ...quietRules, mode: Mode.RECOMMENDATION, cacheMaxPkts: 16 });
      h.setModel({ feature: "pkts_fwd", threshold: 0 });
      const frame = buildPacket({ src: "10.9.9.9", dst: "10.0.0.100", l4: { kind: "udp", sport: 5, dport: 6 } });
      const s = h.sendAll(Array.from({ length: 50 }, () => frame));
      const fresh = s.map((x, i) => (x.record!.flags & Flag.CACHED ? 0 : i + 1)).filter(Boolean);
      assert.deepEqual(fresh, [1, 2, 4, 8, 16, 32, 48]);
      h.setModel({ feature: "pkts_fwd", threshold: 1_000_000 });
      const after = h.send(frame);
      assert.equal(after.verdict, Verdict.PASS, "the new model judged the very next packet");
      assert.equal(after.record!.flags & Flag.CACHED, 0);
      h.checkState();
    });

    test("ring buffer: sampling rates and counted failures when it is full", (t) => {
      if (!requires(t, "bpf")) return;
      using h = new Harness(attach, { ...quietRules, sampleRate: 0 }, { ringBytes: 4096 });
      const frame = buildPacket({ src: "10.1.1.1", dst: "10.0.0.100", l4: { kind: "udp", sport: 5, dport: 6 } });
      for (let i = 0; i < 10; i++) h.dp.testRun(frame);
      assert.equal(h.reader.read().length, 0);
      h.dp.updateControl((c) => ({ ...c, sampleRate: 32768 }));
      for (let i = 0; i < 400; i++) {
        h.dp.testRun(frame);
        h.reader.read();
      }
      const half = h.dp.stats().sampled;
      assert.ok(half > 120n && half < 280n, `about half of 400 sampled, got ${half}`);
      h.dp.updateControl((c) => ({ ...c, sampleRate: 65536 }));
      for (let i = 0; i < 40; i++) h.dp.testRun(frame);
      const st = h.dp.stats();
      const got = h.reader.read();
      assert.equal(BigInt(got.length), st.sampled - half);
      assert.ok(st.ringbufFail > 0n, "a full buffer is counted, not silent");
      assert.equal(st.sampled - half + st.ringbufFail, 40n);
      assert.equal(got[0]!.features[featureIndex("proto")], 17n);
    });
  });
}
