/**
 * @module ml/ir/serialize
 * The integer form's file format: JSON `{"format": "kmlib-ir", "version": 1, "model": {...}}`.
 * int64 fields (linear `bias`, mlp `input.add`) are decimal strings, so the file is plain JSON
 * with no precision loss; everything else is a JSON number within int32 (or a float `scale`).
 * Reading validates.
 */
import { readFileSync, writeFileSync } from "node:fs";
import { ErrorCode, KmlibError } from "../../errors.ts";
import { IR_FORMAT, IR_VERSION, type IrModel } from "./types.ts";
import { validateEnvelope, validateIr } from "./validate.ts";

/** Serialises a (valid) model to the versioned JSON text. */
export function serializeIr(ir: IrModel, indent?: number): string {
  validateIr(ir);
  return JSON.stringify({ format: IR_FORMAT, version: IR_VERSION, model: ir }, (_k, v: unknown) => (typeof v === "bigint" ? v.toString() : v), indent);
}

function toBigints(v: unknown, path: string): unknown {
  if (!Array.isArray(v)) return v;
  return v.map((e, i) => {
    if (typeof e === "string" && /^-?\d+$/.test(e)) return BigInt(e);
    if (typeof e === "number" && Number.isSafeInteger(e)) return BigInt(e);
    throw new KmlibError(ErrorCode.InvalidModel, `invalid model: ${path}[${i}]: expected an int64 as a decimal string, got ${JSON.stringify(e)}`);
  });
}

/** Parses and validates the JSON text of a model file. */
export function parseIr(text: string): IrModel {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (e) {
    throw new KmlibError(ErrorCode.InvalidModel, `invalid model: file: not JSON: ${(e as Error).message}`, { cause: e });
  }
  const m = validateEnvelope(doc);
  if (m.kind === "linear") m.bias = toBigints(m.bias, "bias");
  if (m.kind === "mlp" && typeof m.input === "object" && m.input !== null) {
    const inp = m.input as Record<string, unknown>;
    inp.add = toBigints(inp.add, "input.add");
  }
  return validateIr(m);
}

export function writeIrFile(path: string, ir: IrModel): void {
  writeFileSync(path, serializeIr(ir) + "\n");
}

export function readIrFile(path: string): IrModel {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (e) {
    throw new KmlibError(ErrorCode.NotFound, `cannot read model file ${path}: ${(e as Error).message}`, { cause: e });
  }
  return parseIr(text);
}
