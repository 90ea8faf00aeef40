/**
 * @module proxy/mode
 * The four ml-lib modes and the two decision sources, with the numeric codes the kernel side
 * uses. The codes follow the RFC's `enum ml_lib_system_mode` (0 is "unknown"), so a control map
 * written by kmlib reads the same as the RFC's header. User and kernel side share this one table.
 */
import { ErrorCode, KmlibError } from "../errors.ts";

export const Mode = {
  emergency: "emergency",
  learning: "learning",
  collaboration: "collaboration",
  recommendation: "recommendation",
} as const;
export type Mode = (typeof Mode)[keyof typeof Mode];

export const MODES: readonly Mode[] = [Mode.emergency, Mode.learning, Mode.collaboration, Mode.recommendation];

/** Kernel-side codes (RFC: ML_LIB_EMERGENCY_MODE = 1 ... ML_LIB_RECOMMENDATION_MODE = 4). */
export const ModeCode: Readonly<Record<Mode, number>> = { emergency: 1, learning: 2, collaboration: 3, recommendation: 4 };
export const MODE_CODE_MAX = 5;

export function modeFromCode(code: number): Mode {
  const m = MODES.find((x) => ModeCode[x] === code);
  if (m === undefined) throw new KmlibError(ErrorCode.InvalidArgument, `unknown mode code ${code} (expected 1..4)`);
  return m;
}

export function parseMode(name: string): Mode {
  if ((MODES as readonly string[]).includes(name)) return name as Mode;
  throw new KmlibError(ErrorCode.InvalidArgument, `unknown mode "${name}" (expected one of ${MODES.join(", ")})`);
}

/** Promotion order: emergency is outside it (entered on failures, left on request or recovery). */
export const LADDER: readonly Mode[] = [Mode.learning, Mode.collaboration, Mode.recommendation];

export function nextUp(mode: Mode): Mode | undefined {
  const i = LADDER.indexOf(mode);
  return i < 0 ? undefined : LADDER[i + 1];
}
export function nextDown(mode: Mode): Mode | undefined {
  const i = LADDER.indexOf(mode);
  return i <= 0 ? undefined : LADDER[i - 1];
}

/** Who made a decision: the human-written default algorithm or the ML model. */
export const Source = { default: "default", model: "model" } as const;
export type Source = (typeof Source)[keyof typeof Source];
export const SOURCES: readonly Source[] = [Source.default, Source.model];
export const SourceCode: Readonly<Record<Source, number>> = { default: 0, model: 1 };

/** Index of a (mode, source) counter slot in the kernel's efficiency array. */
export function counterSlot(mode: Mode, source: Source): number {
  return ModeCode[mode] * SOURCES.length + SourceCode[source];
}
export const COUNTER_SLOTS = MODE_CODE_MAX * SOURCES.length;
