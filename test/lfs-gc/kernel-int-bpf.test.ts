import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { XdpAction, createMap, loadProgram, type BpfMap, type Program } from "../../src/bpf/index.ts";
import { Rng } from "../../src/ml/rng.ts";
import { LIFETIME_CELLS, REGIONS, REGION_BUCKETS } from "../../src/subsystems/lfs-gc/policies/ml-lifetime.ts";
import { ACT_MAX, ACT_THRESHOLDS, FeatureConfig, IntRegionActivity, LONG_THRESHOLDS_Q16 } from "../../src/subsystems/lfs-gc/kernel-int/features.ts";
import { featureProgram, relocateProgram, scoreProgram, sqrtProgram } from "../../src/subsystems/lfs-gc/kernel-int/gen.ts";
import { isqrt } from "../../src/subsystems/lfs-gc/kernel-int/arith.ts";
import {
  ConfigLayout, MapNames, RegionLayout, decodeFeatureRecord, decodeRegion, decodeRelocateRecord, decodeScore, encodeConfig, encodeFeatureRecord, encodeRelocateRecord,
  encodeScoreRecord, featureStep, relocateStep, scoreStep,
} from "../../src/subsystems/lfs-gc/kernel-int/record.ts";
import { MAX_BLOCKS_PER_SEGMENT, RATE_ONE, rateQ40 } from "../../src/subsystems/lfs-gc/kernel-int/score.ts";
import { requires } from "../helpers/kernel.ts";

const u32 = (v: number) => {
  const b = new Uint8Array(4);
  new DataView(b.buffer).setUint32(0, v, true);
  return b;
};

function loadFeature(cfg: FeatureConfig, table: Uint32Array): { prog: Program; reloc: Program; region: BpfMap; maps: BpfMap[] } {
  const config = createMap({ name: MapNames.config, type: "ARRAY", keySize: 4, valueSize: ConfigLayout.size, maxEntries: 1 });
  const life = createMap({ name: MapNames.life, type: "ARRAY", keySize: 4, valueSize: 4, maxEntries: LIFETIME_CELLS });
  const region = createMap({ name: MapNames.region, type: "ARRAY", keySize: 4, valueSize: RegionLayout.size, maxEntries: REGIONS });
  config.update(u32(0), encodeConfig(cfg));
  for (let c = 0; c < LIFETIME_CELLS; c++) life.update(u32(c), u32(table[c]!));
  const maps = { [MapNames.config]: config, [MapNames.life]: life, [MapNames.region]: region };
  const prog = loadProgram({ name: "gc_feature", type: "XDP", instructions: featureProgram(), maps });
  const reloc = loadProgram({ name: "gc_relocate", type: "XDP", instructions: relocateProgram(), maps });
  return { prog, reloc, region, maps: [config, life, region] };
}

describe("kernel-int as eBPF in the real kernel", () => {
  test("feature and relocation programs: activities, region state, cell, life and rate equal the TypeScript twin bit for bit", (t) => {
    if (!requires(t, "bpf")) return;
    const rng = new Rng(21);
    let n = 0, relocations = 0;
    for (const u of [4096, 1 << 20, 2 ** 26]) {
      const cfg = new FeatureConfig(u);
      const table = Uint32Array.from({ length: LIFETIME_CELLS }, () => 1 + Math.floor(rng.next() * 0xffff_fffe));
      const { prog, reloc, region, maps } = loadFeature(cfg, table);
      const regions = new IntRegionActivity(cfg);
      try {
        const cells = new Set<number>(), buckets = new Set<number>();
        // A hot region written densely (its count climbs through every bucket), the rest spread out.
        const hotLba = Math.floor(rng.next() * u);
        // Regions start from random states (counts around every threshold, up to saturation),
        // written to the map and the twin alike: a device far too large to fill in a test.
        let now = 1 + Math.floor(rng.next() * 4 * cfg.regionTau);
        for (let r = 0; r < REGIONS; r++) {
          const count = r === 0 ? ACT_MAX : Math.min(ACT_MAX, Math.floor(cfg.regionThresholds[r % 3]! * 2 ** (rng.next() * 4 - 2)));
          const updated = Math.max(0, now - Math.floor(rng.next() * cfg.regionTau));
          regions.count[r] = count;
          regions.updated[r] = updated;
          const v = new Uint8Array(RegionLayout.size);
          new DataView(v.buffer).setBigUint64(RegionLayout.count, BigInt(count), true);
          new DataView(v.buffer).setBigUint64(RegionLayout.updated, BigInt(updated), true);
          region.update(u32(r), v);
        }
        for (let i = 0; i < 1500; i++) {
          const r = rng.next();
          // Intervals across every bucket and their edges, first writes and past-horizon ones.
          const interval = r < 0.05 ? 0 : r < 0.1 ? Math.floor(2 ** 32 - 1 - rng.next() * 1000) : r < 0.2
            ? Math.max(1, cfg.intervalThresholds[Math.floor(rng.next() * 24)]! + Math.floor(rng.next() * 3) - 1)
            : 1 + Math.floor(2 ** (rng.next() * 32));
          const p = rng.next();
          const prevActivity = p < 0.1 ? ACT_MAX : p < 0.2 ? Math.max(0, ACT_THRESHOLDS[Math.floor(rng.next() * 15)]! + Math.floor(rng.next() * 3) - 1) : Math.floor(2 ** (16 + rng.next() * 16)) - 1;
          const q = rng.next();
          const prevLong = q < 0.1 ? ACT_MAX : q < 0.3 ? Math.max(0, LONG_THRESHOLDS_Q16[Math.floor(rng.next() * 5)]! + Math.floor(rng.next() * 3) - 1) : Math.floor(2 ** (16 + rng.next() * 16)) - 1;
          const lba = rng.next() < 0.3 ? hotLba : Math.floor(rng.next() * u);
          // Mostly forward in time, sometimes a burst at one instant or a long quiet.
          const dt = rng.next() < 0.1 ? 0 : rng.next() < 0.02 ? Math.floor(rng.next() * 40 * cfg.regionTau) : 1 + Math.floor(rng.next() * (cfg.regionTau >> 8));
          now += dt;
          const rec = { interval, prevActivity, prevLong, lba, now };
          const out = prog.testRun({ data: encodeFeatureRecord(rec) });
          assert.equal(out.retval, XdpAction.PASS);
          const got = decodeFeatureRecord(out.data), want = featureStep(rec, cfg, table, regions);
          assert.deepEqual(got, want, `u=${u} ${JSON.stringify(rec)}`);
          cells.add(got.cell);
          buckets.add(got.region);
          n++;
          if (i % 3 === 0) {
            // A relocation, possibly before the region's last update (no decay) or long after.
            const at = Math.max(0, now + Math.floor((rng.next() - 0.2) * 4 * cfg.regionTau));
            const rl = rng.next() < 0.5 ? hotLba : Math.floor(rng.next() * u);
            const cell = Math.floor(rng.next() * LIFETIME_CELLS);
            const ro = reloc.testRun({ data: encodeRelocateRecord(rl, at, cell) });
            assert.equal(ro.retval, XdpAction.PASS);
            assert.deepEqual(decodeRelocateRecord(ro.data), relocateStep(rl, at, cell, cfg, table, regions), `u=${u} relocate ${rl} at ${at} cell ${cell}`);
            relocations++;
          }
        }
        for (let r = 0; r < REGIONS; r++) {
          const v = region.lookup(u32(r));
          assert.ok(v, `region ${r}`);
          assert.deepEqual(decodeRegion(v), { count: regions.count[r]!, updated: regions.updated[r]! }, `u=${u} region ${r} state`);
        }
        assert.ok(cells.size > 100, `${cells.size} distinct cells reached`);
        assert.equal(buckets.size, REGION_BUCKETS, `region buckets reached: ${[...buckets].join(", ")}`);
        const bad = prog.testRun({ data: encodeFeatureRecord({ interval: 1, prevActivity: 0, prevLong: 0, lba: REGIONS << cfg.regionShift, now }) });
        assert.equal(bad.retval, XdpAction.DROP, "an lba past the last region finds no map element");
      } finally {
        prog.close();
        reloc.close();
        for (const m of maps) m.close();
      }
    }
    t.diagnostic(`${n} feature records, ${relocations} relocation records and the region maps equal`);
  });

  test("score program: the integer victim score equals the TypeScript twin bit for bit", (t) => {
    if (!requires(t, "bpf")) return;
    using prog = loadProgram({ name: "gc_score", type: "XDP", instructions: scoreProgram() });
    const rng = new Rng(22);
    let n = 0;
    for (let i = 0; i < 20000; i++) {
      const b = [16, 32, 64, 512, MAX_BLOCKS_PER_SEGMENT][i % 5]!;
      const v = i % 97 === 0 ? 0 : i % 89 === 0 ? b : 1 + Math.floor(rng.next() * b);
      const r = rng.next();
      // Rate sums from realistic lives, and the edges: 0, below v (R capped), exactly v·2^40.
      const s = r < 0.03 ? 0 : r < 0.06 ? Math.floor(rng.next() * v) : r < 0.09 ? v * RATE_ONE
        : Math.min(v * RATE_ONE, v * rateQ40(Math.floor(2 ** (rng.next() * 32)), 1 << 20));
      const quiet = Math.floor(2 ** (rng.next() * 44));
      const out = prog.testRun({ data: encodeScoreRecord(v, b, s, quiet) });
      assert.equal(out.retval, XdpAction.PASS);
      assert.equal(decodeScore(out.data), scoreStep(v, b, s, quiet), `v=${v} b=${b} s=${s} quiet=${quiet}`);
      n++;
    }
    const bad = prog.testRun({ data: encodeScoreRecord(5, 4, 0, 0) });
    assert.equal(bad.retval, XdpAction.ABORTED, "valid > blocks per segment is refused");
    t.diagnostic(`${n} score records equal`);
  });

  test("the score program's square root is the exact floor on [2^50, 2^52), perfect squares' neighbours included", (t) => {
    if (!requires(t, "bpf")) return;
    using prog = loadProgram({ name: "gc_sqrt", type: "XDP", instructions: sqrtProgram() });
    const rng = new Rng(23);
    const rec = new Uint8Array(16);
    const dv = new DataView(rec.buffer);
    let n = 0;
    for (let i = 0; i < 3000; i++) {
      const k = 2 ** 25 + Math.floor(rng.next() * (2 ** 26 - 2 ** 25 - 1));
      const xs = [k * k - 1, k * k, k * k + 1, 2 ** 50 + Math.floor(rng.next() * (2 ** 52 - 2 ** 50))];
      if (i === 0) xs.push(2 ** 50, 2 ** 51 - 1, 2 ** 51, 2 ** 52 - 1);
      for (const x of xs) {
        if (x < 2 ** 50 || x >= 2 ** 52) continue;
        dv.setBigUint64(0, BigInt(x), true);
        const out = prog.testRun({ data: rec });
        assert.equal(out.retval, XdpAction.PASS);
        const y = Number(new DataView(out.data.buffer, out.data.byteOffset).getBigUint64(8, true));
        assert.equal(y, isqrt(x), `x=${x}`);
        assert.ok(BigInt(y) * BigInt(y) <= BigInt(x) && BigInt(y + 1) * BigInt(y + 1) > BigInt(x), `floor sqrt of ${x}`);
        n++;
      }
    }
    t.diagnostic(`${n} square roots equal`);
  });
});
