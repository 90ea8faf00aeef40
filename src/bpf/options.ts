/**
 * @module bpf/options
 * Options objects are checked like libbpf's opts structs: a key kmlib does not know is an
 * error (a typo must not be silently ignored), and numbers are range-checked.
 */
import { ErrorCode, KmlibError } from "../errors.ts";

export function rejectUnknown(obj: object | undefined, allowed: readonly string[], what: string): void {
  if (obj === undefined) return;
  for (const k of Object.keys(obj)) {
    if (!allowed.includes(k) && (obj as Record<string, unknown>)[k] !== undefined) {
      throw new KmlibError(ErrorCode.InvalidArgument, `${what}: unknown option "${k}" (known: ${allowed.join(", ")})`);
    }
  }
}

export function checkU32(v: number, what: string): number {
  if (!Number.isInteger(v) || v < 0 || v > 0xffff_ffff) throw new KmlibError(ErrorCode.InvalidArgument, `invalid uint32 for ${what}: ${v}`);
  return v;
}

/** A name table lookup: accepts the kernel's name ("XDP") or the number. */
export function enumValue<T extends Record<string, number>>(table: T, v: keyof T | number, what: string): number {
  if (typeof v === "number") return checkU32(v, what);
  const n = table[v];
  if (n === undefined) throw new KmlibError(ErrorCode.InvalidArgument, `unknown ${what} "${String(v)}" (known: ${Object.keys(table).join(", ")})`);
  return n;
}
