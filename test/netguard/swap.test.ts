import { test } from "node:test";
import assert from "node:assert/strict";
import { setTimeout as sleep } from "node:timers/promises";
import { requires } from "../helpers/kernel.ts";
import { NetguardDataPath } from "../../src/subsystems/netguard/datapath.ts";
import { buildThresholdModel } from "../../src/subsystems/netguard/program.ts";
import { defaultControl, gcra, Mode } from "../../src/subsystems/netguard/control.ts";
import { DecisionSource, Flag, Verdict } from "../../src/subsystems/netguard/layout.ts";
import { buildPacket } from "../../src/subsystems/netguard/packet.ts";

test("model hot swap under load: no packet lost, none judged by a mix of models", async (t) => {
  if (!requires(t, "bpf")) return;
  using dp = NetguardDataPath.load({
    ringBytes: 1 << 23,
    control: { ...defaultControl(), ...gcra({ pps: 1e9, burst: 1e9 }), synWindowNs: 0n, mode: Mode.RECOMMENDATION, cacheMaxPkts: 0, sampleRate: 65536 },
  });
  using reader = dp.records();
  // Two models telling themselves apart by their confidence: A drops at 700, B passes at 900.
  const a = buildThresholdModel("xdp", { feature: "pkts_fwd", threshold: 0, confidence: 700 });
  const b = buildThresholdModel("xdp", { feature: "pkts_fwd", threshold: 1n << 62n, confidence: 900 });
  dp.swapModel(dp.loadModel(a));
  const frame = buildPacket({ src: "10.1.2.3", dst: "10.0.0.100", l4: { kind: "udp", sport: 4000, dport: 53 }, payload: 32 });

  const runs = 4, repeat = 5000;
  let swaps = 0;
  let running = true;
  const load = (async () => {
    for (let i = 0; i < runs; i++) await dp.main.testRunAsync({ data: frame, repeat });
    running = false;
  })();
  const records: { modelVerdict: number; modelConf: number; flags: number; source: number }[] = [];
  while (running) {
    dp.swapModel(dp.loadModel(swaps % 2 === 0 ? b : a))?.close();
    swaps++;
    for (const r of reader.read()) records.push(r);
    await sleep(1);
  }
  await load;
  for (const r of reader.read()) records.push(r);

  const st = dp.stats();
  const total = BigInt(runs * repeat);
  assert.equal(st.packets, total, "every run reached a decision");
  assert.equal(st.modelMissing + st.decideMissing + st.unparsed + st.flowFail, 0n, "the slot was never seen empty");
  const model = st.decisions[DecisionSource.MODEL]!;
  assert.equal(model[0] + model[1], total, "the model decided every packet");
  assert.ok(swaps > 2, `only ${swaps} swaps during the load`);
  assert.equal(BigInt(records.length) + st.ringbufFail, total);
  for (const r of records) {
    assert.ok(r.flags & Flag.MODEL_RAN, "model ran");
    const whole = (r.modelVerdict === Verdict.DROP && r.modelConf === 700) || (r.modelVerdict === Verdict.PASS && r.modelConf === 900);
    assert.ok(whole, `a verdict from no single model: ${r.modelVerdict} at ${r.modelConf}`);
  }
  const fromA = records.filter((r) => r.modelConf === 700).length;
  t.diagnostic(`${swaps} swaps over ${total} packets; ${fromA} judged by A, ${records.length - fromA} by B`);
});
