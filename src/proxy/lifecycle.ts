/**
 * @module proxy/lifecycle
 * The proxy lifecycle of the RFC (created, initialized, started, running, stopped, shutting
 * down, with re-init) as an explicit transition table. An illegal transition is a typed error
 * naming both states, never a silent no-op.
 */
import { ErrorCode, KmlibError } from "../errors.ts";

export const LifecycleState = {
  created: "created",
  initialized: "initialized",
  started: "started",
  running: "running",
  stopped: "stopped",
  shuttingDown: "shutting down",
} as const;
export type LifecycleState = (typeof LifecycleState)[keyof typeof LifecycleState];

export const LifecycleEvent = {
  init: "init",
  reinit: "reinit",
  start: "start",
  run: "run",
  stop: "stop",
  shutdown: "shutdown",
} as const;
export type LifecycleEvent = (typeof LifecycleEvent)[keyof typeof LifecycleEvent];

const S = LifecycleState;
/** event -> (from -> to). Re-init is allowed while not started, so options change only at rest. */
const TABLE: Readonly<Record<LifecycleEvent, Partial<Record<LifecycleState, LifecycleState>>>> = {
  init: { [S.created]: S.initialized },
  reinit: { [S.initialized]: S.initialized, [S.stopped]: S.initialized },
  start: { [S.initialized]: S.started, [S.stopped]: S.started },
  run: { [S.started]: S.running },
  stop: { [S.started]: S.stopped, [S.running]: S.stopped },
  shutdown: { [S.created]: S.shuttingDown, [S.initialized]: S.shuttingDown, [S.started]: S.shuttingDown, [S.running]: S.shuttingDown, [S.stopped]: S.shuttingDown },
};

/** The state `event` leads to from `from`, or undefined when illegal. */
export function nextState(from: LifecycleState, event: LifecycleEvent): LifecycleState | undefined {
  return TABLE[event][from];
}

/** The state an event aims at, for error messages even when the transition is illegal. */
const TARGET: Readonly<Record<LifecycleEvent, LifecycleState>> = {
  init: S.initialized,
  reinit: S.initialized,
  start: S.started,
  run: S.running,
  stop: S.stopped,
  shutdown: S.shuttingDown,
};

export function transition(from: LifecycleState, event: LifecycleEvent): LifecycleState {
  const to = nextState(from, event);
  if (to === undefined) {
    throw new KmlibError(ErrorCode.IllegalState, `illegal lifecycle transition from "${from}" to "${TARGET[event]}" (${event})`);
  }
  return to;
}

/** A lifecycle holder that remembers its state and every transition. */
export class Lifecycle {
  #state: LifecycleState = S.created;
  readonly history: Array<{ from: LifecycleState; to: LifecycleState; event: LifecycleEvent }> = [];
  get state(): LifecycleState {
    return this.#state;
  }
  can(event: LifecycleEvent): boolean {
    return nextState(this.#state, event) !== undefined;
  }
  apply(event: LifecycleEvent): LifecycleState {
    const from = this.#state;
    const to = transition(from, event);
    this.#state = to;
    this.history.push({ from, to, event });
    return to;
  }
  /** True while decisions flow through the proxy. */
  get active(): boolean {
    return this.#state === S.started || this.#state === S.running;
  }
}
