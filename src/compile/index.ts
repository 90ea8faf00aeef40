/**
 * @module compile
 * The integer form (src/ml/ir) to eBPF and to C. Pure generators (`compileModel`,
 * `generateC`, the table layout) plus the kernel-side loader (`loadModel`), the gcc/clang
 * toolchain helpers, and the artifact `kmlib compile` writes. Calling conventions: abi.ts.
 */
export * from "./abi.ts";
export * from "./compile.ts";
export * from "./c.ts";
export * from "./limits.ts";
export * from "./table-layout.ts";
export * from "./artifact.ts";
export * from "./load.ts";
export { HostPredictor, clangBpfObject } from "./toolchain.ts";
export * from "./synthetic.ts";
