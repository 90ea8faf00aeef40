/**
 * @module ml/import
 * Importers of models trained elsewhere (ONNX-ML, XGBoost JSON) into kmlib float models.
 */
export * from "./result.ts";
export * from "./import.ts";
export { importOnnx, type OnnxImportOptions } from "./onnx.ts";
export { importXgboostJson, type XgboostImportOptions } from "./xgboost.ts";
export { decodeOnnx } from "./onnx-proto.ts";
