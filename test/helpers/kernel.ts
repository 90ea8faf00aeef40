/**
 * @module test/helpers/kernel
 * Capability checks for tests that need the real kernel. A test whose capability is absent
 * skips with the reason printed; with CI=true the same absence is a failure, so a skip can
 * never hide a regression in CI.
 */
import { existsSync, readFileSync } from "node:fs";
import { spawnSync } from "node:child_process";
import type { TestContext } from "node:test";

export type Capability = "root" | "bpf" | "netns" | "clang" | "llvm-objdump" | "gcc" | "libbpf-dev" | "hping3" | "sklearn" | "xgboost" | "onnx";

/** Debian's python3 (the one with python3-sklearn & co.; a `python3` on PATH may be another). */
export const SYSTEM_PYTHON = "/usr/bin/python3";

const pyCache = new Map<string, boolean>();
function pyModule(mod: string, pkg: string): string | undefined {
  let ok = pyCache.get(mod);
  if (ok === undefined) {
    ok = existsSync(SYSTEM_PYTHON) && spawnSync(SYSTEM_PYTHON, ["-c", `import ${mod}`], { stdio: "ignore" }).status === 0;
    pyCache.set(mod, ok);
  }
  return ok ? undefined : `python module ${mod} not importable by ${SYSTEM_PYTHON} (apt-get install ${pkg})`;
}

function has(cmd: string): boolean {
  return spawnSync("sh", ["-c", `command -v ${cmd}`], { stdio: "ignore" }).status === 0;
}

const checks: Record<Capability, () => string | undefined> = {
  root: () => (process.getuid?.() === 0 ? undefined : "not running as root"),
  bpf: () => {
    if (process.getuid?.() !== 0) return "bpf() needs root (CAP_BPF + CAP_SYS_ADMIN)";
    if (!existsSync("/proc/sys/kernel/unprivileged_bpf_disabled")) return "kernel without bpf() syscall";
    return undefined;
  },
  netns: () => {
    if (process.getuid?.() !== 0) return "network namespaces need root";
    if (!has("ip")) return "iproute2 (ip) not installed";
    return undefined;
  },
  clang: () => (has("clang") ? undefined : "clang not installed (apt-get install clang)"),
  "llvm-objdump": () => (has("llvm-objdump") ? undefined : "llvm-objdump not installed (apt-get install llvm)"),
  gcc: () => (has("gcc") ? undefined : "gcc not installed"),
  "libbpf-dev": () => (existsSync("/usr/include/bpf/libbpf.h") ? undefined : "libbpf-dev not installed"),
  hping3: () => (has("hping3") ? undefined : "hping3 not installed"),
  sklearn: () => pyModule("sklearn", "python3-sklearn"),
  xgboost: () => pyModule("xgboost", "python3-xgboost"),
  onnx: () => pyModule("onnx", "python3-onnx"),
};

/** Returns why the capabilities are missing, or undefined when all are present. */
export function missing(...caps: Capability[]): string | undefined {
  for (const c of caps) {
    const why = checks[c]();
    if (why) return `${c}: ${why}`;
  }
  return undefined;
}

function failInCi(why: string): void {
  if (process.env.CI === "true") throw new Error(`required capability absent in CI (a skip here is a failure): ${why}`);
}

/**
 * Call first in a kernel test. Returns true when the test may go on. Otherwise it skips the
 * test with the reason, or fails it under CI=true.
 */
export function requires(t: TestContext, ...caps: Capability[]): boolean {
  return proceeds(t, missing(...caps));
}

/** `requires` for a reason found by other means (e.g. a command's own check of its tools). */
export function proceeds(t: TestContext, why: string | undefined): boolean {
  if (!why) return true;
  failInCi(why);
  t.skip(why);
  return false;
}

/** For a whole suite's `skip` option: why the capabilities are missing, or undefined; throws under CI=true. */
export function suiteSkip(...caps: Capability[]): string | undefined {
  const why = missing(...caps);
  if (why) failInCi(why);
  return why;
}

/** Kernel version as [major, minor]. */
export function kernelVersion(): [number, number] {
  const m = /^(\d+)\.(\d+)/.exec(readFileSync("/proc/sys/kernel/osrelease", "utf8"));
  return m ? [Number(m[1]), Number(m[2])] : [0, 0];
}
