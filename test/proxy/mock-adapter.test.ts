import { MockAdapter, mockArtefact } from "../../src/agent/adapters/mock.ts";
import { runConformance } from "./conformance.ts";

/** The MOCK adapter: an in-process simulated subsystem with a fake clock. */
runConformance("mock", async () => {
  let now = 1_000_000_000n;
  const adapter = new MockAdapter("mock0", { nowNs: () => now, seed: 7 });
  return {
    adapter,
    options: { budgetLimit: 100, budgetWindow: 200 },
    heartbeatTimeoutMs: 1000,
    drive: async (n) => {
      adapter.simulate(n);
      now += 1000n;
    },
    stall: async (ms) => {
      now += BigInt(Math.round(ms * 1e6));
    },
    nowNs: () => now,
    goodArtefact: (v) => mockArtefact(v === 1 ? 0.5 : 0.45),
    badArtefact: () => new TextEncoder().encode("not a model"),
    close: async () => {},
  };
});
