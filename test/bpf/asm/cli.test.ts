/**
 * `kmlib bpf disasm`: the same text as llvm-objdump for a clang object, JSON for scripts, raw
 * and hex instruction files, the other listing styles, and typed errors with exit code 1.
 */
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { Call, Exit, Helper, JGT, LoadMapFd, Mov, R0, R1, assemble, label } from "../../../src/bpf/asm/index.ts";
import { missing, requires } from "../../helpers/kernel.ts";
import { type Compiled, compileFixtures, llvmObjdump, tempDir } from "./toolchain.ts";

const MAIN = new URL("../../../src/cli/main.ts", import.meta.url).pathname;

interface Run {
  status: number | null;
  stdout: string;
  stderr: string;
}

/** Run the CLI; tests start several at once, since each start costs most of a second. */
function kmlib(...args: string[]): Promise<Run> {
  return new Promise((resolve) => {
    execFile(process.execPath, ["--import", "tsx", MAIN, ...args], { encoding: "utf8", maxBuffer: 64 << 20 }, (err, stdout, stderr) => {
      const code = err === null ? 0 : typeof err.code === "number" ? err.code : null;
      resolve({ status: code, stdout, stderr });
    });
  });
}

const tmp = tempDir("kmlib-cli-");
after(() => tmp.dispose());

const program = assemble([Mov.imm(R0, 0), LoadMapFd(R1, 3), JGT.imm(R0, 5, "out"), Call(Helper.ktime_get_ns), label("out"), Exit()]);

describe("kmlib bpf disasm", () => {
  let compiled: Compiled[] = [];
  before(async () => {
    if (missing("clang", "llvm-objdump") === undefined) compiled = await compileFixtures(tmp.path, (name, cpu) => cpu === "v2" && ["subprog", "xdp-counter"].includes(name));
  });

  test("an object: the text of llvm-objdump -d, and of -dr", async (t) => {
    if (!requires(t, "clang", "llvm-objdump")) return;
    await Promise.all(compiled.map(async (c) => {
      const [r, rr, d, dr] = await Promise.all([
        kmlib("bpf", "disasm", c.path), kmlib("bpf", "disasm", "-r", c.path), llvmObjdump(["-d", c.path]), llvmObjdump(["-dr", c.path]),
      ]);
      assert.equal(r.status, 0, r.stderr);
      assert.equal(r.stdout, d);
      assert.equal(rr.stdout, dr);
    }));
  });

  test("--section, --json and the other styles", async (t) => {
    if (!requires(t, "clang", "llvm-objdump")) return;
    const c = compiled.find((x) => x.name === "subprog")!;
    const [json, onlyRun, dslRun, cilRun] = await Promise.all([
      kmlib("bpf", "disasm", "--json", c.path),
      kmlib("bpf", "disasm", "--section", "xdp/second", c.path),
      kmlib("bpf", "disasm", "--style", "dsl", "--section", "xdp", c.path),
      kmlib("bpf", "disasm", "--style", "cilium", "--section", "xdp", c.path),
    ]);
    const j = JSON.parse(json.stdout) as {
      format: string; license: string; sections: Array<{ name: string; items: Array<{ kind: string; text?: string }>; relocations: Array<{ kind: string }> }>;
    };
    assert.equal(j.format, "elf64-bpf");
    assert.equal(j.license, "GPL");
    assert.deepEqual(j.sections.map((s) => s.name), [".text", "xdp", "xdp/second"]);
    assert.ok(j.sections[1]!.relocations.some((r) => r.kind === "call") && j.sections[1]!.relocations.some((r) => r.kind === "map"));
    assert.ok(j.sections[1]!.items.some((i) => i.kind === "insn" && i.text === "exit"));

    const only = onlyRun.stdout;
    assert.match(only, /Disassembly of section xdp\/second:/);
    assert.doesNotMatch(only, /Disassembly of section xdp:/);

    const dsl = dslRun.stdout;
    assert.match(dsl, /CallLocal\("global_fn"\)/);
    assert.match(dsl, /LoadMapPtr\(R\d, "jump_table"\)/);
    const cil = cilRun.stdout;
    assert.match(cil, /^caller:$/m);
    assert.match(cil, /Call ktime_get_ns/);
  });

  test("raw bytes and hex text", async () => {
    const raw = join(tmp.path, "prog.bin");
    writeFileSync(raw, program.bytes);
    const hex = join(tmp.path, "prog.hex");
    writeFileSync(hex, Buffer.from(program.bytes).toString("hex").replace(/(.{16})/g, "$1\n"));
    const [r, hexRun, dslRun, jsonRun] = await Promise.all([
      kmlib("bpf", "disasm", raw), kmlib("bpf", "disasm", "--hex", hex), kmlib("bpf", "disasm", "--style", "dsl", raw), kmlib("bpf", "disasm", "--json", raw),
    ]);
    assert.equal(r.status, 0, r.stderr);
    assert.equal(
      r.stdout,
      [
        "       0:\tb7 00 00 00 00 00 00 00\tr0 = 0",
        "       1:\t18 11 00 00 03 00 00 00 00 00 00 00 00 00 00 00\tld_pseudo\tr1, 1, 3",
        "       3:\t25 00 01 00 05 00 00 00\tif r0 > 5 goto +1",
        "       4:\t85 00 00 00 05 00 00 00\tcall 5",
        "       5:\t95 00 00 00 00 00 00 00\texit",
        "",
      ].join("\n"),
    );
    assert.equal(hexRun.stdout, r.stdout);
    const dsl = dslRun.stdout;
    assert.match(dsl, /JGT\.imm\(R0, 5, "L5"\),\nCall\(Helper\.ktime_get_ns\),\nlabel\("L5"\),\nExit\(\),/);
    const j = JSON.parse(jsonRun.stdout) as { format: string; sections: Array<{ items: unknown[] }> };
    assert.equal(j.format, "raw");
    assert.equal(j.sections[0]!.items.length, 5);
  });

  test("errors are typed, on stderr, with exit code 1", async () => {
    const truncated = join(tmp.path, "truncated.o");
    writeFileSync(truncated, Uint8Array.from([0x7f, 0x45, 0x4c, 0x46, 2, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0]));
    const odd = join(tmp.path, "odd.bin");
    writeFileSync(odd, program.bytes.subarray(0, 12));
    const [r, o, missingFile, help] = await Promise.all([
      kmlib("bpf", "disasm", truncated), kmlib("bpf", "disasm", "--style", "cilium", odd), kmlib("bpf", "disasm", join(tmp.path, "nope.o")), kmlib("bpf", "disasm", "--help"),
    ]);
    assert.equal(r.status, 1);
    assert.match(r.stderr, /^kmlib: KMLIB_INVALID_ELF: invalid ELF: truncated header \(18 of 64 bytes\)/);
    assert.equal(o.status, 1);
    assert.match(o.stderr, /^kmlib: KMLIB_INVALID_ENCODING: /);
    assert.equal(missingFile.status, 1);
    assert.match(missingFile.stderr, /^kmlib: KMLIB_NOT_FOUND: cannot read/);
    assert.equal(help.status, 0);
    assert.match(help.stdout, /--section <name>/);
  });

  test("--section names a section that is not there", async (t) => {
    if (!requires(t, "clang", "llvm-objdump")) return;
    const r = await kmlib("bpf", "disasm", "--section", "nope", compiled[0]!.path);
    assert.equal(r.status, 1);
    assert.match(r.stderr, /^kmlib: KMLIB_NOT_FOUND: no program section named "nope"/);
  });
});
