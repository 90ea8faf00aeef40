/** The lfs-gc adapter passes the conformance suite every subsystem adapter must pass. */
import { LfsGcAdapter } from "../../src/subsystems/lfs-gc/proxy/adapter.ts";
import { LifetimeTrainer, encodeTable } from "../../src/subsystems/lfs-gc/proxy/table.ts";
import { runConformance } from "../proxy/conformance.ts";

const U = 4096;

/** A table trained on a little history: variant v shifts every lifetime, so versions differ. */
function table(variant: number): Uint8Array {
  const t = new LifetimeTrainer(U);
  const q = t.quantize(0);
  for (let i = 0; i < q.length; i++) q[i] = q[i]! + variant;
  return encodeTable(q, U);
}

runConformance("lfs-gc", async () => {
  let now = 1_000_000_000n;
  const adapter = new LfsGcAdapter("gc0", { nowNs: () => now });
  return {
    adapter,
    options: { logicalBlocks: U, blocksPerSegment: 32, workload: "hotcold-80-20", epochWrites: 0 },
    heartbeatTimeoutMs: 1000,
    drive: async (n) => {
      adapter.driveDecisions(n);
      now += 1000n;
    },
    stall: async (ms) => {
      now += BigInt(Math.round(ms * 1e6));
    },
    nowNs: () => now,
    goodArtefact: table,
    badArtefact: () => {
      const b = table(1);
      b[40] = b[40]! ^ 0xff; // a flipped byte: the checksum refuses it
      return b;
    },
    close: async () => {},
  };
});
