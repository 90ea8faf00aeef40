/**
 * @module subsystems/netguard/lab/run-bounded
 * Run one tool inside a lab namespace with a hard time bound: SIGTERM at the deadline,
 * SIGKILL shortly after, so no generator outlives its phase whatever the tool does.
 */
import type { NetNs } from "../../../net/netns.ts";

export interface BoundedResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  timedOut: boolean;
  stdout: string;
  stderr: string;
  ms: number;
}

/** Keeps the last `cap` characters: tools' summaries come at the end. */
function tail(cap: number): { push(b: Buffer): void; text(): string } {
  let s = "";
  return {
    push(b) {
      s += b.toString("utf8");
      if (s.length > 2 * cap) s = s.slice(-cap);
    },
    text: () => s.slice(-cap),
  };
}

export interface BoundedOptions {
  maxMs: number;
  signal?: AbortSignal;
  /** Called with the child right after it starts (the lab tracks it for teardown). */
  onSpawn?: (child: import("node:child_process").ChildProcess) => void;
}

export function runBounded(ns: NetNs, cmd: string, args: string[], opts: BoundedOptions): Promise<BoundedResult> {
  const t0 = Date.now();
  return new Promise((resolve, reject) => {
    if (opts.signal?.aborted) {
      resolve({ code: null, signal: null, timedOut: false, stdout: "", stderr: "", ms: 0 });
      return;
    }
    const child = ns.spawn(cmd, args, { stdio: ["ignore", "pipe", "pipe"] });
    opts.onSpawn?.(child);
    const out = tail(64 * 1024);
    const err = tail(16 * 1024);
    child.stdout!.on("data", (b: Buffer) => out.push(b));
    child.stderr!.on("data", (b: Buffer) => err.push(b));
    let timedOut = false;
    let killer: NodeJS.Timeout | undefined;
    const stop = (): void => {
      child.kill("SIGTERM");
      killer = setTimeout(() => child.kill("SIGKILL"), 500);
    };
    const deadline = setTimeout(() => {
      timedOut = true;
      stop();
    }, opts.maxMs);
    opts.signal?.addEventListener("abort", stop, { once: true });
    child.once("error", (e) => {
      clearTimeout(deadline);
      reject(e);
    });
    child.once("close", (code, signal) => {
      clearTimeout(deadline);
      if (killer) clearTimeout(killer);
      opts.signal?.removeEventListener("abort", stop);
      resolve({ code, signal, timedOut, stdout: out.text(), stderr: err.text(), ms: Date.now() - t0 });
    });
  });
}
