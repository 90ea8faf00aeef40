/**
 * @module cli/commands/core
 * The agent and its store from the command line:
 *   kmlib agent --config FILE                       run the agent (JSON-lines logs on stderr)
 *   kmlib status [--json]                           proxies, modes, model versions, efficiency, transitions
 *                                                   (paired gain: over the controller's current window)
 *   kmlib mode set PROXY MODE [--pin]               ask the running agent for a mode
 *   kmlib model list|add|activate|rollback ...      the model registry
 *   kmlib datasets list | export PROXY ID --format csv|parquet --out FILE
 * Every store command takes --store FILE or --config FILE (default ./kmlib.json, or
 * $KMLIB_CONFIG). Read-only commands open the store read-only.
 */
import { existsSync, readFileSync } from "node:fs";
import { Command, Option } from "commander";
import { Agent } from "../../agent/agent.ts";
import { CONFIG_SCHEMA } from "../../agent/config-schema.ts";
import { loadConfig } from "../../agent/config.ts";
import { exportDataset, parseFormat } from "../../agent/export.ts";
import type { ProxyStatus } from "../../agent/runner.ts";
import { Store } from "../../agent/store/index.ts";
import { ErrorCode, KmlibError } from "../../errors.ts";
import { parseMode } from "../../proxy/mode.ts";
import { json, print, table } from "../common.ts";

interface StoreOpts {
  store?: string;
  config?: string;
}


function storePath(o: StoreOpts): string {
  if (o.store) return o.store;
  const cfg = o.config ?? process.env.KMLIB_CONFIG ?? (existsSync("kmlib.json") ? "kmlib.json" : undefined);
  if (!cfg) throw new KmlibError(ErrorCode.InvalidArgument, "no store: give --store FILE or --config FILE (or create ./kmlib.json)");
  return loadConfig(cfg).agent.store;
}

function withStoreOptions(c: Command): Command {
  return c.option("-s, --store <file>", "the agent's store (SQLite file)").option("-c, --config <file>", "agent config file naming the store");
}

function openStore(o: StoreOpts, readonly: boolean): Store {
  return Store.open(storePath(o), { readonly });
}

/** Event kinds `kmlib status` leaves out: the agent's lifecycle and model deployments (frequent with a model thread). */
const QUIET_KINDS: readonly string[] = ["agent", "model"];

const pct = (x: number) => `${(100 * x).toFixed(1)}%`;

function statusRows(store: Store): Array<ProxyStatus & { agentSeenMsAgo: number }> {
  const now = Date.now();
  return store.statuses().map((r) => ({ ...(r.status as unknown as ProxyStatus), agentSeenMsAgo: now - r.updatedAt }));
}

export function register(program: Command): void {
  program
    .command("agent")
    .description("run the kmlib agent: heartbeats, datasets, feedback, model deployment, mode controller, metrics")
    .option("-c, --config <file>", "agent configuration (JSON)", process.env.KMLIB_CONFIG ?? "kmlib.json")
    .option("--print-schema", "print the configuration's JSON schema and exit")
    .option("--check", "validate the configuration and exit")
    .action(async (o: { config: string; printSchema?: boolean; check?: boolean }) => {
      if (o.printSchema) return print(json(CONFIG_SCHEMA));
      const config = loadConfig(o.config);
      if (o.check) return print(`config ${o.config}: ok (${config.proxies.length} prox${config.proxies.length === 1 ? "y" : "ies"}, store ${config.agent.store})`);
      const agent = await Agent.start(config);
      await new Promise<void>((resolve) => {
        const stop = () => resolve();
        process.once("SIGINT", stop);
        process.once("SIGTERM", stop);
      });
      await agent.stop();
    });

  withStoreOptions(program.command("status"))
    .description("proxies, their modes (asked and effective), model versions, efficiency with 95% intervals, last transitions")
    .option("--json", "machine-readable output")
    .action((o: StoreOpts & { json?: boolean }) => {
      using store = openStore(o, true);
      const rows = statusRows(store);
      if (o.json) return print(json(rows));
      if (rows.length === 0) return print("no proxies in the store yet (is the agent running?)");
      // Proxies weighed on paired outcomes (lfs-gc's WA per epoch) show the mean gain too: over
      // the outcomes the controller weighs now (since the last transition), not the whole run,
      // which after a demotion would mix in the epochs it left behind (that one is in --json).
      const paired = rows.some((s) => s.paired);
      const pairedGain = (s: ProxyStatus) => {
        const p = (s.pairedWeighed ?? s.paired)?.[s.mode];
        return p && p.n ? `${pct(p.mean)} [${pct(p.lo)}, ${pct(p.hi)}] n=${p.n}` : "-";
      };
      print(
        table(
          rows.map((s) => {
            const e = s.efficiency[s.mode];
            return {
              ...(paired ? { "paired gain": pairedGain(s) } : {}),
              proxy: s.proxy,
              adapter: s.adapter,
              mode: `${s.mode}${s.pinned ? " (pinned)" : ""}`,
              effective: s.effectiveMode,
              model: s.modelVersion || "-",
              "default good": e && e.default.n ? `${pct(e.default.rate)} [${pct(e.default.lo)}, ${pct(e.default.hi)}]` : "-",
              "model good": e && e.model.n ? `${pct(e.model.rate)} [${pct(e.model.lo)}, ${pct(e.model.hi)}]` : "-",
              agent: s.agentSeenMsAgo < 10_000 ? "running" : `last seen ${Math.round(s.agentSeenMsAgo / 1000)} s ago`,
            };
          }),
          ["proxy", "adapter", "mode", "effective", "model", "default good", "model good", ...(paired ? ["paired gain"] : []), "agent"],
        ),
      );
      if (paired) print("\npaired gain: mean model gain over the default per epoch, 95% interval, over the epochs weighed since the last transition (whole run: --json, paired)");
      // The last transitions, with what the subsystems reported among them (lfs-gc: its
      // workload shifting), so a demotion shows next to the shift behind it.
      const events = store
        .events({ limit: 1000 })
        .filter((e) => !QUIET_KINDS.includes(e.kind))
        .slice(0, 8)
        .reverse();
      if (events.length) {
        print("\nlast transitions and subsystem events:");
        for (const e of events) print(`  ${new Date(e.at).toISOString()}  ${e.proxy ?? ""}  ${e.kind === "mode" ? "" : `[${e.kind}] `}${e.message}`);
      }
    });

  const mode = program.command("mode").description("proxy modes");
  withStoreOptions(mode.command("set"))
    .description("ask the running agent to put PROXY in MODE (emergency, learning, collaboration, recommendation)")
    .argument("<proxy>")
    .argument("<mode>")
    .option("--pin", "keep this mode: no automatic promotion or demotion (safety fallbacks still apply)")
    .option("--timeout <ms>", "wait this long for the agent's answer (0: do not wait)", "5000")
    .action(async (proxy: string, m: string, o: StoreOpts & { pin?: boolean; timeout: string }) => {
      const target = parseMode(m);
      using store = openStore(o, false);
      if (!store.statuses().some((s) => s.name === proxy)) throw new KmlibError(ErrorCode.NotFound, `proxy "${proxy}" is not in the store (known: ${store.statuses().map((s) => s.name).join(", ") || "none"})`);
      const id = store.request(proxy, "mode", { mode: target, pin: o.pin === true, who: "kmlib mode set" });
      const until = Date.now() + Number(o.timeout);
      for (;;) {
        const r = store.requestById(id);
        if (r?.result) {
          if (r.result.startsWith("error")) throw new KmlibError(ErrorCode.IllegalState, `agent refused: ${r.result}`);
          return print(`${proxy}: ${r.result}`);
        }
        if (Date.now() >= until) return print(`${proxy}: request ${id} queued; the agent applies it on its next round`);
        await new Promise((res) => setTimeout(res, 100));
      }
    });

  const model = program.command("model").description("the model registry");
  withStoreOptions(model.command("list"))
    .description("model versions of PROXY with training data, metrics and the active one")
    .argument("<proxy>")
    .option("--json", "machine-readable output")
    .action((proxy: string, o: StoreOpts & { json?: boolean }) => {
      using store = openStore(o, true);
      const list = store.registry.list(proxy);
      if (o.json) return print(json(list));
      if (list.length === 0) return print(`no models for proxy "${proxy}"`);
      print(
        table(
          list.map((m) => ({ "": m.active ? "*" : "", version: m.version, kind: m.kind, created: new Date(m.createdAt).toISOString(), "training data": m.trainingData, metrics: JSON.stringify(m.metrics), artefact: `${m.artefactFormat} ${m.artefactSize} B ${m.artefactSha256.slice(0, 12)}` })),
          ["", "version", "kind", "created", "training data", "metrics", "artefact"],
        ),
      );
    });
  withStoreOptions(model.command("add"))
    .description("register a compiled model artefact as a new version of PROXY (not activated)")
    .argument("<proxy>")
    .argument("<artefact>", "file with the compiled model")
    .requiredOption("--kind <kind>", "model kind (tree, forest, linear, ...)")
    .requiredOption("--training-data <ref>", "what it was trained on (dataset ids, file)")
    .option("--format <format>", "artefact format", "ir-json")
    .option("--metrics <json>", "metrics as a JSON object of numbers", "{}")
    .action((proxy: string, file: string, o: StoreOpts & { kind: string; trainingData: string; format: string; metrics: string }) => {
      let metrics: Record<string, number>;
      try {
        metrics = JSON.parse(o.metrics) as Record<string, number>;
      } catch (e) {
        throw new KmlibError(ErrorCode.InvalidArgument, `--metrics: not JSON: ${(e as Error).message}`);
      }
      using store = openStore(o, false);
      const m = store.registry.register({ proxy, kind: o.kind, trainingData: o.trainingData, metrics, artefact: new Uint8Array(readFileSync(file)), artefactFormat: o.format });
      print(`${proxy}: registered model version ${m.version} (${m.artefactSize} B, sha256 ${m.artefactSha256.slice(0, 12)})`);
    });
  withStoreOptions(model.command("activate"))
    .description("make VERSION the active model of PROXY (atomic; the agent deploys it)")
    .argument("<proxy>")
    .argument("<version>")
    .action((proxy: string, v: string, o: StoreOpts) => {
      if (!/^\d+$/.test(v)) throw new KmlibError(ErrorCode.InvalidArgument, `version must be a positive integer, got "${v}"`);
      using store = openStore(o, false);
      const a = store.registry.activate(proxy, Number(v), "kmlib model activate");
      store.logEvent("model", `model version ${a.version} activated by kmlib model activate (was ${a.previous ?? "none"})`, { proxy, data: { ...a } });
      print(`${proxy}: model version ${a.version} active (was ${a.previous ?? "none"})`);
    });
  withStoreOptions(model.command("rollback"))
    .description("reactivate the model version that was active before the current one")
    .argument("<proxy>")
    .action((proxy: string, o: StoreOpts) => {
      using store = openStore(o, false);
      const a = store.registry.rollback(proxy, "kmlib model rollback");
      store.logEvent("model", `rolled back to model version ${a.version} (was ${a.previous})`, { proxy, data: { ...a } });
      print(`${proxy}: rolled back to model version ${a.version} (was ${a.previous})`);
    });

  const datasets = program.command("datasets").description("datasets collected by the agent");
  withStoreOptions(datasets.command("list"))
    .description("datasets per proxy with their RFC state and row counts")
    .option("--json", "machine-readable output")
    .action((o: StoreOpts & { json?: boolean }) => {
      using store = openStore(o, true);
      const list = store.data.datasets();
      if (o.json) return print(json(list));
      print(table(list.map((d) => ({ proxy: d.proxy, id: d.id, type: d.type, state: d.state, rows: d.rows, columns: d.columns.join(" ") })), ["proxy", "id", "type", "state", "rows", "columns"]));
    });
  withStoreOptions(datasets.command("export"))
    .description("write a dataset's rows as CSV or Parquet")
    .argument("<proxy>")
    .argument("<dataset>")
    .addOption(new Option("--format <format>", "output format").choices(["csv", "parquet"]).default("csv"))
    .requiredOption("-o, --out <file>", "output file")
    .action(async (proxy: string, id: string, o: StoreOpts & { format: string; out: string }) => {
      using store = openStore(o, true);
      const n = await exportDataset(store, proxy, id, parseFormat(o.format), o.out);
      print(`${proxy}/${id}: ${n} rows written to ${o.out} (${o.format})`);
    });
}
