/**
 * @module cli/commands/netguard
 * `kmlib netguard run|cicids|cost|heartbeat`: the netguard use case from the command line.
 * `run` is the main job (also `kmlib demo`); the others run one of its checks on their own.
 */
import { readFileSync, writeFileSync } from "node:fs";
import { spawnSync } from "node:child_process";
import { Command, Option } from "commander";
import { ErrorCode, KmlibError } from "../../errors.ts";
import { positiveInt } from "../common.ts";
import { Progress } from "../progress.ts";
import { DEFAULT_OUT, runNetguardDemo } from "../../subsystems/netguard/e2e/pipeline.ts";
import { reportText } from "../../subsystems/netguard/e2e/report.ts";
import { trainCicModel } from "../../subsystems/netguard/e2e/cicids.ts";
import { measureCost } from "../../subsystems/netguard/e2e/measure.ts";
import { heartbeatFallback } from "../../subsystems/netguard/e2e/heartbeat.ts";
import { decodeArtefact, encodeArtefact, type NetguardModel } from "../../subsystems/netguard/e2e/model-program.ts";
import { Lab } from "../../subsystems/netguard/lab/index.ts";

const TOOLS = ["ip", "ethtool", "nginx", "iperf3", "curl", "wrk", "ping", "hping3", "nmap", "slowhttptest"];

/** Why the main job cannot run here, or undefined. */
export function netguardDemoMissing(): string | undefined {
  if (process.getuid?.() !== 0) return "the netguard demo needs root (CAP_BPF, CAP_NET_ADMIN, CAP_SYS_ADMIN for namespaces)";
  const absent = TOOLS.filter((t) => spawnSync("sh", ["-c", `command -v ${t}`], { stdio: "ignore" }).status !== 0);
  if (absent.length) return `missing tools: ${absent.join(", ")} (run \`npm run bootstrap\`)`;
  return undefined;
}

/** The options of the main job, shared by `kmlib demo` and `kmlib netguard run`. */
export const NetguardRunFlags = {
  addTo(cmd: Command): Command {
    return cmd
      .option("--out <dir>", `report directory (report.txt, report.json, verdicts.svg, agent.log.jsonl)`, DEFAULT_OUT)
      .option("--phase-ms <ms>", "length of each traffic phase", positiveInt, 3000)
      .addOption(new Option("--tag <tag>", "lab tag (namespaces kmlib-lab-TAG-*)").default("e2e"))
      .option("--no-cicids", "skip the CIC-IDS2017 -> kernel path")
      .option("--no-heartbeat", "skip the SIGKILL heartbeat-fallback check");
  },
};

interface RunOpts {
  json?: boolean;
  out?: string;
  phaseMs?: number;
  tag?: string;
  cicids?: boolean;
  heartbeat?: boolean;
}

/** Run the main job with progress on stderr; text or JSON on stdout. SIGINT stops it cleanly. */
export async function runNetguardCommand(raw: Record<string, unknown>): Promise<void> {
  const o = raw as RunOpts;
  const why = netguardDemoMissing();
  if (why) throw new KmlibError(ErrorCode.Unsupported, why);
  const ac = new AbortController();
  let signals = 0;
  // first signal: stop and clean up (the lab's own handler tears it down too); second: leave now
  const onSignal = (): void => {
    if (++signals > 1) process.exit(130);
    process.stderr.write("\nkmlib: interrupted, cleaning up (lab down)…\n");
    ac.abort();
  };
  process.on("SIGINT", onSignal);
  process.on("SIGTERM", onSignal);
  try {
    const report = await runNetguardDemo(new Progress(!!o.json), {
      out: o.out ?? DEFAULT_OUT,
      phaseMs: o.phaseMs ?? 3000,
      tag: o.tag ?? "e2e",
      cicids: o.cicids ?? true,
      heartbeat: o.heartbeat ?? true,
      signal: ac.signal,
    });
    process.stdout.write(o.json ? JSON.stringify(report, null, 2) + "\n" : "\n" + reportText(report) + "\n");
  } catch (e) {
    if (!ac.signal.aborted) throw e;
    process.stderr.write("kmlib: interrupted; the lab is down\n");
    process.exitCode = 130;
  } finally {
    process.off("SIGINT", onSignal);
    process.off("SIGTERM", onSignal);
  }
}

async function loadModel(path: string | undefined): Promise<NetguardModel> {
  return path ? decodeArtefact(readFileSync(path)) : (await trainCicModel()).model;
}

export function register(program: Command): void {
  const ng = program.command("netguard").description("netguard: ML packet filtering in XDP (the main job and its checks)");

  NetguardRunFlags.addTo(ng.command("run").description("the main job, as `kmlib demo`").option("--json", "print the report as one JSON object")).action(runNetguardCommand);

  ng.command("cicids")
    .description("train the CIC-IDS2017 sample model on the kernel's feature contract (columns mapped where they mean the same)")
    .option("--out <file>", "write the model artefact (for `kmlib model add` or --artefact)")
    .option("--json", "print the summary as JSON")
    .action(async (o: { out?: string; json?: boolean }) => {
      const m = await trainCicModel();
      if (o.out) writeFileSync(o.out, encodeArtefact(m.model));
      const summary = { ...m.summary, mapping: m.mapping, unmapped: m.unmapped, artefact: o.out ?? null };
      if (o.json) process.stdout.write(JSON.stringify(summary, null, 2) + "\n");
      else {
        process.stdout.write(`${m.summary.rows} rows (${m.summary.benign} benign, ${m.summary.attack} attack after balancing), ${m.summary.trees} trees, validation accuracy ${(100 * m.summary.validationAccuracy).toFixed(2)}%\n`);
        for (const c of m.mapping) process.stdout.write(`  ${c.feature.padEnd(13)} <- ${c.column}${c.scale ? ` x${c.scale}` : ""}\n`);
        process.stdout.write(`  not mapped: ${m.unmapped.join(", ")}\n`);
      }
    });

  ng.command("cost")
    .description("ns/packet of the data path with a model (test-run over a packet mix) and XDP live-frame packets/s, beside an empty XDP program")
    .option("--artefact <file>", "netguard model artefact (default: train the CIC-IDS2017 model)")
    .option("--rounds <n>", "rounds (median)", positiveInt, 3)
    .option("--json", "print the figures as JSON")
    .action(async (o: { artefact?: string; rounds: number; json?: boolean }) => {
      const c = await measureCost(await loadModel(o.artefact), { rounds: o.rounds });
      if (o.json) process.stdout.write(JSON.stringify(c, null, 2) + "\n");
      else {
        process.stdout.write(`model on every packet ${c.nsPerPacket.toFixed(1)} ns/packet, cached ${c.nsPerPacketCached.toFixed(1)}, rules only ${c.nsPerPacketNoModel.toFixed(1)}; empty XDP program ${c.emptyNsPerPacket.toFixed(1)} (x${(c.nsPerPacket / c.emptyNsPerPacket).toFixed(2)})\n`);
        process.stdout.write(`XDP live frames: ${(c.livePps / 1e6).toFixed(2)} Mpps vs ${(c.liveEmptyPps / 1e6).toFixed(2)} Mpps empty (${c.modelInstructions} model instructions)\n`);
      }
    });

  ng.command("heartbeat")
    .description("in a fresh lab: an agent process runs a model in recommendation, is SIGKILLed during a flood; the kernel falls back to the default rules on its own")
    .option("--artefact <file>", "netguard model artefact (default: train the CIC-IDS2017 model)")
    .option("--timeout-ms <ms>", "heartbeat timeout", positiveInt, 1000)
    .addOption(new Option("--tag <tag>", "lab tag").default("hb"))
    .option("--json", "print the result as JSON")
    .action(async (o: { artefact?: string; timeoutMs: number; tag: string; json?: boolean }) => {
      const model = await loadModel(o.artefact);
      const lab = Lab.up({ tag: o.tag });
      try {
        const r = await heartbeatFallback(lab, encodeArtefact(model), { timeoutMs: o.timeoutMs });
        if (o.json) process.stdout.write(JSON.stringify(r, null, 2) + "\n");
        else {
          process.stdout.write(`fell back ${r.fallbackAfterMs.toFixed(0)} ms after SIGKILL (timeout ${r.timeoutMs} ms); after: ${r.after.emergency}/${r.after.packets} packets in emergency, ${r.after.modelDecisions} model decisions, default dropped ${r.after.defaultDrops}\n`);
          process.stdout.write(`curl during the flood ${r.curl.ok}/${r.curl.requests}, after the fallback ${r.curlAfterFallback.ok}/${r.curlAfterFallback.requests}; detached after unpin: ${r.detached}\n`);
        }
      } finally {
        lab.down();
      }
    });
}
