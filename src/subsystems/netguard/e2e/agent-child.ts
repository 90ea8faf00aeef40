/**
 * @module subsystems/netguard/e2e/agent-child
 * A minimal netguard agent run as its own process for the heartbeat-fallback check: it loads
 * the data path, attaches it to the lab server's interface, deploys a model, asks for
 * recommendation mode, pins what must outlive it, prints "ready" and heartbeats until it is
 * killed, or until its parent goes (stdin closes). Arguments: one JSON object (`ChildArgs`).
 */
import { readFileSync } from "node:fs";
import { NetguardAdapter } from "./adapter.ts";

export interface ChildArgs {
  readonly ifname: string;
  readonly netns: string;
  /** Pin directory under /sys/fs/bpf/kmlib. */
  readonly pin: string;
  readonly artefactPath: string;
  readonly heartbeatMs: number;
  readonly heartbeatTimeoutMs: number;
}

async function main(): Promise<void> {
  const args = JSON.parse(process.argv[2] ?? "{}") as ChildArgs;
  const adapter = new NetguardAdapter("netguard-hb", { sampleRate: 0 });
  await adapter.init({ heartbeatTimeoutMs: args.heartbeatTimeoutMs });
  await adapter.start();
  await adapter.deployModel(1, readFileSync(args.artefactPath));
  adapter.attach({ ifname: args.ifname, netns: args.netns });
  await adapter.heartbeat(process.hrtime.bigint());
  await adapter.setMode("recommendation");
  adapter.pin(args.pin);
  setInterval(() => void adapter.heartbeat(process.hrtime.bigint()), args.heartbeatMs);
  process.stdout.write(`ready ${process.pid}\n`);
  // the parent holds our stdin: when it dies, so do we (its clean-up removes the pins)
  process.stdin.on("close", () => process.exit(0));
  process.stdin.resume();
}

main().catch((e: unknown) => {
  process.stderr.write(`agent-child: ${e instanceof Error ? e.message : String(e)}\n`);
  process.exit(1);
});
