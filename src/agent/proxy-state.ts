/**
 * @module agent/proxy-state
 * What adapters whose kernel side keeps a `proxy/control.ts` record share: the proxy settings
 * the runner passes to init/reinit (with the defaults of a proxy configured without them), the
 * heartbeat's age as the kernel side sees it, and the system state read off a control record
 * by `effectiveMode`, the same rule the kernel side applies.
 */
import { type Control, effectiveMode } from "../proxy/control.ts";
import type { LifecycleState } from "../proxy/lifecycle.ts";
import type { SystemState } from "./adapter.ts";

export interface ProxySettings {
  readonly heartbeatTimeoutNs: bigint;
  readonly confidenceThreshold: number;
  readonly budgetLimit: number;
  readonly budgetWindow: number;
}

/** The control fields from init/reinit options (heartbeatTimeoutMs 1000, confidence 0.8, budget 500 per 1000 when absent). */
export function proxySettings(options: Readonly<Record<string, unknown>>): ProxySettings {
  const num = (k: string, d: number) => (typeof options[k] === "number" ? (options[k] as number) : d);
  return {
    heartbeatTimeoutNs: BigInt(Math.round(num("heartbeatTimeoutMs", 1000) * 1e6)),
    confidenceThreshold: num("confidenceThreshold", 0.8),
    budgetLimit: num("budgetLimit", 500),
    budgetWindow: num("budgetWindow", 1000),
  };
}

/** Age of the last heartbeat at `nowNs` (0 when there has been none), as u64 arithmetic. */
export function heartbeatAgeNs(heartbeatNs: bigint, nowNs: bigint): bigint {
  return heartbeatNs === 0n ? 0n : BigInt.asUintN(64, nowNs - heartbeatNs);
}

/** The system state of a kernel side whose control record is `c`, at `nowNs`. */
export function controlSystemState(lifecycle: LifecycleState, c: Control, nowNs: bigint): SystemState {
  const eff = effectiveMode(c, nowNs);
  return {
    lifecycle,
    requestedMode: c.mode,
    effectiveMode: eff.mode,
    fallback: eff.fallback,
    modelVersion: c.modelVersion,
    heartbeatAgeNs: heartbeatAgeNs(c.heartbeatNs, nowNs),
    control: c,
  };
}
