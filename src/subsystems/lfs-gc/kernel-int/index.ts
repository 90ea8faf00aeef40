/**
 * @module subsystems/lfs-gc/kernel-int
 * The GC's kernel side in integers (formats and ranges: README.md beside this file): the
 * integer twins of the per-write features and the victim score, the integer segment ledger,
 * and the eBPF programs that compute the same.
 */
export { FeatureConfig, IntRegionActivity, cellQ, recentCellQ, decayQ, decayActivityQ16, decayFactorQ31, intervalThresholds, ACT_ONE, ACT_FRAC, ACT_MAX } from "./features.ts";
export { segmentScore, freshUntil, confidenceQ16, lifeClassQ, rateQ40, RATE_ONE, SCORE_FRAC, SCORE_EMPTY } from "./score.ts";
export { IntSegmentLedger, type RateLedger } from "./ledger.ts";
export { ConfigLayout, FeatureRecord, RegionLayout, RelocateRecord, ScoreRecord, MapNames, encodeConfig, featureStep, relocateStep, scoreStep } from "./record.ts";
export { featureProgram, relocateProgram, scoreProgram, emptyProgram } from "./gen.ts";
