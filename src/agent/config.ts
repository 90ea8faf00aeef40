/**
 * @module agent/config
 * Loading and validating the agent's configuration (a JSON file) against `CONFIG_SCHEMA`.
 * Errors name the field: `agent.heartbeatMs: must be integer`. Cross-field rules the schema
 * cannot say (the heartbeat must be well inside its timeout) are checked here too.
 */
import { readFileSync } from "node:fs";
import { dirname, isAbsolute, resolve } from "node:path";
import { Ajv, type ErrorObject } from "ajv";
import { ErrorCode, KmlibError } from "../errors.ts";
import { type ControllerThresholds, resolveThresholds } from "../proxy/controller.ts";
import type { Mode } from "../proxy/mode.ts";
import { CONFIG_SCHEMA, PATTERN_HINTS } from "./config-schema.ts";

export interface ProxyConfig {
  readonly name: string;
  readonly adapter: string;
  readonly initialMode: Mode;
  readonly confidenceThreshold: number;
  readonly budget: { readonly limit: number; readonly window: number };
  /** Rows kept per dataset and feedback records kept in the store, newest first (0: all). */
  readonly retain: { readonly datasetRows: number; readonly feedback: number; readonly models: number };
  /** Resolved: global controller settings, overridden by the proxy's own. */
  readonly controller: ControllerThresholds;
  /**
   * Only the controller settings the file names (global, overridden by the proxy's own), so
   * an adapter kind's own defaults can fill the rest (`Agent.start`).
   */
  readonly controllerSet: Partial<ControllerThresholds>;
  readonly options: Readonly<Record<string, unknown>>;
}

export interface AgentConfig {
  readonly agent: {
    readonly store: string;
    readonly heartbeatMs: number;
    readonly heartbeatTimeoutMs: number;
    readonly evaluateMs: number;
    readonly logLevel: "debug" | "info" | "warn" | "error";
    readonly logFile?: string;
  };
  readonly metrics: { readonly enabled: boolean; readonly host: string; readonly port: number };
  readonly controller: ControllerThresholds;
  readonly proxies: readonly ProxyConfig[];
}

const ajv = new Ajv({ allErrors: true, useDefaults: true, strict: true, allowUnionTypes: true });
const validate = ajv.compile(CONFIG_SCHEMA);

/** `/agent/heartbeatMs` -> `agent.heartbeatMs`; `/proxies/0/name` -> `proxies[0].name`. */
function fieldOf(e: ErrorObject): string {
  const parts = e.instancePath.split("/").slice(1).map((p) => p.replace(/~1/g, "/").replace(/~0/g, "~"));
  let out = "";
  for (const p of parts) out += /^\d+$/.test(p) ? `[${p}]` : out ? `.${p}` : p;
  if (e.keyword === "required") {
    const missing = (e.params as { missingProperty: string }).missingProperty;
    return out ? `${out}.${missing}` : missing;
  }
  if (e.keyword === "additionalProperties") {
    const extra = (e.params as { additionalProperty: string }).additionalProperty;
    return out ? `${out}.${extra}` : extra;
  }
  return out || "(root)";
}

function messageOf(e: ErrorObject): string {
  switch (e.keyword) {
    case "additionalProperties":
      return "unknown field";
    case "required":
      return "is required";
    case "pattern": {
      const pattern = (e.params as { pattern: string }).pattern;
      return PATTERN_HINTS[pattern] ?? e.message ?? e.keyword;
    }
    case "enum":
      return `must be one of ${(e.params as { allowedValues: unknown[] }).allowedValues.map((v) => JSON.stringify(v)).join(", ")}`;
    default:
      return e.message ?? e.keyword;
  }
}

/** Validate a parsed configuration object; `base` resolves relative paths. */
export function parseConfig(raw: unknown, base = process.cwd()): AgentConfig {
  const data = structuredClone(raw ?? {});
  if (!validate(data)) {
    // An "if" error only repeats, less precisely, the errors of its "then" branch.
    const msgs = (validate.errors ?? []).filter((e) => e.keyword !== "if").map((e) => `${fieldOf(e)}: ${messageOf(e)}`);
    throw new KmlibError(ErrorCode.InvalidConfig, [...new Set(msgs)].join("; "));
  }
  const c = data as unknown as {
    agent: AgentConfig["agent"];
    metrics: AgentConfig["metrics"];
    controller: Partial<ControllerThresholds>;
    proxies: Array<Omit<ProxyConfig, "controller" | "controllerSet"> & { controller?: Partial<ControllerThresholds> }>;
  };
  if (c.agent.heartbeatMs * 2 > c.agent.heartbeatTimeoutMs) {
    throw new KmlibError(ErrorCode.InvalidConfig, `agent.heartbeatMs: must be at most half of agent.heartbeatTimeoutMs (${c.agent.heartbeatTimeoutMs}), got ${c.agent.heartbeatMs}`);
  }
  const names = new Set<string>();
  c.proxies.forEach((p, i) => {
    if (names.has(p.name)) throw new KmlibError(ErrorCode.InvalidConfig, `proxies[${i}].name: "${p.name}" used twice`);
    names.add(p.name);
  });
  const withField = <T>(field: string, f: () => T): T => {
    try {
      return f();
    } catch (e) {
      if (e instanceof KmlibError) throw new KmlibError(ErrorCode.InvalidConfig, e.message.replace(/^controller\./, `${field}.`), { cause: e });
      throw e;
    }
  };
  const controller = withField("controller", () => resolveThresholds(c.controller));
  return {
    agent: { ...c.agent, store: isAbsolute(c.agent.store) ? c.agent.store : resolve(base, c.agent.store) },
    metrics: c.metrics,
    controller,
    proxies: c.proxies.map((p, i) => {
      const controllerSet = Object.freeze({ ...c.controller, ...p.controller });
      return { ...p, controller: withField(`proxies[${i}].controller`, () => resolveThresholds(controllerSet)), controllerSet };
    }),
  };
}

export function loadConfig(path: string): AgentConfig {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (e) {
    throw new KmlibError(ErrorCode.NotFound, `config ${path}: ${(e as Error).message}`, { cause: e });
  }
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (e) {
    throw new KmlibError(ErrorCode.InvalidConfig, `config ${path}: not valid JSON: ${(e as Error).message}`, { cause: e });
  }
  try {
    return parseConfig(raw, dirname(resolve(path)));
  } catch (e) {
    if (e instanceof KmlibError) throw new KmlibError(e.code, `config ${path}: ${e.message}`, { cause: e });
    throw e;
  }
}
