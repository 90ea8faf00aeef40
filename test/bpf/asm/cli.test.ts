/**
 * `kmlib bpf disasm`: the same text as llvm-objdump for a clang object, JSON for scripts, raw
 * and hex instruction files, the other listing styles, and typed errors with exit code 1.
 */
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { Call, Exit, Helper, JGT, LoadMapFd, Mov, R0, R1, assemble, label } from "../../../src/bpf/asm/index.ts";
import { missing, requires } from "../../helpers/kernel.ts";
import { type Compiled, compileFixtures, llvmObjdump, tempDir } from "./toolchain.ts";

const MAIN = new URL("../../../src/cli/main.ts", import.meta.url).pathname;

function kmlib(...args: string[]): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, ["--import", "tsx", MAIN, ...args], { encoding: "utf8" });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
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
    for (const c of compiled) {
      const r = kmlib("bpf", "disasm", c.path);
      assert.equal(r.status, 0, r.stderr);
      assert.equal(r.stdout, await llvmObjdump(["-d", c.path]));
      const rr = kmlib("bpf", "disasm", "-r", c.path);
      assert.equal(rr.stdout, await llvmObjdump(["-dr", c.path]));
    }
  });

  test("--section, --json and the other styles", (t) => {
    if (!requires(t, "clang", "llvm-objdump")) return;
    const c = compiled.find((x) => x.name === "subprog")!;
    const j = JSON.parse(kmlib("bpf", "disasm", "--json", c.path).stdout) as {
      format: string; license: string; sections: Array<{ name: string; items: Array<{ kind: string; text?: string }>; relocations: Array<{ kind: string }> }>;
    };
    assert.equal(j.format, "elf64-bpf");
    assert.equal(j.license, "GPL");
    assert.deepEqual(j.sections.map((s) => s.name), [".text", "xdp", "xdp/second"]);
    assert.ok(j.sections[1]!.relocations.some((r) => r.kind === "call") && j.sections[1]!.relocations.some((r) => r.kind === "map"));
    assert.ok(j.sections[1]!.items.some((i) => i.kind === "insn" && i.text === "exit"));

    const only = kmlib("bpf", "disasm", "--section", "xdp/second", c.path).stdout;
    assert.match(only, /Disassembly of section xdp\/second:/);
    assert.doesNotMatch(only, /Disassembly of section xdp:/);

    const dsl = kmlib("bpf", "disasm", "--style", "dsl", "--section", "xdp", c.path).stdout;
    assert.match(dsl, /CallLocal\("global_fn"\)/);
    assert.match(dsl, /LoadMapPtr\(R\d, "jump_table"\)/);
    const cil = kmlib("bpf", "disasm", "--style", "cilium", "--section", "xdp", c.path).stdout;
    assert.match(cil, /^caller:$/m);
    assert.match(cil, /Call ktime_get_ns/);
  });

  test("raw bytes and hex text", () => {
    const raw = join(tmp.path, "prog.bin");
    writeFileSync(raw, program.bytes);
    const r = kmlib("bpf", "disasm", raw);
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
    const hex = join(tmp.path, "prog.hex");
    writeFileSync(hex, Buffer.from(program.bytes).toString("hex").replace(/(.{16})/g, "$1\n"));
    assert.equal(kmlib("bpf", "disasm", "--hex", hex).stdout, r.stdout);
    const dsl = kmlib("bpf", "disasm", "--style", "dsl", raw).stdout;
    assert.match(dsl, /JGT\.imm\(R0, 5, "L5"\),\nCall\(Helper\.ktime_get_ns\),\nlabel\("L5"\),\nExit\(\),/);
    const j = JSON.parse(kmlib("bpf", "disasm", "--json", raw).stdout) as { format: string; sections: Array<{ items: unknown[] }> };
    assert.equal(j.format, "raw");
    assert.equal(j.sections[0]!.items.length, 5);
  });

  test("errors are typed, on stderr, with exit code 1", () => {
    const truncated = join(tmp.path, "truncated.o");
    writeFileSync(truncated, Uint8Array.from([0x7f, 0x45, 0x4c, 0x46, 2, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0]));
    const r = kmlib("bpf", "disasm", truncated);
    assert.equal(r.status, 1);
    assert.match(r.stderr, /^kmlib: KMLIB_INVALID_ELF: invalid ELF: truncated header \(18 of 64 bytes\)/);
    const odd = join(tmp.path, "odd.bin");
    writeFileSync(odd, program.bytes.subarray(0, 12));
    const o = kmlib("bpf", "disasm", "--style", "cilium", odd);
    assert.equal(o.status, 1);
    assert.match(o.stderr, /^kmlib: KMLIB_INVALID_ENCODING: /);
    const missingFile = kmlib("bpf", "disasm", join(tmp.path, "nope.o"));
    assert.equal(missingFile.status, 1);
    assert.match(missingFile.stderr, /^kmlib: KMLIB_NOT_FOUND: cannot read/);
    const help = kmlib("bpf", "disasm", "--help");
    assert.equal(help.status, 0);
    assert.match(help.stdout, /--section <name>/);
  });

  test("--section names a section that is not there", (t) => {
    if (!requires(t, "clang", "llvm-objdump")) return;
    const r = kmlib("bpf", "disasm", "--section", "nope", compiled[0]!.path);
    assert.equal(r.status, 1);
    assert.match(r.stderr, /^kmlib: KMLIB_NOT_FOUND: no program section named "nope"/);
  });
});
