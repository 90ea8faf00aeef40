/**
 * @module proxy/recommendation
 * Recommendations from the model to the kernel side: named integer fields with declared bounds,
 * each recommendation naming the model version it came from. User space validates against the
 * schema before anything reaches the kernel (an out-of-bounds field is KMLIB_OUT_OF_BOUNDS
 * naming the field), and the wire form is fixed-layout little-endian so the kernel side can
 * bounds-check it again with the same limits (see `proxy/kernel/fragment.ts`).
 */
import { ErrorCode, KmlibError } from "../errors.ts";

export interface RecommendationField {
  readonly name: string;
  /** Inclusive bounds; integers within the signed 64-bit range that a double holds exactly. */
  readonly min: number;
  readonly max: number;
}

export interface RecommendationSchema {
  readonly fields: readonly RecommendationField[];
}

export interface Recommendation {
  /** The model version that produced it (registry version, >= 1). */
  readonly modelVersion: number;
  readonly values: Readonly<Record<string, number>>;
}

export function validateSchema(schema: RecommendationSchema): RecommendationSchema {
  const seen = new Set<string>();
  if (schema.fields.length === 0) throw new KmlibError(ErrorCode.InvalidArgument, "recommendation schema has no fields");
  for (const f of schema.fields) {
    if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(f.name)) throw new KmlibError(ErrorCode.InvalidArgument, `recommendation field name "${f.name}" is not an identifier`);
    if (seen.has(f.name)) throw new KmlibError(ErrorCode.InvalidArgument, `recommendation field "${f.name}" declared twice`);
    seen.add(f.name);
    if (!Number.isSafeInteger(f.min) || !Number.isSafeInteger(f.max) || f.min > f.max) {
      throw new KmlibError(ErrorCode.InvalidArgument, `recommendation field "${f.name}": bounds must be integers with min <= max, got [${f.min}, ${f.max}]`);
    }
  }
  return schema;
}

/** Validate a recommendation; returns it unchanged or throws naming the first bad field. */
export function validateRecommendation(schema: RecommendationSchema, rec: Recommendation): Recommendation {
  if (!Number.isSafeInteger(rec.modelVersion) || rec.modelVersion < 1) {
    throw new KmlibError(ErrorCode.InvalidArgument, `recommendation.modelVersion must be a positive integer, got ${rec.modelVersion}`);
  }
  const known = new Set(schema.fields.map((f) => f.name));
  for (const name of Object.keys(rec.values)) {
    if (!known.has(name)) throw new KmlibError(ErrorCode.InvalidArgument, `recommendation.${name}: unknown field (expected ${[...known].join(", ")})`);
  }
  for (const f of schema.fields) {
    const v = rec.values[f.name];
    if (v === undefined) throw new KmlibError(ErrorCode.InvalidArgument, `recommendation.${f.name}: missing`);
    if (!Number.isSafeInteger(v)) throw new KmlibError(ErrorCode.InvalidArgument, `recommendation.${f.name}: must be an integer, got ${v}`);
    if (v < f.min || v > f.max) throw new KmlibError(ErrorCode.OutOfBounds, `recommendation.${f.name}: ${v} out of bounds [${f.min}, ${f.max}] (model version ${rec.modelVersion})`);
  }
  return rec;
}

/** Wire size: u64 model version, then one s64 per field in schema order. */
export const recommendationSize = (schema: RecommendationSchema): number => 8 + 8 * schema.fields.length;

export function encodeRecommendation(schema: RecommendationSchema, rec: Recommendation): Uint8Array {
  validateRecommendation(schema, rec);
  const out = new Uint8Array(recommendationSize(schema));
  const dv = new DataView(out.buffer);
  dv.setBigUint64(0, BigInt(rec.modelVersion), true);
  schema.fields.forEach((f, i) => dv.setBigInt64(8 + 8 * i, BigInt(rec.values[f.name]!), true));
  return out;
}

export function decodeRecommendation(schema: RecommendationSchema, bytes: Uint8Array): Recommendation {
  if (bytes.length !== recommendationSize(schema)) {
    throw new KmlibError(ErrorCode.InvalidArgument, `recommendation bytes: expected ${recommendationSize(schema)}, got ${bytes.length}`);
  }
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const values: Record<string, number> = {};
  schema.fields.forEach((f, i) => (values[f.name] = Number(dv.getBigInt64(8 + 8 * i, true))));
  return validateRecommendation(schema, { modelVersion: Number(dv.getBigUint64(0, true)), values });
}
