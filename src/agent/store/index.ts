/**
 * @module agent/store
 * The agent's embedded store (SQLite through better-sqlite3).
 */
export * from "./db.ts";
export * from "./data.ts";
export * from "./registry.ts";
export * from "./store.ts";
