/**
 * @module test/netguard/e2e-conformance
 * The netguard adapter against the shared adapter conformance suite, on the real kernel:
 * decisions are frames through the loaded XDP data path (BPF_PROG_TEST_RUN), the heartbeat
 * clock is CLOCK_MONOTONIC, models are compiled integer trees in the model slot.
 */
import { suiteSkip } from "../helpers/kernel.ts";
import { runConformance, type ConformanceHarness } from "../proxy/conformance.ts";
import { NetguardAdapter } from "../../src/subsystems/netguard/e2e/adapter.ts";
import { encodeArtefact, inputsFor } from "../../src/subsystems/netguard/e2e/model-program.ts";
import { buildPacket } from "../../src/subsystems/netguard/packet.ts";
import { TcpFlag } from "../../src/subsystems/netguard/layout.ts";
import { validateIr, type IrModel } from "../../src/ml/index.ts";

const why = suiteSkip("bpf");

/** One split on dst_port: attack above `port`. */
function portModel(port: number): Uint8Array {
  const ir: IrModel = validateIr({
    kind: "tree",
    nFeatures: 1,
    nClasses: 2,
    featureNames: ["dst_port"],
    classNames: ["benign", "attack"],
    quant: [{ scale: 1, offset: 0 }],
    scoreFracBits: 0,
    tree: { feature: [0], threshold: [port], left: [-1], right: [-2], leafValue: [1, 0, 0, 1] },
  });
  return encodeArtefact({ inputs: inputsFor(["dst_port"]), ir, origin: "conformance" });
}

let n = 0;
function frame(): Uint8Array {
  n++;
  return buildPacket({ src: `10.9.${(n >> 8) & 255}.${n & 255}`, dst: "10.0.0.1", l4: { kind: "tcp", sport: 1024 + (n % 60000), dport: n % 2 ? 80 : 4000, flags: TcpFlag.SYN } });
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

async function make(): Promise<ConformanceHarness> {
  const adapter = new NetguardAdapter("ng-conf", { ringBytes: 1 << 20, labelOf: (r) => (r.features[1] === 4000n ? 1 : 0) });
  return {
    adapter,
    options: {},
    heartbeatTimeoutMs: 200,
    async drive(count) {
      for (let i = 0; i < count; i++) adapter.dataPath.testRun(frame());
    },
    stall: sleep,
    nowNs: () => process.hrtime.bigint(),
    goodArtefact: (variant) => portModel(1000 * variant),
    badArtefact: () => new TextEncoder().encode("{\"format\": \"kmlib-netguard-model\", \"version\": 1}"),
    async close() {
      adapter.close();
    },
  };
}

runConformance("netguard (XDP data path, real kernel)", make, { skip: why ?? false });
