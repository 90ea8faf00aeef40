/**
 * @module agent/config-schema
 * The JSON Schema of the agent's configuration file, with every default. Validation fills
 * defaults in, rejects unknown keys (a typo is an error, not a silently ignored setting) and
 * names the field in every message.
 */
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
          options: { type: "object", default: {} },
        },
      },
    },
  },
  definitions: {
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
