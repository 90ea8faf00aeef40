/**
 * @module agent
 * The user-space agent: subsystem adapter interface, configuration, store, per-proxy runner,
 * metrics, logs, dataset export, and the agent itself. `KernelProxy` (the eBPF proxy's maps)
 * and the ebpf-demo adapter need the kernel; import them from their modules.
 */
export * from "./adapter.ts";
export * from "./agent.ts";
export * from "./config.ts";
export * from "./config-schema.ts";
export * from "./export.ts";
export * from "./log.ts";
export * from "./metrics.ts";
export * from "./model-thread.ts";
export * from "./runner.ts";
export * from "./store/index.ts";
export { MockAdapter, mockArtefact } from "./adapters/mock.ts";
