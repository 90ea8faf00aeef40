/**
 * @module bench/suites/lfsgc-kernel
 * The GC kernel side's integer work as the kernel runs it (src/subsystems/lfs-gc/kernel-int):
 * - per host write: the feature step (Q16 recent and long activity decays, the region's Q8
 *   count read, decayed and written back in its ARRAY map, the composite cell by thresholds)
 *   plus the lookup of the u32 lifetime table in its ARRAY map and the Q40 rate, ns per run;
 * - per relocated block: the region's bucket of now, the cell with it, the lookup, ns per run;
 * - per sealed segment: the integer victim score, ns per run;
 * both from BPF_PROG_TEST_RUN with repeat (the kernel's clock) on XDP programs built by
 * kmlib's DSL, beside an empty XDP program (returns XDP_PASS) on a packet of the same size,
 * measured in the same rounds. The TypeScript twins' ns per call are in the notes. Medians
 * of 5 rounds of 1,000,000 runs.
 */
import { createMap, loadProgram, type Program } from "../../src/bpf/index.ts";
import { LIFETIME_CELLS, REGIONS } from "../../src/subsystems/lfs-gc/policies/ml-lifetime.ts";
import { FeatureConfig, IntRegionActivity } from "../../src/subsystems/lfs-gc/kernel-int/features.ts";
import { emptyProgram, featureProgram, relocateProgram, scoreProgram } from "../../src/subsystems/lfs-gc/kernel-int/gen.ts";
import {
  ConfigLayout, MapNames, RegionLayout, encodeConfig, encodeFeatureRecord, encodeRelocateRecord, encodeScoreRecord, featureStep, relocateStep, scoreStep,
} from "../../src/subsystems/lfs-gc/kernel-int/record.ts";
import { RATE_ONE } from "../../src/subsystems/lfs-gc/kernel-int/score.ts";
import { entry, median, progress, type BenchEntry } from "../types.ts";

const ROUNDS = 5;
const REPEAT = 1_000_000;
const U = 1 << 20;

const u32 = (v: number) => {
  const b = new Uint8Array(4);
  new DataView(b.buffer).setUint32(0, v, true);
  return b;
};

function twinNs(f: () => number, n = 1_000_000): number {
  let sink = 0;
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < n; i++) sink += f();
  const ns = Number(process.hrtime.bigint() - t0) / n;
  if (sink === -1) progress("unreachable");
  return ns;
}

export default async function run(): Promise<BenchEntry[]> {
  const cfg = new FeatureConfig(U);
  const table = Uint32Array.from({ length: LIFETIME_CELLS }, (_, c) => 1 + c * 977);
  using config = createMap({ name: MapNames.config, type: "ARRAY", keySize: 4, valueSize: ConfigLayout.size, maxEntries: 1 });
  using life = createMap({ name: MapNames.life, type: "ARRAY", keySize: 4, valueSize: 4, maxEntries: LIFETIME_CELLS });
  config.update(u32(0), encodeConfig(cfg));
  using region = createMap({ name: MapNames.region, type: "ARRAY", keySize: 4, valueSize: RegionLayout.size, maxEntries: REGIONS });
  for (let c = 0; c < LIFETIME_CELLS; c++) life.update(u32(c), u32(table[c]!));
  const maps = { [MapNames.config]: config, [MapNames.life]: life, [MapNames.region]: region };
  using feature = loadProgram({ name: "gc_feature", type: "XDP", instructions: featureProgram(), maps });
  using relocate = loadProgram({ name: "gc_relocate", type: "XDP", instructions: relocateProgram(), maps });
  using score = loadProgram({ name: "gc_score", type: "XDP", instructions: scoreProgram() });
  using empty = loadProgram({ name: "gc_empty", type: "XDP", instructions: emptyProgram() });

  // A warm block (interval U/40, activity ~20, long activity ~100) written at the same instant
  // every run (the region decays over 0 writes after the first: the multiply path runs for
  // the two block activities), and a 64-block segment, 40 valid, not stale.
  const interval = Math.floor(U / 40), prev = 20 * 65536;
  const rec = { interval, prevActivity: prev, prevLong: 100 * 65536, lba: 12345, now: 4 * U };
  const featureRec = encodeFeatureRecord(rec);
  const relocateRec = encodeRelocateRecord(rec.lba, rec.now + 1000, 1234);
  const v = 40, b = 64, s = Math.round((v * RATE_ONE) / 5000), quiet = 1000;
  const scoreRec = encodeScoreRecord(v, b, s, quiet);
  const ns = (p: Program, data: Uint8Array) => p.testRun({ data, repeat: REPEAT }).nsPerRun;
  const f: number[] = [], rl: number[] = [], er: number[] = [], sc: number[] = [], ef: number[] = [], es: number[] = [];
  for (let r = 0; r < ROUNDS; r++) {
    progress(`round ${r + 1}/${ROUNDS}`);
    ef.push(ns(empty, featureRec));
    f.push(ns(feature, featureRec));
    er.push(ns(empty, relocateRec));
    rl.push(ns(relocate, relocateRec));
    es.push(ns(empty, scoreRec));
    sc.push(ns(score, scoreRec));
  }
  const regions = new IntRegionActivity(cfg);
  const twinFeature = twinNs(() => featureStep(rec, cfg, table, regions).cell);
  const twinRelocate = twinNs(() => relocateStep(rec.lba, rec.now + 1000, 1234, cfg, table, regions).cell);
  const twinScore = twinNs(() => scoreStep(v, b, s, quiet));
  const anchor = "empty XDP program (XDP_PASS), same packet, same rounds";
  return [
    entry("gc-feature-lookup-kernel", median(f), "ns/run", anchor, median(ef), {
      repeat: REPEAT, rounds: ROUNDS, instructions: "featureProgram", logicalBlocks: U, typescriptTwinNs: twinFeature,
    }),
    entry("gc-relocate-lookup-kernel", median(rl), "ns/run", anchor, median(er), {
      repeat: REPEAT, rounds: ROUNDS, instructions: "relocateProgram", logicalBlocks: U, typescriptTwinNs: twinRelocate,
    }),
    entry("gc-segment-score-kernel", median(sc), "ns/run", anchor, median(es), {
      repeat: REPEAT, rounds: ROUNDS, instructions: "scoreProgram", blocksPerSegment: b, typescriptTwinNs: twinScore,
    }),
  ];
}
