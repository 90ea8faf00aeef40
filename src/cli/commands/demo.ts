/**
 * @module cli/commands/demo
 * `kmlib demo`: the main job. For now the eBPF toolkit demo (see demo/toolkit.ts).
 */
import type { Command } from "commander";
import { ErrorCode, KmlibError } from "../../errors.ts";
import { Progress } from "../progress.ts";
import { runToolkitDemo, toolkitDemoMissing } from "../../demo/toolkit.ts";

export function register(program: Command): void {
  program
    .command("demo")
    .description("build an XDP program, load it, attach it to a veth in fresh network namespaces, send real packets, swap it under traffic, print counters and listing")
    .option("--json", "print the report as one JSON object")
    .action(async (opts: { json?: boolean }) => {
      const why = toolkitDemoMissing();
      if (why) throw new KmlibError(ErrorCode.Unsupported, why);
      const progress = new Progress(!!opts.json);
      const r = await runToolkitDemo(progress);
      if (opts.json) {
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
    });
}
