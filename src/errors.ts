/**
 * @module errors
 * kmlib's typed errors. Every error carries a stable `code` (part of the public API, never
 * reworded), a human message, and an optional `cause`. Guards narrow `unknown` catches.
 */

export const ErrorCode = {
  /** An instruction cannot be encoded or decoded (bad register, opcode, immediate...). */
  InvalidInstruction: "KMLIB_INVALID_INSTRUCTION",
  /** A jump names a label that was never defined, or a label is defined twice. */
  UnknownLabel: "KMLIB_UNKNOWN_LABEL",
  DuplicateLabel: "KMLIB_DUPLICATE_LABEL",
  /** A resolved jump or call offset does not fit its field. */
  JumpOutOfRange: "KMLIB_JUMP_OUT_OF_RANGE",
  /** Bytes that are not a whole number of valid instructions. */
  InvalidEncoding: "KMLIB_INVALID_ENCODING",
  /** An ELF object we cannot read. */
  InvalidElf: "KMLIB_INVALID_ELF",
  /** The kernel verifier refused a program. */
  Verifier: "KMLIB_VERIFIER",
  /** The caller lacks a privilege (CAP_BPF, CAP_NET_ADMIN, CAP_PERFMON, memlock...). */
  Permission: "KMLIB_PERMISSION",
  /** A bpf() or other system call failed; `errno` says how. */
  Syscall: "KMLIB_SYSCALL",
  /** Use of an object whose file descriptor was closed. */
  Closed: "KMLIB_CLOSED",
  /** A key or value of the wrong size or out of range for its codec. */
  InvalidArgument: "KMLIB_INVALID_ARGUMENT",
  /** A needed kernel feature, library or tool is missing. */
  Unsupported: "KMLIB_UNSUPPORTED",
  /** Configuration or input file that fails validation. */
  InvalidConfig: "KMLIB_INVALID_CONFIG",
  /** A model file or model structure that is malformed or unsupported. */
  InvalidModel: "KMLIB_INVALID_MODEL",
  /** An illegal proxy lifecycle transition or mode request. */
  IllegalState: "KMLIB_ILLEGAL_STATE",
  /** Something asked for does not exist (model version, proxy, map...). */
  NotFound: "KMLIB_NOT_FOUND",
  /** A value outside its declared bounds (a recommendation field, a dataset portion...). */
  OutOfBounds: "KMLIB_OUT_OF_BOUNDS",
  /** A store (database) file that is damaged or not a kmlib store; it is left untouched. */
  CorruptStore: "KMLIB_CORRUPT_STORE",
} as const;
export type ErrorCode = (typeof ErrorCode)[keyof typeof ErrorCode];

export interface KmlibErrorOptions {
  cause?: unknown;
}

/** Base class of every error kmlib throws on purpose. */
export class KmlibError extends Error {
  readonly code: ErrorCode;
  constructor(code: ErrorCode, message: string, options?: KmlibErrorOptions) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.name = new.target.name;
  }
}

export function isKmlibError(e: unknown, code?: ErrorCode): e is KmlibError {
  return e instanceof KmlibError && (code === undefined || e.code === code);
}

/** Exhaustiveness check for discriminated unions. */
export function assertNever(x: never, what = "value"): never {
  throw new KmlibError(ErrorCode.InvalidArgument, `unexpected ${what}: ${JSON.stringify(x)}`);
}
