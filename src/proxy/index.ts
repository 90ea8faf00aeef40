/**
 * @module proxy
 * The ml-lib proxy contract, pure logic shared by every subsystem: lifecycle, modes and the
 * decision rule, datasets, recommendations, feedback, efficiency and the mode controller.
 * No I/O and no FFI here; the kernel-side halves live in `proxy/kernel/`.
 */
export * from "./mode.ts";
export * from "./lifecycle.ts";
export * from "./decide.ts";
export * from "./dataset.ts";
export * from "./recommendation.ts";
export * from "./feedback.ts";
export * from "./stats.ts";
export * from "./efficiency.ts";
export * from "./paired.ts";
export * from "./controller.ts";
export * from "./control.ts";
