/**
 * @module cli/commands/demo
 * `kmlib demo`: the main job, netguard end to end (subsystems/netguard/e2e/pipeline.ts).
 * `kmlib demo toolkit`: the eBPF toolkit demo (demo/toolkit.ts).
 */
import { Command, InvalidArgumentError } from "commander";
import { ErrorCode, KmlibError } from "../../errors.ts";
import { Progress } from "../progress.ts";
import { runToolkitDemo, toolkitDemoMissing } from "../../demo/toolkit.ts";
import { NetguardRunFlags, runNetguardCommand } from "./netguard.ts";

async function toolkit(json: boolean): Promise<void> {
  const why = toolkitDemoMissing();
  if (why) throw new KmlibError(ErrorCode.Unsupported, why);
  const progress = new Progress(json);
  const r = await runToolkitDemo(progress);
  if (json) {
    process.stdout.write(JSON.stringify(r, null, 2) + "\n");
    return;
  }
  const row = (name: string, sent: number | string, counted: number) => `  ${name.padEnd(22)} ${String(sent).padStart(8)} ${String(counted).padStart(8)}`;
  console.log("\nXDP counters on veth-rx (program v1):");
  console.log(`  ${"".padEnd(22)} ${"sent".padStart(8)} ${"counted".padStart(8)}`);
  console.log(row("ICMP echo requests", r.sent.icmp, r.counted.icmp));
  console.log(row("TCP SYN", r.sent.tcp, r.counted.tcp));
  console.log(row("UDP", r.sent.udp, r.counted.udp));
  console.log(row("other IPv4", "-", r.counted.otherIpv4));
  console.log(row("not IPv4 (ARP, ...)", "-", r.counted.nonIpv4));
  console.log(`\nAtomic program replacement under load: ${r.swap.swaps} swaps, ${r.swap.sent} UDP packets sent, ${r.swap.counted} counted, ${r.swap.lost} lost`);
  console.log(`  seen by v1: ${r.swap.byVersion[0]}, by v2: ${r.swap.byVersion[1]}`);
  console.log(`\nBPF_PROG_TEST_RUN of v1 on a 64-byte frame: ${r.testRunNs} ns per run`);
  console.log("\nProgram v1 (llvm-objdump syntax):\n" + r.listing);
}

function which(v: string): "netguard" | "toolkit" {
  if (v === "netguard" || v === "toolkit") return v;
  throw new InvalidArgumentError(`unknown demo "${v}" (netguard or toolkit)`);
}

export function register(program: Command): void {
  const cmd = program
    .command("demo")
    .argument("[which]", "netguard (default): ML packet filtering in XDP end to end; toolkit: the eBPF toolkit demo", which, "netguard")
    .description(
      "the main job: netguard end to end on this kernel — lab up, XDP data path in emergency, labelled dataset from kernel flow records, " +
        "model trained and compiled to eBPF, deployed in learning, promoted by the mode controller on measured efficiency, held-out attacks " +
        "dropped in recommendation while benign traffic passes, model swap under load, cost, CIC-IDS2017 transfer, heartbeat fallback, report, lab down. " +
        "`kmlib demo toolkit` runs the eBPF toolkit demo instead",
    )
    .option("--json", "print the report as one JSON object (progress stays off)");
  NetguardRunFlags.addTo(cmd);
  cmd.action(async (w: "netguard" | "toolkit", opts: { json?: boolean } & Record<string, unknown>) => {
    if (w === "toolkit") return toolkit(!!opts.json);
    await runNetguardCommand(opts);
  });
}
