/**
 * @module compile/toolchain
 * Building the C export with real compilers: gcc for a host predictor (the exactness tests
 * run it on the same rows as the evaluator and the kernel), clang `-O2 -target bpf` for the
 * benchmark's baseline (a standalone XDP object whose program kmlib's own loader loads).
 * The model file is compiled freestanding and must have no undefined symbol (no libc).
 */
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ErrorCode, KmlibError } from "../errors.ts";
import { irScoreCount, type IrModel } from "../ml/ir/types.ts";
import { generateC, type COptions } from "./c.ts";

function run(cmd: string, args: string[], input?: Uint8Array): Buffer {
  const r = spawnSync(cmd, args, { input, maxBuffer: 1 << 30 });
  if (r.error) throw new KmlibError(ErrorCode.Unsupported, `${cmd}: ${r.error.message}`, { cause: r.error });
  if (r.status !== 0) throw new KmlibError(ErrorCode.Unsupported, `${cmd} ${args.join(" ")} failed (${r.status}):\n${r.stderr.toString().slice(0, 4000)}`);
  return r.stdout;
}

const DRIVER = `#include <stdio.h>
#include <stdint.h>
int kmlib_predict(const int32_t *x, int32_t *scores);
int main(void) {
  static int32_t x[NF], out[1 + NS];
  while (fread(x, 4, NF, stdin) == NF) {
    out[0] = kmlib_predict(x, out + 1);
    fwrite(out, 4, 1 + NS, stdout);
  }
  return 0;
}
`;

/** A gcc-built host program running the C export on rows fed through stdin. Close() removes it. */
export class HostPredictor {
  readonly dir: string;
  readonly exe: string;
  readonly nFeatures: number;
  readonly nScores: number;

  /** `options`: C export options (the name stays kmlib_predict; the driver calls it). */
  constructor(ir: IrModel, options: Omit<COptions, "name" | "storage"> = {}) {
    this.nFeatures = ir.nFeatures;
    this.nScores = irScoreCount(ir);
    this.dir = mkdtempSync(join(tmpdir(), "kmlib-c-"));
    try {
      const model = join(this.dir, "model.c");
      writeFileSync(model, generateC(ir, options));
      writeFileSync(join(this.dir, "driver.c"), DRIVER);
      const obj = join(this.dir, "model.o");
      run("gcc", ["-std=c11", "-O2", "-ffreestanding", "-fno-builtin", "-Wall", "-Wextra", "-Werror", "-c", model, "-o", obj]);
      const undef = run("nm", ["-u", obj]).toString().trim();
      if (undef !== "") throw new KmlibError(ErrorCode.InvalidModel, `the C export needs outside symbols: ${undef}`);
      this.exe = join(this.dir, "predict");
      run("gcc", ["-O2", `-DNF=${this.nFeatures}`, `-DNS=${this.nScores}`, join(this.dir, "driver.c"), obj, "-o", this.exe]);
    } catch (e) {
      this.close();
      throw e;
    }
  }

  /** Classes and scores of row-major int32 rows. */
  predictRows(xq: Int32Array): { classes: Int32Array; scores: Int32Array } {
    const out = run(this.exe, [], new Uint8Array(xq.buffer, xq.byteOffset, xq.byteLength));
    const w = 1 + this.nScores;
    const all = new Int32Array(out.buffer, out.byteOffset, out.byteLength / 4);
    const n = all.length / w;
    const classes = new Int32Array(n);
    const scores = new Int32Array(n * this.nScores);
    for (let r = 0; r < n; r++) {
      classes[r] = all[r * w]!;
      scores.set(all.subarray(r * w + 1, r * w + w), r * this.nScores);
    }
    return { classes, scores };
  }

  close(): void {
    rmSync(this.dir, { recursive: true, force: true });
  }

  [Symbol.dispose](): void {
    this.close();
  }
}

/** Compiles BPF C with Debian's clang (-O2 -target bpf); returns the object file's bytes. */
export function clangBpfObject(source: string, extraArgs: readonly string[] = []): Uint8Array {
  const dir = mkdtempSync(join(tmpdir(), "kmlib-bpf-"));
  try {
    const src = join(dir, "prog.c");
    const obj = join(dir, "prog.o");
    writeFileSync(src, source);
    run("clang", ["-O2", "-target", "bpf", "-ffreestanding", "-Wall", "-Werror", ...extraArgs, "-c", src, "-o", obj]);
    return new Uint8Array(readFileSync(obj));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
