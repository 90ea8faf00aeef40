/**
 * @module cli/commands/lab
 * `kmlib lab up|down|status|run`: the netguard lab of network namespaces with real services
 * and real traffic. `up` leaves the lab running (state under /run/kmlib) until `down`.
 */
import { writeFileSync } from "node:fs";
import { Command, InvalidArgumentError, Option } from "commander";
import { ErrorCode, KmlibError } from "../../errors.ts";
import { ATTACK_KINDS, Lab, labDown, labStatus, runScenario, standardScenario, type AttackKind, type LabStatus } from "../../subsystems/netguard/lab/index.ts";

function int(v: string): number {
  const n = Number(v);
  if (!Number.isInteger(n)) throw new InvalidArgumentError(`not an integer: ${v}`);
  return n;
}

function attacks(v: string): AttackKind[] {
  const list = v.split(",").map((s) => s.trim()).filter(Boolean);
  for (const k of list) if (!(ATTACK_KINDS as readonly string[]).includes(k)) throw new InvalidArgumentError(`unknown attack ${k} (one of ${ATTACK_KINDS.join(", ")})`);
  return list as AttackKind[];
}

const tagOption = (): Option => new Option("--tag <tag>", "lab tag: namespaces kmlib-lab-TAG-* (default: the untagged lab)");

function printStatus(s: LabStatus): void {
  if (!s.stateFile) {
    process.stdout.write(`lab${s.tag ? ` ${s.tag}` : ""}: down${s.stray.length ? ` (stray namespaces: ${s.stray.join(", ")}; run \`kmlib lab down\`)` : ""}\n`);
    return;
  }
  process.stdout.write(`lab${s.tag ? ` ${s.tag}` : ""}: ${s.up ? "up" : "DEGRADED"}\n`);
  if (s.attach) process.stdout.write(`xdp attach point: ${s.attach.dev} (ifindex ${s.attach.ifindex}) in ${s.attach.ns}\n`);
  for (const h of s.hosts) process.stdout.write(`  ${h.id.padEnd(4)} ${h.role.padEnd(8)} ${h.label.padEnd(6)} ${h.ns.padEnd(24)} ${h.ipv4.padEnd(11)} ${h.ipv6.padEnd(10)} ${h.mac}\n`);
  for (const p of s.services) process.stdout.write(`  service ${p.what} pid ${p.pid} ${p.alive ? "running" : "DEAD"}\n`);
  for (const n of s.namespaces.filter((x) => !x.exists)) process.stdout.write(`  missing namespace ${n.name}\n`);
  if (s.serverCounters) process.stdout.write(`  server rx ${s.serverCounters.rxPackets} packets, tx ${s.serverCounters.txPackets} packets\n`);
}

export function register(program: Command): void {
  const lab = program.command("lab").description("the netguard lab: namespaces (clients, attackers, a server) with real services and real traffic");

  lab
    .command("up")
    .description("create the lab (removing any stale one first) and start nginx and iperf3 in the server namespace")
    .option("--clients <n>", "benign client namespaces (1..20)", int, 2)
    .option("--attackers <n>", "attacker namespaces (1..20)", int, 2)
    .option("--offloads", "keep TSO/GSO/GRO on the veths (default off: MTU-sized packets)")
    .addOption(tagOption())
    .option("--json", "print the status as JSON")
    .action((o: { clients: number; attackers: number; offloads?: boolean; tag?: string; json?: boolean }) => {
      Lab.up({ clients: o.clients, attackers: o.attackers, offloads: o.offloads ?? false, tag: o.tag, persistent: true });
      const s = labStatus(o.tag);
      if (o.json) process.stdout.write(`${JSON.stringify(s)}\n`);
      else printStatus(s);
    });

  lab
    .command("down")
    .description("tear the lab down: kill its processes, delete its namespaces and files (without --tag: every lab)")
    .addOption(tagOption())
    .option("--json", "print what was removed as JSON")
    .action((o: { tag?: string; json?: boolean }) => {
      const r = labDown(o.tag);
      if (o.json) process.stdout.write(`${JSON.stringify(r)}\n`);
      else process.stdout.write(`removed ${r.namespaces.length} namespaces, killed ${r.killed.length} processes\n`);
    });

  lab
    .command("status")
    .description("show the lab's hosts, services, XDP attach point and server counters")
    .addOption(tagOption())
    .option("--json", "print the status as JSON")
    .action((o: { tag?: string; json?: boolean }) => {
      const s = labStatus(o.tag);
      if (o.json) process.stdout.write(`${JSON.stringify(s)}\n`);
      else printStatus(s);
    });

  lab
    .command("run")
    .description("run the standard traffic scenario on the running lab: benign only, each attack while benign continues, benign again")
    .addOption(tagOption())
    .option("--phase-ms <ms>", "duration of each phase", int, 5000)
    .option("--attacks <list>", `attacks, comma-separated (${ATTACK_KINDS.join(",")})`, attacks)
    .option("--out <file>", "write the result (runs, phases, ground truth) as JSON")
    .option("--json", "print the result as JSON instead of progress")
    .action(async (o: { tag?: string; phaseMs: number; attacks?: AttackKind[]; out?: string; json?: boolean }) => {
      if (o.phaseMs < 500 || o.phaseMs > 600_000) throw new KmlibError(ErrorCode.InvalidArgument, "--phase-ms must be in 500..600000");
      const l = Lab.open(o.tag);
      const ac = new AbortController();
      const stop = (): void => ac.abort();
      process.once("SIGINT", stop);
      try {
        const scenario = standardScenario(l.plan, { phaseMs: o.phaseMs, attacks: o.attacks });
        const result = await runScenario(l, scenario, {
          signal: ac.signal,
          onProgress: (e) => {
            if (o.json) return;
            if (e.type === "phase-start") process.stdout.write(`[${e.index + 1}/${e.phases}] ${e.phase} (${e.durationMs} ms)...`);
            if (e.type === "phase-end") process.stdout.write(` ${e.result.runs} runs, server rx ${e.result.serverRxPackets} packets\n`);
          },
        });
        if (o.out) writeFileSync(o.out, JSON.stringify(result, null, 2));
        if (o.json) process.stdout.write(`${JSON.stringify(result)}\n`);
        else if (result.aborted) process.stdout.write("aborted\n");
      } finally {
        process.off("SIGINT", stop);
      }
    });
}
