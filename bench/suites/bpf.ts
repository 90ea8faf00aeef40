/**
 * @module bench/suites/bpf
 * The eBPF toolkit's own costs, each beside a C anchor over libbpf run in the same process
 * tree on the same kernel objects (inherited file descriptors):
 * - test-run ns of an empty XDP program (kernel clock) and test-run calls/s from Node vs C;
 * - map update+lookup operations per second from Node vs a C loop;
 * - ring-buffer 64-byte records per second delivered into Node with zero loss vs a C
 *   ring_buffer__consume loop (target >= 1,000,000 records/s).
 */
import { execFileSync, spawnSync } from "node:child_process";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { Add, Exit, Mov, R0, R10, R2, RingBuffer, StoreImm, createMap, loadProgram, type Program } from "../../src/bpf/index.ts";
import { entry, median, progress, type BenchEntry } from "../types.ts";

const REPEATS = 5;
const pkt = new Uint8Array(64);
pkt[12] = 0x08;

function buildAnchor(): string {
  const dir = mkdtempSync(join(tmpdir(), "kmlib-bench-"));
  const out = join(dir, "bpf-anchor");
  const src = fileURLToPath(new URL("../c/bpf-anchor.c", import.meta.url));
  execFileSync("gcc", ["-O2", "-o", out, src, "-lbpf", "-lpthread"], { stdio: "inherit" });
  return out;
}

/** Run the C anchor with kernel objects as fds 3, 4, 5. */
function anchor(bin: string, args: string[], fds: number[], env: Record<string, string> = {}): Record<string, number> {
  const r = spawnSync(bin, args, { stdio: ["ignore", "pipe", "inherit", ...fds], encoding: "utf8", env: { ...process.env, ...env } });
  if (r.status !== 0) throw new Error(`C anchor ${args.join(" ")} failed (${r.status})`);
  return JSON.parse(r.stdout) as Record<string, number>;
}

function testRunBench(bin: string): BenchEntry[] {
  using prog = loadProgram({ name: "empty_xdp", type: "XDP", instructions: [Mov.imm(R0, 2), Exit()] });
  const kernelNs: number[] = [], cKernelNs: number[] = [], nodeCalls: number[] = [], cCalls: number[] = [];
  const CALLS = 20000;
  for (let i = 0; i < REPEATS; i++) {
    progress(`test-run round ${i + 1}/${REPEATS}`);
    kernelNs.push(prog.testRun({ data: pkt, repeat: 1_000_000 }).nsPerRun);
    const t0 = process.hrtime.bigint();
    for (let c = 0; c < CALLS; c++) prog.testRun({ data: pkt });
    nodeCalls.push(CALLS / (Number(process.hrtime.bigint() - t0) / 1e9));
    const c = anchor(bin, ["testrun", "1000000", String(CALLS)], [prog.fd]);
    cKernelNs.push(c.nsPerRun!);
    cCalls.push(c.callsPerSecond!);
  }
  return [
    entry("xdp-empty-test-run", median(kernelNs), "ns/run", "same program, test-run from C libbpf", median(cKernelNs), { repeat: 1_000_000 }),
    entry("test-run-calls", median(nodeCalls), "calls/s", "C libbpf bpf_prog_test_run_opts loop", median(cCalls), { calls: CALLS }),
  ];
}

function mapBench(bin: string): BenchEntry[] {
  const N = 200_000;
  using map = createMap({ name: "bench_hash", type: "HASH", keySize: 4, valueSize: 8, maxEntries: N });
  const key = new Uint8Array(4), value = new Uint8Array(8), out = new Uint8Array(8);
  const kv = new DataView(key.buffer), vv = new DataView(value.buffer), ov = new DataView(out.buffer);
  const node: number[] = [], c: number[] = [];
  for (let i = 0; i < REPEATS; i++) {
    progress(`map ops round ${i + 1}/${REPEATS}`);
    const t0 = process.hrtime.bigint();
    for (let k = 0; k < N; k++) {
      kv.setUint32(0, k, true);
      vv.setBigUint64(0, BigInt(k) * 3n, true);
      map.update(key, value);
      if (!map.lookupInto(key, out) || ov.getBigUint64(0, true) !== BigInt(k) * 3n) throw new Error("map lookup mismatch");
    }
    node.push((2 * N) / (Number(process.hrtime.bigint() - t0) / 1e9));
    c.push(anchor(bin, ["mapops", String(N)], [map.fd]).opsPerSecond!);
  }
  return [entry("map-update-lookup", median(node), "ops/s", "C loop over libbpf bpf_map_update_elem/lookup_elem", median(c), { n: N, keySize: 4, valueSize: 8 })];
}

/** XDP program writing one 64-byte record per run (from the stack), counting failures. */
function producer(rb: RingBuffer): Program {
  return loadProgram({
    name: "rb_producer",
    type: "XDP",
    instructions: [
      Array.from({ length: 8 }, (_, i) => StoreImm("DW", R10, -64 + 8 * i, i)),
      Mov.reg(R2, R10),
      Add.imm(R2, -64),
      // BPF_RB_NO_WAKEUP: both readers here poll, so wake-ups would only cost time.
      rb.output({ data: R2, size: 64, flags: 1 }),
      Mov.imm(R0, 2),
      Exit(),
    ],
    maps: rb.maps,
  });
}

async function ringbufBench(bin: string): Promise<BenchEntry[]> {
  const SIZE = 16 << 20, TOTAL = 2_000_000, BATCH = 50_000, REC = 72;
  const node: number[] = [], c: number[] = [];
  let lostTotal = 0n;
  for (let i = 0; i < REPEATS; i++) {
    progress(`ring buffer round ${i + 1}/${REPEATS}`);
    {
      using rb = new RingBuffer({ name: "bench_rb", size: SIZE });
      using prog = producer(rb);
      using reader = rb.reader();
      let produced = 0, consumed = 0;
      const t0 = process.hrtime.bigint();
      while (produced < TOTAL) {
        while ((produced - consumed) * REC > SIZE / 2) consumed += reader.consumeRaw(() => {});
        const run = prog.testRunAsync({ data: pkt, repeat: BATCH });
        let done = false;
        void run.then(() => (done = true));
        while (!done) {
          consumed += reader.consumeRaw(() => {});
          await new Promise((r) => setImmediate(r));
        }
        await run;
        produced += BATCH;
      }
      while (consumed < produced) consumed += reader.consumeRaw(() => {});
      node.push(consumed / (Number(process.hrtime.bigint() - t0) / 1e9));
      lostTotal += rb.lost();
      if (consumed !== TOTAL) throw new Error(`ring buffer: ${consumed} of ${TOTAL} records delivered`);
    }
    {
      using rb = new RingBuffer({ name: "bench_rb", size: SIZE });
      using prog = producer(rb);
      const r = anchor(bin, ["ringbuf", String(TOTAL), String(BATCH)], [prog.fd, rb.map.fd, rb.lostMap.fd], { RB_SIZE: String(SIZE) });
      if (r.lost !== 0 || r.records !== TOTAL) throw new Error(`C anchor lost records: ${JSON.stringify(r)}`);
      c.push(r.recordsPerSecond!);
    }
  }
  if (lostTotal !== 0n) throw new Error(`ring buffer lost ${lostTotal} records`);
  return [entry("ringbuf-64B-records", median(node), "records/s", "C libbpf ring_buffer__consume loop", median(c), { total: TOTAL, recordBytes: 64, lost: 0, target: 1_000_000 })];
}

export default async function run(): Promise<BenchEntry[]> {
  const bin = buildAnchor();
  return [...testRunBench(bin), ...mapBench(bin), ...(await ringbufBench(bin))];
}

