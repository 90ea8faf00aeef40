/**
 * @module agent/config-schema
 * The JSON Schema of the agent's configuration file, with every default. Validation fills
 * defaults in, rejects unknown keys (a typo is an error, not a silently ignored setting) and
 * names the field in every message. A proxy's `options` belong to its adapter; where the kind is
 * known here (`lfs-gc`) they are checked too, so `kmlib agent --check` catches them; the
 * adapter checks them again when it starts.
 */
/**
 * An lfs-gc workload: one name, or a sequence `A@COUNT,...,Z` (src/subsystems/lfs-gc/shifted-workload.ts)
 * whose parts but the last say how many host writes they last; the last runs on.
 */
const WORKLOAD_PATTERN = "^(?:[^,]+@(?:\\d+|\\d+(?:\\.\\d+)?x),)*(?![^,]*@\\d+(?:\\.\\d+)?x?$)[^,]+$";

/** What a `pattern` means, for the error message (keyed by the pattern). */
export const PATTERN_HINTS: Readonly<Record<string, string>> = Object.freeze({
  [WORKLOAD_PATTERN]: "must be a workload name, or a sequence WORKLOAD@COUNT,...,WORKLOAD (COUNT: host writes, or Nx for N x logicalBlocks; the last part runs on, with no @COUNT), e.g. hotcold-90-10@40x,uniform",
});

export const CONFIG_SCHEMA = {
  $schema: "http://json-schema.org/draft-07/schema#",
  title: "kmlib agent configuration",
  type: "object",
  additionalProperties: false,
  properties: {
    agent: {
      type: "object",
      additionalProperties: false,
      default: {},
      properties: {
        store: { type: "string", minLength: 1, default: "kmlib-store.db", description: "SQLite store file (relative to the config file)" },
        heartbeatMs: { type: "integer", minimum: 10, maximum: 60000, default: 200, description: "how often the agent writes its heartbeat" },
        heartbeatTimeoutMs: { type: "integer", minimum: 50, maximum: 600000, default: 1000, description: "kernel side falls back to emergency when the heartbeat is older" },
        evaluateMs: { type: "integer", minimum: 10, maximum: 3600000, default: 1000, description: "how often efficiency is read and the mode controller runs" },
        logLevel: { enum: ["debug", "info", "warn", "error"], default: "info" },
        logFile: { type: "string", minLength: 1, description: "JSON-lines log file; default standard error" },
      },
    },
    metrics: {
      type: "object",
      additionalProperties: false,
      default: {},
      properties: {
        enabled: { type: "boolean", default: true },
        host: { type: "string", minLength: 1, default: "127.0.0.1" },
        port: { type: "integer", minimum: 0, maximum: 65535, default: 9464 },
      },
    },
    controller: { $ref: "#/definitions/thresholds", default: {} },
    proxies: {
      type: "array",
      default: [],
      items: {
        type: "object",
        additionalProperties: false,
        required: ["name", "adapter"],
        properties: {
          name: { type: "string", pattern: "^[A-Za-z0-9_][A-Za-z0-9_.-]{0,62}$" },
          adapter: { type: "string", minLength: 1 },
          initialMode: { enum: ["emergency", "learning", "collaboration", "recommendation"], default: "learning" },
          confidenceThreshold: { type: "number", minimum: 0, maximum: 1, default: 0.8 },
          budget: {
            type: "object",
            additionalProperties: false,
            default: {},
            properties: {
              limit: { type: "integer", minimum: 0, default: 500 },
              window: { type: "integer", minimum: 1, default: 1000 },
            },
          },
          controller: { $ref: "#/definitions/thresholds" },
          retain: {
            type: "object",
            additionalProperties: false,
            default: {},
            description: "how much the store keeps of what this proxy publishes, newest first (0: everything)",
            properties: {
              datasetRows: { type: "integer", minimum: 0, default: 0, description: "rows kept per dataset" },
              feedback: { type: "integer", minimum: 0, default: 0, description: "feedback records kept" },
              models: { type: "integer", minimum: 0, default: 0, description: "model versions whose artefacts are kept (the newest, and the top of the rollback stack); older versions keep their metadata" },
            },
          },
          options: { type: "object", default: {} },
        },
        allOf: [{ if: { type: "object", properties: { adapter: { const: "lfs-gc" } } }, then: { type: "object", properties: { options: { $ref: "#/definitions/lfsGcOptions" } } } }],
      },
    },
  },
  definitions: {
    // The lfs-gc adapter's options (src/subsystems/lfs-gc/proxy/adapter.ts: parseLfsGcOptions;
    // its defaults live there). The proxy's heartbeat, confidence and budget come from the
    // proxy's own fields, not from here.
    lfsGcOptions: {
      type: "object",
      additionalProperties: false,
      properties: {
        workload: {
          type: "string",
          minLength: 1,
          pattern: WORKLOAD_PATTERN,
          description: "host workload: uniform, hotcold-H-C (e.g. hotcold-90-10), zipf-S, phases, trace:FILE (MQSim); or a sequence that shifts, A@COUNT,...,Z (COUNT host writes, or Nx for N x logicalBlocks; the last runs on), e.g. hotcold-90-10@40x,uniform",
        },
        seed: { type: "integer", minimum: 1, description: "seed of the workload (and of seeded default policies)" },
        logicalBlocks: { type: "integer", minimum: 64, maximum: 67108864, description: "device size in blocks (default 16384)" },
        blocksPerSegment: { type: "integer", minimum: 2, maximum: 65536, description: "blocks per segment (default 32)" },
        spareFactor: { type: "number", minimum: 0.01, maximum: 0.9, description: "spare fraction of physical space (default 0.1)" },
        fallback: { enum: ["greedy", "cost-benefit", "f2fs-cb", "fifo"], description: "the default victim policy (default greedy)" },
        epochWrites: { type: "integer", minimum: 0, description: "host writes per paired WA evaluation epoch (default 16384; 0: no paired evidence)" },
        writesPerPoll: { type: "integer", minimum: 1, description: "host writes simulated per agent round (default logicalBlocks / 16)" },
        recommendationTtl: { type: "integer", minimum: 1, description: "GC decisions a recommended victim list stays valid (default 64)" },
        historyCapacity: { type: "integer", minimum: 1, description: "records the gc-block-history ring holds (default 2^20)" },
        retrainWrites: { type: "integer", minimum: 0, description: "host writes between new lifetime-table versions (default 4096; 0: every round)" },
        recommend: { type: "boolean", description: "recommend victims from the segment state every round (default true)" },
      },
    },
    thresholds: {
      type: "object",
      additionalProperties: false,
      properties: {
        confidence: { type: "number", exclusiveMinimum: 0.5, exclusiveMaximum: 1 },
        promoteMargin: { type: "number", minimum: -1, maximum: 1 },
        demoteMargin: { type: "number", minimum: -1, maximum: 1 },
        minDecisions: { type: "integer", minimum: 1 },
        promoteStreak: { type: "integer", minimum: 1 },
        collapseMargin: { type: "number", minimum: -1, maximum: 1 },
        collapseRate: { type: "number", minimum: 0, maximum: 1 },
        maxMode: { enum: ["learning", "collaboration", "recommendation"] },
        autoRecover: { type: "boolean" },
        recoverTo: { enum: ["learning", "collaboration", "recommendation"] },
        collapseCooldownMs: { type: "integer", minimum: 0 },
      },
    },
  },
} as const;
