/**
 * @module test/bpf/asm/toolchain
 * The LLVM side of the disassembler tests: compile the C fixtures with Debian's clang into a
 * temporary directory (never into git), wrap arbitrary instruction bytes into an object with
 * clang's assembler, and run llvm-objdump. Also a seeded random generator.
 */
import { execFile } from "node:child_process";
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { Rng } from "../../../src/ml/rng.ts";

const run = promisify(execFile);

export const FIXTURES = new URL("../../fixtures/bpf-c/", import.meta.url).pathname;

export interface Compiled {
  /** Fixture name without `.c`. */
  readonly name: string;
  /** The `-mcpu` it was built for, "default", or "v3-g" (`-mcpu=v3 -g`: with BTF and DWARF). */
  readonly cpu: string;
  readonly path: string;
}

/** A temporary directory removed by `dispose()`. */
export function tempDir(prefix: string): { path: string; dispose: () => void } {
  const path = mkdtempSync(join(tmpdir(), prefix));
  return { path, dispose: () => rmSync(path, { recursive: true, force: true }) };
}

/**
 * The C fixtures and the cpus each is built for (atomics with fetch need cpu v3); the ones
 * with maps and subprograms also with debug info, as libbpf users build them.
 */
export function fixtureMatrix(): Array<{ name: string; cpus: string[] }> {
  return readdirSync(FIXTURES)
    .filter((f) => f.endsWith(".c"))
    .sort()
    .map((f) => {
      const name = f.slice(0, -2);
      if (name === "atomics") return { name, cpus: ["v3"] };
      return { name, cpus: ["default", "v1", "v2", "v3", ...(name === "subprog" || name === "xdp-counter" ? ["v3-g"] : [])] };
    });
}

/**
 * Compile every fixture for every cpu of the matrix (or those `want` accepts) with
 * `clang -O2 -target bpf -c`, in parallel.
 */
export async function compileFixtures(outDir: string, want: (name: string, cpu: string) => boolean = () => true): Promise<Compiled[]> {
  const jobs = fixtureMatrix().flatMap(({ name, cpus }) =>
    cpus.filter((cpu) => want(name, cpu)).map(async (cpu): Promise<Compiled> => {
      const path = join(outDir, `${name}-${cpu}.o`);
      const flags = cpu === "default" ? [] : cpu === "v3-g" ? ["-mcpu=v3", "-g"] : [`-mcpu=${cpu}`];
      const args = ["-O2", "-target", "bpf", ...flags, "-c", join(FIXTURES, `${name}.c`), "-o", path];
      await run("clang", args);
      return { name, cpu, path };
    }),
  );
  return Promise.all(jobs);
}

export async function llvmObjdump(args: string[]): Promise<string> {
  const { stdout } = await run("llvm-objdump", args, { maxBuffer: 64 << 20 });
  return stdout;
}

/**
 * An object whose executable section `section` holds exactly `bytes`, made by clang's
 * assembler from `.byte` directives, with a local symbol `start` at its start.
 */
export async function objectFromBytes(dir: string, name: string, bytes: Uint8Array, section = "prog"): Promise<string> {
  const lines = [`.section ${section},"ax",@progbits`, "start:"];
  for (let i = 0; i < bytes.length; i += 16) lines.push(`.byte ${Array.from(bytes.subarray(i, i + 16), (b) => `0x${b.toString(16)}`).join(",")}`);
  const src = join(dir, `${name}.s`);
  const obj = join(dir, `${name}.o`);
  writeFileSync(src, lines.join("\n") + "\n");
  await run("clang", ["-target", "bpf", "-c", src, "-o", obj]);
  return obj;
}

/** mulberry32 (ml/rng.ts): a small seeded generator, so a failure can be replayed. */
export function rng(seed: number): { int: (lo: number, hi: number) => number; pick: <T>(xs: readonly T[]) => T } {
  const r = new Rng(seed);
  const int = (lo: number, hi: number) => lo + r.int(hi - lo + 1);
  return { int, pick: (xs) => xs[int(0, xs.length - 1)]! };
}
