/**
 * @module ml/import/result
 * What an importer returns: the kmlib float model plus where it came from and how the
 * foreign semantics were mapped (the notes say which wrappers were treated as no-ops).
 */
import type { Model } from "../model/types.ts";

export type ImportFormat = "onnx" | "xgboost";
export const IMPORT_FORMATS = ["onnx", "xgboost"] as const satisfies readonly ImportFormat[];

export interface ImportResult {
  model: Model;
  format: ImportFormat;
  /** The producing tool as the file names it (e.g. "skl2onnx 1.16", "xgboost 1.7.4"). */
  producer: string;
  /** The foreign model operator or objective (e.g. "TreeEnsembleClassifier", "binary:logistic"). */
  operator: string;
  notes: string[];
}
