/**
 * @module subsystems/netguard/lab
 * The netguard lab: network namespaces with real services and real traffic tools, labelled by
 * the namespace that sent each flow, torn down even after a crash.
 */
export { Lab, labDown, labStatus, type LabUpOptions, type LabStatus, type IfaceCounters, type TeardownReport } from "./lab.ts";
export { planLab, hostsOf, findHost, namespacesOf, LAB_PREFIX, HostRole, type LabPlan, type HostPlan, type LabOptions, type Label } from "./topology.ts";
export { runTraffic, isAttackKind, monoMs, BENIGN_KINDS, ATTACK_KINDS, type TrafficSpec, type TrafficRun, type TrafficKind, type AttackKind, type BenignKind } from "./traffic.ts";
export { runScenario, standardScenario, benignTraffic, attackTraffic, validateScenario, type Scenario, type Phase, type PhaseTraffic, type ScenarioEvent, type ScenarioResult, type PhaseResult } from "./scenario.ts";
export { groundTruth, Labeler, canonicalAddr, linkLocalOf, type GroundTruth, type GroundTruthHost, type GroundTruthWindow } from "./ground-truth.ts";
export { HTTP_PORT, WEB_PATHS, iperfPort, type WebPath } from "./services.ts";
export { stateDir, statePath, readState, type LabState } from "./state.ts";
