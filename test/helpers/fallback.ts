/**
 * @module test/helpers/fallback
 * Watching a kernel-side proxy program around the death of its agent (SIGKILL tests): it keeps
 * answering with the model while the agent heartbeats, then falls back to the default on its
 * own once the last heartbeat is older than the timeout.
 */
import assert from "node:assert/strict";
import type { Program } from "../../src/bpf/index.ts";
import { monotonicNs } from "../../src/proxy/control.ts";

const FRAME = new Uint8Array(64);
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Runs `prog` on a 64-byte frame every 20 ms for `ms`, asserting each answer is `retval`. */
export async function assertAnswers(prog: Program, retval: number, ms: number, message: string): Promise<void> {
  const until = Date.now() + ms;
  while (Date.now() < until) {
    assert.equal(prog.testRun({ data: FRAME }).retval, retval, message);
    await sleep(20);
  }
}

/**
 * After the agent was killed at `killedAt`: runs `prog` every 2 ms until it answers
 * `defaultRetval`, asserting that comes within three heartbeat timeouts of the kill. Returns
 * when the model last answered (start of that run) and when the default first did (its end),
 * both CLOCK_MONOTONIC ns.
 */
export async function awaitFallback(prog: Program, defaultRetval: number, killedAt: bigint, timeoutMs: number): Promise<{ lastModelAt: bigint; firstDefaultAt: bigint }> {
  let lastModelAt = 0n, firstDefaultAt = 0n;
  while (firstDefaultAt === 0n) {
    const start = monotonicNs();
    const r = prog.testRun({ data: FRAME });
    const end = monotonicNs();
    if (r.retval === defaultRetval) firstDefaultAt = end;
    else lastModelAt = start;
    assert.ok(end - killedAt < BigInt(timeoutMs) * 3_000_000n, "no fallback long after the kill");
    await sleep(2);
  }
  return { lastModelAt, firstDefaultAt };
}
