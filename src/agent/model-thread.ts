/**
 * @module agent/model-thread
 * The subsystem-specific half of the RFC's ML model thread: what the agent does with the
 * datasets it collected for one proxy (train, register a model version, recommend). The runner
 * does the generic half (heartbeats, collecting and storing datasets and feedback, deploying
 * the registry's active version, the mode controller); a subsystem that learns on its own adds
 * a model thread, which the runner calls once per round after the datasets are stored:
 * `learn`, then the runner deploys what became active, then `recommend` with that version.
 *
 * A model thread registers and activates models through the store's registry, the same path
 * `kmlib model add` / `activate` take; the runner then deploys the active version as it does
 * any operator's, so rollback and failed-load handling stay in one place.
 */
import type { Mode } from "../proxy/mode.ts";
import type { DatasetPortion } from "./adapter.ts";
import type { Store } from "./store/index.ts";

export interface ModelThreadContext {
  readonly proxy: string;
  readonly store: Store;
  /** The portions collected this round, in order, after preprocessing (already stored). */
  readonly portions: readonly DatasetPortion[];
  /** The mode the controller holds the proxy in. */
  readonly mode: Mode;
  /** Model version deployed kernel-side by this runner, if any. */
  readonly deployedVersion: number | undefined;
  /** Records to the event log and the agent's log. */
  event(kind: string, message: string, data?: Record<string, unknown>): void;
}

export interface ModelThread {
  /** Learn from `ctx.portions`; may register and activate a model version (deployed right after). */
  learn(ctx: ModelThreadContext): Promise<void>;
  /** After the deployment: recommendations to the kernel side, for a subsystem that takes them. */
  recommend?(ctx: ModelThreadContext): Promise<void>;
}
