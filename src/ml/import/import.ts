/**
 * @module ml/import/import
 * Entry point of the importers: reads a model file trained elsewhere (ONNX-ML, XGBoost JSON)
 * into a kmlib float model, choosing the reader from the extension or the first bytes.
 */
import { readFileSync } from "node:fs";
import { ErrorCode, KmlibError } from "../../errors.ts";
import { importOnnx } from "./onnx.ts";
import type { ImportFormat, ImportResult } from "./result.ts";
import { importXgboostJson } from "./xgboost.ts";

export interface ImportOptions {
  /** "auto" (default): `.onnx` is ONNX, `.json` or a file starting with `{` is XGBoost JSON. */
  format?: ImportFormat | "auto";
  /** Feature names, one per model input feature. */
  featureNames?: string[];
}

export function detectImportFormat(path: string, bytes: Uint8Array): ImportFormat {
  if (/\.onnx$/i.test(path)) return "onnx";
  if (/\.json$/i.test(path)) return "xgboost";
  if (/\.(ubj|model|bin)$/i.test(path)) {
    throw new KmlibError(ErrorCode.InvalidModel, `${path}: binary XGBoost models are not supported; save the model as JSON (booster.save_model("model.json"))`);
  }
  let i = 0;
  while (i < bytes.length && (bytes[i] === 0x20 || bytes[i] === 0x0a || bytes[i] === 0x0d || bytes[i] === 0x09)) i++;
  return bytes[i] === 0x7b ? "xgboost" : "onnx";
}

/** Imports model bytes; `path` is used for format detection and messages only. */
export function importModelBytes(bytes: Uint8Array, path: string, opts: ImportOptions = {}): ImportResult {
  const format = !opts.format || opts.format === "auto" ? detectImportFormat(path, bytes) : opts.format;
  const o = opts.featureNames ? { featureNames: opts.featureNames } : {};
  try {
    return format === "onnx" ? importOnnx(bytes, o) : importXgboostJson(new TextDecoder().decode(bytes), o);
  } catch (e) {
    if (e instanceof KmlibError) throw new KmlibError(e.code, `${path}: ${e.message}`, { cause: e });
    throw e;
  }
}

export function importModelFile(path: string, opts: ImportOptions = {}): ImportResult {
  let bytes: Uint8Array;
  try {
    bytes = readFileSync(path);
  } catch (e) {
    throw new KmlibError(ErrorCode.NotFound, `cannot read model file ${path}: ${(e as Error).message}`, { cause: e });
  }
  return importModelBytes(bytes, path, opts);
}
