/**
 * @module subsystems/netguard/e2e/cicids
 * The second path, "data set -> kernel": a model trained on the CIC-IDS2017 sample (read in
 * place) using only features the kernel computes. CICFlowMeter columns map to the feature
 * contract where they mean the same quantity; the rest of the contract is left out of the
 * model rather than approximated:
 *
 *   contract       CICFlowMeter column              note
 *   proto          Protocol                         same
 *   dst_port       Dst Port                         same (responder's port)
 *   pkts_fwd/bwd   Total Fwd Packet / Total Bwd packets
 *   payload_fwd    Total Length of Fwd Packet       CIC counts payload bytes, as the contract does
 *   payload_bwd    Total Length of Bwd Packet
 *   syn ack fin rst psh urg   <X> Flag Count        packets with the flag, both directions
 *   init_win_fwd   FWD Init Win Bytes               -1 (absent) read as 0, as the kernel keeps it
 *   init_win_bwd   Bwd Init Win Bytes
 *   flow_age       Flow Duration                    microseconds in CIC, x1000 to ns
 *
 * Not mapped: bytes_* and len_* (CIC's packet lengths are payload lengths, the contract's are
 * layer-3 lengths), iat_mean / iat_mad (CIC has arithmetic means and standard deviations, the
 * kernel keeps Jacobson/Karels EWMAs). One more difference cannot be mapped away: CIC rows
 * describe finished flows, while the kernel decides each packet on the flow so far.
 */
import { loadCicFlowMeter, CICIDS2017_SAMPLE_DIR } from "../../../ml/dataset/cicflowmeter.ts";
import { makeDataset, takeRows, type Dataset } from "../../../ml/dataset/dataset.ts";
import { Rng } from "../../../ml/rng.ts";
import { NUM_FEATURES, featureIndex, type FeatureName } from "../features.ts";
import { inputsFor, inputsOf } from "./model-program.ts";
import { CLASS_NAMES, trainIntegerForest, type TrainOptions, type TrainSummary } from "./train.ts";
import type { NetguardModel } from "./model-program.ts";

export interface ColumnMap {
  readonly feature: FeatureName;
  readonly column: string;
  /** Multiplier to the contract's unit. */
  readonly scale?: number;
}

export const CICIDS_COLUMN_MAP: readonly ColumnMap[] = [
  { feature: "proto", column: "Protocol" },
  { feature: "dst_port", column: "Dst Port" },
  { feature: "pkts_fwd", column: "Total Fwd Packet" },
  { feature: "pkts_bwd", column: "Total Bwd packets" },
  { feature: "payload_fwd", column: "Total Length of Fwd Packet" },
  { feature: "payload_bwd", column: "Total Length of Bwd Packet" },
  { feature: "syn", column: "SYN Flag Count" },
  { feature: "ack", column: "ACK Flag Count" },
  { feature: "fin", column: "FIN Flag Count" },
  { feature: "rst", column: "RST Flag Count" },
  { feature: "psh", column: "PSH Flag Count" },
  { feature: "urg", column: "URG Flag Count" },
  { feature: "init_win_fwd", column: "FWD Init Win Bytes" },
  { feature: "init_win_bwd", column: "Bwd Init Win Bytes" },
  { feature: "flow_age", column: "Flow Duration", scale: 1000 },
];

export const UNMAPPED_FEATURES: readonly FeatureName[] = ["bytes_fwd", "bytes_bwd", "len_min", "len_max", "len_mean", "iat_mean", "iat_mad"];

/** CIC rows as contract feature vectors (unmapped features 0), then the model's int32 inputs. */
export function cicToContract(ds: Dataset, map: readonly ColumnMap[] = CICIDS_COLUMN_MAP): { contract: bigint[][]; ds: Dataset } {
  const cols = map.map((m) => ds.featureNames.indexOf(m.column));
  const inputs = inputsFor(map.map((m) => m.feature));
  const contract: bigint[][] = [];
  const x = new Float64Array(ds.nRows * map.length);
  for (let r = 0; r < ds.nRows; r++) {
    const f = new Array<bigint>(NUM_FEATURES).fill(0n);
    map.forEach((m, j) => {
      const v = ds.x[r * ds.nFeatures + cols[j]!]! * (m.scale ?? 1);
      f[featureIndex(m.feature)] = BigInt(Math.max(0, Math.round(Number.isFinite(v) ? v : 0)));
    });
    contract.push(f);
    x.set(inputsOf(inputs, f), r * map.length);
  }
  return { contract, ds: makeDataset({ x, y: ds.y, featureNames: inputs.map((i) => i.feature), classNames: CLASS_NAMES }) };
}

export interface CicModel {
  readonly model: NetguardModel;
  readonly summary: TrainSummary & { readonly dataset: string; readonly classes: Record<string, number> };
  readonly mapping: readonly ColumnMap[];
  readonly unmapped: readonly FeatureName[];
}

/**
 * At most `ratio` attack rows per benign row, drawn with a seeded generator (the sample has
 * ~9 attack rows per benign one, a prior no server's traffic has).
 */
export function balanceAttacks(ds: Dataset, ratio = 1, seed = 1): Dataset {
  const benign: number[] = [], attack: number[] = [];
  for (let i = 0; i < ds.nRows; i++) (ds.y[i] === 0 ? benign : attack).push(i);
  const keep = Math.min(attack.length, Math.round(benign.length * ratio));
  if (keep >= attack.length) return ds;
  const rng = new Rng(seed);
  rng.shuffle(attack);
  return takeRows(ds, Int32Array.from([...benign, ...attack.slice(0, keep)]).sort());
}

/** Load the sample (binary labels), map it to the contract, balance, train a forest for the slot. */
export async function trainCicModel(dir: string = CICIDS2017_SAMPLE_DIR, o: TrainOptions & { attackRatio?: number } = {}): Promise<CicModel> {
  const raw = await loadCicFlowMeter(dir, { columns: CICIDS_COLUMN_MAP.map((m) => m.column), labels: "binary" });
  const ds = balanceAttacks(cicToContract(raw).ds, o.attackRatio ?? 1, o.seed ?? 1);
  const inputs = inputsFor(CICIDS_COLUMN_MAP.map((m) => m.feature));
  const { model, summary } = trainIntegerForest(ds, inputs, "cicids2017", o);
  const classes = { benign: summary.benign, attack: summary.attack };
  return { model, summary: { ...summary, dataset: dir, classes }, mapping: CICIDS_COLUMN_MAP, unmapped: UNMAPPED_FEATURES };
}
