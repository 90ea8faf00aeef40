/**
 * @module bench/suites/disasm
 * The disassembler's speed beside llvm-objdump's on the same object in the same run: an
 * object of ~100,000 instructions (every form LLVM 14 decodes, branches to random
 * instructions, wrapped into an ELF section by clang's assembler) printed in full by
 * `llvm-objdump -d` (process start included, amortised over the size) and by kmlib (read,
 * decode, format, render). Both texts must be identical. Also the round trip
 * lift -> assemble of the same code, instructions per second, beside decode alone.
 */
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  type AsmItem, type Instruction, Add, Add32, And, ArSh, AtomicAdd, Call, Exit, JEq, JGT32, JSLE, Ja, LoadImm64, LoadMem, Lsh, Mov, Mov32, Or32,
  R0, R1, R2, R3, R4, R10, StoreMem, ToBE, Xor, assemble, decode, encode, label, lift,
} from "../../src/bpf/asm/index.ts";
import { objdump, readBpfObject } from "../../src/bpf/elf/index.ts";
import { entry, median, progress, type BenchEntry } from "../types.ts";

const N = 100_000;
const REPEATS = 5;

/** A deterministic mix of common instructions, with labels every 50 so branches resolve. */
function program(): Uint8Array {
  const items: AsmItem[] = [];
  let seed = 12345;
  const next = () => (seed = (Math.imul(seed, 1103515245) + 12345) >>> 0);
  const forms: Array<(i: number) => Instruction> = [
    (i) => Mov.imm(R0, i), (i) => Add.imm(R1, i - 500), () => Add32.reg(R2, R3), () => Lsh.imm(R4, 3), () => ArSh.imm(R4, 1),
    () => And.reg(R1, R2), () => Xor.imm(R3, -1), () => Mov32.reg(R1, R2), () => Or32.imm(R0, 255), () => ToBE(R2, 16),
    (i) => LoadMem("W", R2, R1, i % 64), (i) => StoreMem("DW", R10, -8 * ((i % 8) + 1), R3), () => AtomicAdd("DW", R1, 0, R2),
    () => Call(1), (i) => LoadImm64(R3, BigInt(i) << 20n),
  ];
  let count = 0;
  let block = 0;
  for (; count < N; block++) {
    items.push(label(`b${block}`));
    for (let k = 0; k < 48; k++, count++) items.push(forms[next() % forms.length]!(count));
    const target = `b${block + 1}`;
    items.push(next() % 3 === 0 ? JEq.imm(R0, 7, target) : next() % 2 ? JGT32.reg(R1, R2, target) : JSLE.imm(R3, -9, target));
    items.push(Ja(target));
    count += 2;
  }
  items.push(label(`b${block}`), Exit());
  return assemble(items).bytes;
}

function timeIt(f: () => void): number {
  const t0 = process.hrtime.bigint();
  f();
  return Number(process.hrtime.bigint() - t0) / 1e9;
}

export default async function run(): Promise<BenchEntry[]> {
  const dir = mkdtempSync(join(tmpdir(), "kmlib-bench-disasm-"));
  try {
    progress(`building a ${N}-instruction object`);
    const bytes = program();
    const lines = [`.section prog,"ax",@progbits`, "start:"];
    for (let i = 0; i < bytes.length; i += 32) lines.push(`.byte ${Array.from(bytes.subarray(i, i + 32), (b) => `0x${b.toString(16)}`).join(",")}`);
    writeFileSync(join(dir, "big.s"), lines.join("\n") + "\n");
    const obj = join(dir, "big.o");
    execFileSync("clang", ["-target", "bpf", "-c", join(dir, "big.s"), "-o", obj]);
    const insns = decode(bytes).length;

    progress("llvm-objdump -d vs kmlib objdump");
    let theirs = "";
    let ours = "";
    const llvm: number[] = [];
    const kmlib: number[] = [];
    for (let r = 0; r < REPEATS; r++) {
      llvm.push(timeIt(() => (theirs = execFileSync("llvm-objdump", ["-d", obj], { encoding: "utf8", maxBuffer: 256 << 20 }))));
      kmlib.push(timeIt(() => (ours = objdump(readBpfObject(readFileSync(obj)).programs, { file: obj }))));
    }
    if (ours !== theirs) throw new Error("kmlib and llvm-objdump printed different text");

    progress("decode vs lift + assemble");
    const dec: number[] = [];
    const rt: number[] = [];
    for (let r = 0; r < REPEATS; r++) {
      dec.push(timeIt(() => decode(bytes)));
      rt.push(timeIt(() => {
        const back = assemble(lift(decode(bytes)).items).bytes;
        if (back.length !== bytes.length) throw new Error("round trip changed the size");
      }));
    }
    if (Buffer.compare(Buffer.from(assemble(lift(decode(bytes)).items).bytes), Buffer.from(encode(decode(bytes)))) !== 0) {
      throw new Error("round trip changed the bytes");
    }
    const ips = (s: number[]) => insns / median(s);
    return [
      entry("disassembly, instructions/s (kmlib objdump text)", ips(kmlib), "insn/s", "llvm-objdump -d, same object, same text", ips(llvm), { instructions: insns, repeats: REPEATS }),
      entry("lift + assemble round trip, instructions/s", ips(rt), "insn/s", "decode alone", ips(dec), { instructions: insns, repeats: REPEATS }),
    ];
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
