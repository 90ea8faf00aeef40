/**
 * @module compile/abi
 * The calling conventions of a compiled model: how a kernel program hands it features and
 * where the answer lands. Every form computes exactly `evaluateIr` (ml/ir/evaluate.ts).
 *
 * ## Function form (bpf-to-bpf subprogram; also the C export's signature)
 *
 *     int kmlib_predict(const int32_t *x, int32_t *scores)
 *
 * - r1 = x: `nFeatures` int32 values, readable. The inline strategy reads it at constant
 *   offsets (stack, map value, or a packet pointer whose range the caller checked); the
 *   table strategy indexes it by a feature number read from the table, so x must be on the
 *   stack or in a map value (variable-offset reads).
 * - r2 = scores: `nScores` int32 values, writable (stack or map value). Always written.
 * - r0 = the class (0..nClasses-1), or `NO_DECISION` (-1) when a table-strategy model saw
 *   its parameters swapped under it twice in a row: the caller then uses its default.
 * - r1-r5 are clobbered, r6-r9 preserved (the BPF calling convention); the function's own
 *   stack use is `CompiledModel.stackBytes` (the caller's frames and ours share 512 bytes).
 * - The entry is the label `${prefix}predict` (default `kmlib_predict`); every label of the
 *   fragment starts with the prefix, so several models can be embedded in one program.
 * - The table strategy references two maps by name, `${prefix}tbl` and `${prefix}ctl`;
 *   the embedding program passes their fds in its ProgramSpec.maps.
 *
 * ## Record form (standalone XDP program; for BPF_PROG_TEST_RUN and benchmarks)
 *
 * The packet (test-run `data_in`) is one record of little-endian int32 words:
 *
 *     x[0..nFeatures) | class | scores[0..nScores)
 *
 * padded to at least 16 bytes (XDP needs an Ethernet header's worth). The program writes
 * class and scores into the record in place (test-run `data_out`) and returns the class as
 * its verdict (`retval`); a record too short for the model gives `BAD_RECORD` (-2).
 *
 * ## I/O-map form (standalone program for PROG_ARRAY tail calls)
 *
 * Features travel in a per-CPU array map `${prefix}io` (one element, key 0) laid out as the
 * record above. A caller writes x there, then tail-calls the model program. The model writes
 * class and scores back, and either returns the class (retval) or, with a `continuation`,
 * tail-calls `continuation.index` of the PROG_ARRAY `continuation.map` so the caller's own
 * program decides with the answer in the I/O map (falling back to `continuation.fallback`
 * as the verdict when that tail call fails). Models too large for one program are split into
 * a chain of such programs (layout "tailcalls"); their partial scores live in the I/O map.
 */

/** r0 of a table-strategy model that could not read a stable parameter set. */
export const NO_DECISION = -1;
/** r0 of a standalone program whose record is too short for the model. */
export const BAD_RECORD = -2;
/** Default prefix of labels and map names. */
export const DEFAULT_PREFIX = "kmlib_";

/** Bytes of the record / I/O-map value for a model with these dimensions. */
export function recordBytes(nFeatures: number, nScores: number): number {
  return Math.max(16, 4 * (nFeatures + 1 + nScores));
}

/** Byte offsets inside a record / I/O-map value. */
export function recordLayout(nFeatures: number, nScores: number) {
  return { x: 0, class: 4 * nFeatures, scores: 4 * nFeatures + 4, size: recordBytes(nFeatures, nScores) };
}

/** Encodes one record (features; class and scores zero) for test-run. */
export function encodeRecord(x: ArrayLike<number>, nScores: number): Uint8Array {
  const out = new Uint8Array(recordBytes(x.length, nScores));
  const dv = new DataView(out.buffer);
  for (let j = 0; j < x.length; j++) dv.setInt32(4 * j, x[j]!, true);
  return out;
}

/** Decodes the class and scores a standalone program wrote into a record. */
export function decodeRecord(rec: Uint8Array, nFeatures: number, nScores: number): { class: number; scores: number[] } {
  const dv = new DataView(rec.buffer, rec.byteOffset, rec.byteLength);
  const l = recordLayout(nFeatures, nScores);
  const scores: number[] = [];
  for (let s = 0; s < nScores; s++) scores.push(dv.getInt32(l.scores + 4 * s, true));
  return { class: dv.getInt32(l.class, true), scores };
}
