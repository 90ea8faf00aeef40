/**
 * @module subsystems/netguard/lab/procs
 * Process bookkeeping for the lab: identify a pid by (pid, start time) so a recorded pid is
 * never confused with a reused one, and kill synchronously (teardown also runs from `exit`
 * handlers, where nothing asynchronous happens).
 */
import { readFileSync } from "node:fs";

/** A process recorded by the lab; `startTicks` is field 22 of /proc/PID/stat. */
export interface ProcRef {
  pid: number;
  startTicks: number;
  what: string;
}

function statFields(pid: number): string[] | undefined {
  try {
    const s = readFileSync(`/proc/${pid}/stat`, "utf8");
    // comm (field 2) may hold spaces and parentheses: split after its last ')'
    const rest = s.slice(s.lastIndexOf(")") + 2).split(" ");
    return rest; // rest[0] is field 3 (state)
  } catch {
    return undefined;
  }
}

export function startTicks(pid: number): number | undefined {
  const f = statFields(pid);
  return f ? Number(f[19]) : undefined;
}

export function procRef(pid: number, what: string): ProcRef {
  return { pid, startTicks: startTicks(pid) ?? 0, what };
}

/** True when the pid runs and is the same process as recorded (zombies count as gone). */
export function isAlive(ref: ProcRef | number): boolean {
  const pid = typeof ref === "number" ? ref : ref.pid;
  const f = statFields(pid);
  if (!f || f[0] === "Z" || f[0] === "X") return false;
  return typeof ref === "number" || Number(f[19]) === ref.startTicks;
}

const sleepCell = new Int32Array(new SharedArrayBuffer(4));
export function sleepSync(ms: number): void {
  Atomics.wait(sleepCell, 0, 0, ms);
}

/**
 * SIGTERM the processes, wait up to `graceMs`, then SIGKILL the survivors and wait for them
 * to be gone. Returns the refs that were still alive when called.
 */
export function killSync(refs: Array<ProcRef | number>, graceMs = 500): Array<ProcRef | number> {
  const live = refs.filter((r) => isAlive(r));
  const signal = (sig: NodeJS.Signals, list: Array<ProcRef | number>): void => {
    for (const r of list) {
      try {
        process.kill(typeof r === "number" ? r : r.pid, sig);
      } catch {
        // exited meanwhile
      }
    }
  };
  signal("SIGTERM", live);
  const waitGone = (ms: number): Array<ProcRef | number> => {
    const until = Date.now() + ms;
    let left = live.filter((r) => isAlive(r));
    while (left.length > 0 && Date.now() < until) {
      sleepSync(10);
      left = left.filter((r) => isAlive(r));
    }
    return left;
  };
  const stubborn = waitGone(graceMs);
  if (stubborn.length > 0) {
    signal("SIGKILL", stubborn);
    waitGone(2000);
  }
  return live;
}
