/**
 * @module subsystems/netguard
 * netguard's kernel side: the generated XDP/tc data path, its feature contract with the
 * trainer, the control map, records and counters, the TypeScript reference of the same
 * arithmetic, and the loaded data path. The lab lives in ./lab.
 */
export * from "./features.ts";
export * from "./layout.ts";
export * from "./control.ts";
export * from "./address.ts";
export * from "./packet.ts";
export * from "./record.ts";
export * from "./program.ts";
export { thresholdModelBody, thresholdModelFn, MODEL_ENTRY, type ThresholdModel } from "./gen/model.ts";
export { compiledModelFn, confidenceScale, type ConfidenceScale, type HostableModel } from "./gen/compiled.ts";
export { parsePacket, flowKey, type ParsedPacket } from "./reference/parse.ts";
export { newFlow, updateFlow, flowFeatures, encodeFlowState, decodeFlowState, type FlowRecord } from "./reference/flow.ts";
export { applyRules, newSource, type SourceRecord } from "./reference/rules.ts";
export { NetguardReference, modelResult, type Decision, type ModelFn } from "./reference/datapath.ts";
export { NetguardDataPath, NetguardRecordReader, type DataPathOptions } from "./datapath.ts";
