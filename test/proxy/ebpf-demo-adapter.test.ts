import { EbpfDemoAdapter, ebpfDemoArtefact } from "../../src/agent/adapters/ebpf-demo.ts";
import { monotonicNs } from "../../src/proxy/control.ts";
import { suiteSkip } from "../helpers/kernel.ts";
import { runConformance } from "./conformance.ts";

/** The shared suite on the real kernel: an XDP proxy program driven by BPF_PROG_TEST_RUN. */
const why = suiteSkip("bpf");
let n = 0;
runConformance(
  "ebpf-demo (real kernel)",
  async () => {
    const adapter = new EbpfDemoAdapter(`ebpf${n++}`);
    return {
      adapter,
      options: {},
      heartbeatTimeoutMs: 300,
      drive: async (k) => adapter.drive(k),
      stall: (ms) => new Promise((r) => setTimeout(r, ms)),
      nowNs: monotonicNs,
      goodArtefact: (v) => ebpfDemoArtefact(1, v === 1 ? 65536 : 60000),
      badArtefact: () => ebpfDemoArtefact(9),
      close: async () => {
        if (adapter.lifecycle.state !== "shutting down") await adapter.shutdown();
      },
    };
  },
  { skip: why ?? false },
);
