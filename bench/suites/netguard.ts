/**
 * @module bench/suites/netguard
 * The netguard data path with a trained, compiled model in its slot (the CIC-IDS2017 forest of
 * the "data set -> kernel" path: 12 trees, depth <= 8, on 15 contract features), beside an
 * empty XDP program measured in the same run:
 * - ns/packet by BPF_PROG_TEST_RUN over a realistic packet mix (weighted; flows warm): model on
 *   every packet (verdict cache off), with the per-flow verdict cache, and rules only;
 * - packets/s with XDP live frames on a flood frame the model drops, vs an empty dropping program.
 * The lab-trained model of `kmlib demo` is measured the same way in the demo's report.
 */
import { trainCicModel } from "../../src/subsystems/netguard/e2e/cicids.ts";
import { measureCost } from "../../src/subsystems/netguard/e2e/measure.ts";
import { entry, progress, type BenchEntry } from "../types.ts";

export default async function run(): Promise<BenchEntry[]> {
  progress("training the CIC-IDS2017 model");
  const { model, summary } = await trainCicModel();
  progress("test-run over the packet mix and live frames (5 rounds)");
  const c = await measureCost(model, { rounds: 5, repeat: 50_000, liveFrames: 1_000_000 });
  const notes = { rounds: c.rounds, repeat: c.repeat, model: `${summary.kind} ${summary.trees} trees depth<=${summary.maxDepth}, ${summary.features.length} features`, modelInstructions: c.modelInstructions };
  const anchor = "empty XDP program (XDP_PASS), same packet mix, same run";
  return [
    entry("netguard-model-every-packet", c.nsPerPacket, "ns/packet", anchor, c.emptyNsPerPacket, notes),
    entry("netguard-model-cached", c.nsPerPacketCached, "ns/packet", anchor, c.emptyNsPerPacket, notes),
    entry("netguard-rules-only", c.nsPerPacketNoModel, "ns/packet", anchor, c.emptyNsPerPacket, notes),
    entry("netguard-model-live", c.livePps, "packets/s", "empty XDP program dropping, live frames, same frame", c.liveEmptyPps, { ...notes, frames: c.liveFrames, frameDroppedByModel: c.liveFrameDropped }),
  ];
}
