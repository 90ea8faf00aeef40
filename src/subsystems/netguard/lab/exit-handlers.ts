/**
 * @module subsystems/netguard/lab/exit-handlers
 * Tear labs down when this process ends: on `exit` (normal end, process.exit, uncaught
 * exception) and on SIGINT/SIGTERM/SIGHUP. A signal handler tears down, then re-raises the
 * signal unless someone else also listens for it (they decide how the process ends).
 * SIGKILL cannot be caught: that case is the state file's job (`lab down`, next `lab up`).
 */

const teardowns = new Map<string, () => void>();
const SIGNALS = ["SIGINT", "SIGTERM", "SIGHUP"] as const;
let installed = false;

function runAll(): void {
  for (const [key, fn] of [...teardowns]) {
    teardowns.delete(key);
    try {
      fn();
    } catch (e) {
      process.stderr.write(`kmlib: lab teardown failed: ${e instanceof Error ? e.message : String(e)}\n`);
    }
  }
}

function onSignal(sig: NodeJS.Signals): void {
  runAll();
  uninstall();
  if (process.listenerCount(sig) === 0) process.kill(process.pid, sig);
}

function uninstall(): void {
  if (!installed) return;
  installed = false;
  process.off("exit", runAll);
  for (const s of SIGNALS) process.off(s, onSignal);
}

export function installExitHandlers(tag: string | undefined, teardown: () => void): void {
  teardowns.set(tag ?? "", teardown);
  if (installed) return;
  installed = true;
  process.on("exit", runAll);
  for (const s of SIGNALS) process.on(s, onSignal);
}

export function uninstallExitHandlers(tag: string | undefined): void {
  teardowns.delete(tag ?? "");
  if (teardowns.size === 0) uninstall();
}
