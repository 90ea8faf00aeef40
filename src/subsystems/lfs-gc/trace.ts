/**
 * @module subsystems/lfs-gc/trace
 * Replay of real block I/O traces in MQSim's text format, one request a line:
 * `arrival_time_ns device_id start_sector size_in_sectors type` (type 0 = write, 1 = read,
 * 512-byte sectors). Reads are dropped; each write becomes the 4 KiB blocks it touches. Block
 * numbers are remapped densely in first-seen order, so the simulated device holds exactly the
 * data the trace writes, and the write sequence loops when the trace runs out (a short trace
 * then reaches the steady state that GC needs). The file is read in place, never copied.
 */
import { readFileSync } from "node:fs";
import { basename } from "node:path";
import { ErrorCode, KmlibError } from "../../errors.ts";
import type { Workload } from "./workload.ts";

export interface TraceStats {
  requests: number;
  writeRequests: number;
  /** Block writes in one pass of the trace. */
  blockWrites: number;
  /** Distinct blocks written (= the workload's logical blocks). */
  distinctBlocks: number;
}

export class TraceWorkload implements Workload {
  readonly name: string;
  readonly logicalBlocks: number;
  readonly stats: TraceStats;
  private readonly seq: Int32Array;
  private pos = 0;

  /** @param blockBytes block size in bytes, a multiple of the 512-byte sector. */
  constructor(
    readonly path: string,
    readonly blockBytes = 4096,
  ) {
    if (blockBytes % 512 !== 0 || blockBytes <= 0) throw new KmlibError(ErrorCode.InvalidArgument, `block size must be a multiple of 512: ${blockBytes}`);
    const sectorsPerBlock = blockBytes / 512;
    let text: string;
    try {
      text = readFileSync(path, "utf8");
    } catch (e) {
      throw new KmlibError(ErrorCode.NotFound, `cannot read trace ${path}`, { cause: e });
    }
    const dense = new Map<number, number>();
    const out: number[] = [];
    let requests = 0;
    let writeRequests = 0;
    let lineNo = 0;
    for (const line of text.split("\n")) {
      lineNo++;
      const t = line.trim();
      if (t === "" || t.startsWith("#")) continue;
      const f = t.split(/\s+/);
      if (f.length < 5) throw new KmlibError(ErrorCode.InvalidConfig, `${basename(path)}:${lineNo}: expected 5 fields, got ${f.length}`);
      const start = Number(f[2]);
      const size = Number(f[3]);
      const type = Number(f[4]);
      if (!Number.isSafeInteger(start) || !Number.isSafeInteger(size) || start < 0 || size <= 0 || (type !== 0 && type !== 1)) {
        throw new KmlibError(ErrorCode.InvalidConfig, `${basename(path)}:${lineNo}: bad request "${t}"`);
      }
      requests++;
      if (type !== 0) continue;
      writeRequests++;
      const first = Math.floor(start / sectorsPerBlock);
      const last = Math.floor((start + size - 1) / sectorsPerBlock);
      for (let b = first; b <= last; b++) {
        let id = dense.get(b);
        if (id === undefined) dense.set(b, (id = dense.size));
        out.push(id);
      }
    }
    if (out.length === 0) throw new KmlibError(ErrorCode.InvalidConfig, `${basename(path)}: no write requests in the trace`);
    this.seq = Int32Array.from(out);
    this.logicalBlocks = dense.size;
    this.name = `trace:${basename(path).replace(/\.trace$/, "")}`;
    this.stats = { requests, writeRequests, blockWrites: out.length, distinctBlocks: dense.size };
  }

  next(out: Int32Array, n: number): void {
    const seq = this.seq;
    for (let i = 0; i < n; i++) {
      out[i] = seq[this.pos]!;
      if (++this.pos === seq.length) this.pos = 0;
    }
  }
}
