/**
 * @module agent/kernel/kernel-proxy
 * The kernel-side state of an eBPF proxy, from the agent's side: the control map (one 64-byte
 * record, `proxy/control.ts`) that the data path reads on every decision, and the per-CPU
 * efficiency counters (one 24-byte cell per mode x source, `proxy/kernel/fragment.ts`) it
 * writes, and the per-CPU collaboration budget window. Pinned under /sys/fs/bpf/kmlib/<pin>/ when asked, so the kernel side keeps running,
 * and falls back to emergency on its own, when the agent dies; a restarted agent re-attaches.
 * Needs CAP_BPF (root).
 */
import { existsSync, mkdirSync } from "node:fs";
import { type BpfMap, createMap, mapFromPin, pinPath } from "../../bpf/index.ts";
import { type Control, CONTROL_SIZE, decodeControl, encodeControl } from "../../proxy/control.ts";
import { type Counter, type EfficiencyCounters, emptyCounters } from "../../proxy/efficiency.ts";
import { BUDGET_CELL_SIZE, COUNTER_CELL_SIZE, CounterOffset } from "../../proxy/kernel/fragment.ts";
import { COUNTER_SLOTS, MODES, type Mode, SOURCES, type Source, counterSlot } from "../../proxy/mode.ts";

const KEY0 = new Uint8Array(4);
const key = (i: number) => {
  const k = new Uint8Array(4);
  new DataView(k.buffer).setUint32(0, i, true);
  return k;
};

export interface KernelProxyOptions {
  /** Pin directory relative to /sys/fs/bpf/kmlib (e.g. "ng0"); absent: not pinned. */
  readonly pin?: string;
}

export class KernelProxy {
  readonly control: BpfMap;
  readonly counters: BpfMap;
  /** Per-CPU collaboration budget window (fragment `budgetLookup`). */
  readonly budget: BpfMap;
  /** True when the maps were found pinned (a kernel side that outlived an agent). */
  readonly reattached: boolean;

  private constructor(control: BpfMap, counters: BpfMap, budget: BpfMap, reattached: boolean) {
    this.control = control;
    this.counters = counters;
    this.budget = budget;
    this.reattached = reattached;
  }

  static open(name: string, opts: KernelProxyOptions = {}): KernelProxy {
    if (opts.pin !== undefined) {
      const dir = pinPath(opts.pin);
      if (existsSync(`${dir}/control`) && existsSync(`${dir}/counters`) && existsSync(`${dir}/budget`)) {
        return new KernelProxy(mapFromPin(`${dir}/control`), mapFromPin(`${dir}/counters`), mapFromPin(`${dir}/budget`), true);
      }
    }
    const control = createMap({ name: `${name.slice(0, 7)}_ctl`, type: "ARRAY", keySize: 4, valueSize: CONTROL_SIZE, maxEntries: 1 });
    const counters = createMap({ name: `${name.slice(0, 7)}_eff`, type: "PERCPU_ARRAY", keySize: 4, valueSize: COUNTER_CELL_SIZE, maxEntries: COUNTER_SLOTS });
    const budget = createMap({ name: `${name.slice(0, 7)}_bud`, type: "PERCPU_ARRAY", keySize: 4, valueSize: BUDGET_CELL_SIZE, maxEntries: 1 });
    const kp = new KernelProxy(control, counters, budget, false);
    kp.writeControl({ mode: "emergency", modelVersion: 0, heartbeatNs: 0n, heartbeatTimeoutNs: 1_000_000_000n, confidenceThreshold: 0.8, budgetLimit: 0, budgetWindow: 1 });
    if (opts.pin !== undefined) {
      const dir = pinPath(opts.pin);
      mkdirSync(dir, { recursive: true });
      control.pin(`${dir}/control`);
      counters.pin(`${dir}/counters`);
      budget.pin(`${dir}/budget`);
    }
    return kp;
  }

  readControl(): Control {
    const v = this.control.lookup(KEY0);
    return decodeControl(v ?? new Uint8Array(CONTROL_SIZE));
  }

  /**
   * Read-modify-write of the control record (generation + 1). One map update: the data path
   * sees the old or the new record per 8-byte word; every field is meaningful on its own.
   */
  writeControl(patch: Partial<Control>): Control {
    const cur = this.readControl();
    const next: Control = { ...cur, ...patch, generation: cur.generation + 1n };
    this.control.update(KEY0, encodeControl(next));
    return next;
  }

  setMode(mode: Mode): void {
    this.writeControl({ mode });
  }
  heartbeat(nowNs: bigint): void {
    this.writeControl({ heartbeatNs: nowNs });
  }

  /** Counters summed over CPUs. */
  readCounters(): EfficiencyCounters {
    const out = emptyCounters() as Record<Mode, Record<Source, Counter>>;
    for (const m of MODES) {
      for (const s of SOURCES) {
        const cells = this.counters.lookupPerCpu(key(counterSlot(m, s))) ?? [];
        let decided = 0n, evaluated = 0n, good = 0n;
        for (const c of cells) {
          const dv = new DataView(c.buffer, c.byteOffset, c.byteLength);
          decided += dv.getBigUint64(CounterOffset.decided, true);
          evaluated += dv.getBigUint64(CounterOffset.evaluated, true);
          good += dv.getBigUint64(CounterOffset.good, true);
        }
        out[m][s] = { decided: Number(decided), evaluated: Number(evaluated), good: Number(good) };
      }
    }
    return out;
  }

  /** Maps to give `loadProgram` for programs built with the proxy fragments. */
  maps(): { control: BpfMap; counters: BpfMap; budget: BpfMap } {
    return { control: this.control, counters: this.counters, budget: this.budget };
  }

  close(): void {
    this.control.close();
    this.counters.close();
    this.budget.close();
  }
  [Symbol.dispose](): void {
    this.close();
  }
}
