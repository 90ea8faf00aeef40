/**
 * @module subsystems/lfs-gc/kernel-int/gen
 * The GC kernel side's per-write and per-segment work as eBPF, built with kmlib's own DSL (no
 * clang): two XDP programs for BPF_PROG_TEST_RUN whose packet is a record of `record.ts`.
 *
 * - `featureProgram` (a host write): the new Q16 recent and long activities and the region's
 *   Q8 count in the `gc_region` ARRAY map (each decay: shift + table + quadratic), the
 *   composite cell (threshold compares), the lifetime-table lookup in the `gc_life` ARRAY
 *   map and the Q40 rate.
 * - `relocateProgram` (GC moves a block): the region's bucket of now, the block's cell with
 *   it, the lookup and the rate.
 * - `scoreProgram`: the integer victim score of one segment (normalised mantissa, branch-free
 *   bit length, integer square root by a linear guess and two Newton steps, signed exponent
 *   shifts).
 *
 * Each step is the instruction of the twin's exact integer step (`features.ts`, `score.ts`),
 * so the kernel's answers equal the twins' bit for bit (checked by the kernel test). Verdicts:
 * XDP_PASS when the record was computed, XDP_ABORTED for a short record, XDP_DROP when a map
 * lookup failed.
 */
import {
  Add, ArSh, Call, Div, Exit, Helper, JEq, JGE, JGT, JLE, JLT, JNE, JSGE, Ja, LoadImm64, LoadMapPtr, LoadMapValue, LoadMem, Lsh, Mod, Mov, Mul, Neg, Rsh,
  StoreMem, Sub, And, label, R0, R1, R2, R3, R4, R5, R6, R7, R8, R9, R10, type AsmInput, type AsmItem, type Register,
} from "../../../bpf/asm/index.ts";
import { XdpAction } from "../../../bpf/types.ts";
import { REGION_STRIDE } from "../policies/lifetime-features.ts";
import {
  ACT_MAX, ACT_ONE, ACT_THRESHOLDS, COUNT_BUCKETS, EXP_BITS, INTERVAL_BUCKETS, LN2_Q36, LOG2E_Q21, LONG_BUCKETS, LONG_THRESHOLDS_Q16, REGION_BUCKETS, REGION_ONE, Y_FRAC,
} from "./features.ts";
import { ConfigLayout, FeatureRecord, MapNames, RegionLayout, RelocateRecord, ScoreRecord } from "./record.ts";
import { R_CAP, SCORE_EMPTY, SCORE_FRAC, STALE_GAPS_Q8 } from "./score.ts";

/** r7 = the record (packet) of `size` bytes, or return XDP_ABORTED. Clobbers r2, r3. */
function recordOrAbort(size: number, bad: string): AsmInput {
  return [
    LoadMem("W", R7, R1, 0), // xdp_md.data
    LoadMem("W", R3, R1, 4), // xdp_md.data_end
    Mov.reg(R2, R7),
    Add.imm(R2, size),
    JGT.reg(R2, R3, bad),
  ];
}

const verdict = (name: string, v: number): AsmInput => [label(name), Mov.imm(R0, v), Exit()];

/**
 * r0 = decayQ(r2, r1, τ): r2 (a fixed-point count < 2^32) decayed over r1 host writes; r2 when
 * r1 = 0, 0 at or past the horizon. τ and the horizon are u64 words of `gc_cfg` (r8) at
 * `tauOff` and `horizonOff`. Keeps r1, r2, r6, r7, r8; clobbers r3, r4, r5, r9.
 */
function decay(id: string, tauOff: number, horizonOff: number): AsmInput {
  const T = ConfigLayout;
  return [
    Mov.reg(R0, R2),
    JEq.imm(R1, 0, `${id}_dk`),
    Mov.imm(R0, 0),
    LoadMem("DW", R3, R8, horizonOff),
    JGE.reg(R1, R3, `${id}_dk`),
    LoadMem("DW", R3, R8, tauOff),
    Mov.reg(R4, R1),
    Div.reg(R4, R3), // qi
    Mov.reg(R5, R4),
    Mul.reg(R5, R3),
    Mov.reg(R9, R1),
    Sub.reg(R9, R5), // ri
    Lsh.imm(R9, Y_FRAC),
    Div.reg(R9, R3),
    Lsh.imm(R4, Y_FRAC),
    Add.reg(R4, R9), // t = dt/τ, Q26
    Mul.imm(R4, LOG2E_Q21),
    Rsh.imm(R4, 21), // y
    Mov.reg(R5, R4),
    Rsh.imm(R5, Y_FRAC), // n
    And.imm(R4, 2 ** Y_FRAC - 1), // x
    Mov.reg(R3, R4),
    Rsh.imm(R3, Y_FRAC - EXP_BITS), // h
    And.imm(R4, 2 ** (Y_FRAC - EXP_BITS) - 1), // l
    LoadImm64(R9, LN2_Q36),
    Mul.reg(R4, R9),
    Rsh.imm(R4, 30), // m
    Mov.reg(R9, R4),
    Mul.reg(R9, R4),
    Rsh.imm(R9, 33), // m²/2
    LoadImm64(R0, 2 ** 32),
    Sub.reg(R0, R4),
    Add.reg(R0, R9), // g
    Lsh.imm(R3, 2),
    Add.reg(R3, R8),
    LoadMem("W", R3, R3, T.exp), // 2^(-h/1024), Q31
    Mul.reg(R0, R3),
    Rsh.imm(R0, 32), // 2^-x, Q31
    Rsh.reg(R0, R5), // 2^-y
    Mul.reg(R0, R2),
    Rsh.imm(R0, 31),
    label(`${id}_dk`),
  ];
}

/** r0 = min(r0 + one, ACT_MAX). Clobbers r3. */
function addSaturating(id: string, one: number): AsmInput {
  return [Add.imm(R0, one), LoadImm64(R3, ACT_MAX), JLE.reg(R0, R3, `${id}_sat`), Mov.reg(R0, R3), label(`${id}_sat`)];
}

/**
 * r6 = pointer to the `gc_region` element of the lba at `lbaOff` in the record, then r0 = its
 * count decayed to the record's `now` (at `nowOff`; no decay when now ≤ its last update), r1 =
 * now. Clobbers r2-r5, r9.
 */
function regionDecayed(id: string, lbaOff: number, nowOff: number): AsmInput {
  const T = ConfigLayout, G = RegionLayout;
  return [
    LoadMem("DW", R1, R7, lbaOff),
    LoadMem("DW", R3, R8, T.regionShift),
    Rsh.reg(R1, R3),
    StoreMem("W", R10, -4, R1),
    LoadMapPtr(R1, MapNames.region),
    Mov.reg(R2, R10),
    Add.imm(R2, -4),
    Call(Helper.map_lookup_elem),
    JEq.imm(R0, 0, "fail"),
    Mov.reg(R6, R0),
    LoadMem("DW", R1, R7, nowOff),
    LoadMem("DW", R3, R6, G.updated),
    JGT.reg(R1, R3, `${id}_dt`),
    Mov.reg(R3, R1), // now ≤ updated: dt = 0
    label(`${id}_dt`),
    Sub.reg(R1, R3),
    LoadMem("DW", R2, R6, G.count),
    ...decay(id, T.regionTau, T.regionHorizon),
    LoadMem("DW", R1, R7, nowOff),
  ];
}

/** r2 = region bucket of the Q8 count in r0 (thresholds in `gc_cfg`). Clobbers r3. */
function regionBucket(id: string): AsmInput {
  const out: AsmItem[] = [Mov.imm(R2, 0)];
  for (let k = 0; k < REGION_BUCKETS - 1; k++) out.push(LoadMem("DW", R3, R8, ConfigLayout.regionThresholds + 8 * k), JLT.reg(R0, R3, `${id}_rb`), Add.imm(R2, 1));
  out.push(label(`${id}_rb`));
  return out;
}

/** gc_life[cell in r2] to `lifeOff` and 2^40 / clamp(life, 1, lifeCap) to `rateOff`; returns XDP_PASS. */
function lifeAndRate(lifeOff: number, rateOff: number): AsmInput {
  return [
    StoreMem("W", R10, -8, R2),
    LoadMapPtr(R1, MapNames.life),
    Mov.reg(R2, R10),
    Add.imm(R2, -8),
    Call(Helper.map_lookup_elem),
    JEq.imm(R0, 0, "fail"),
    LoadMem("W", R1, R0, 0),
    StoreMem("DW", R7, lifeOff, R1),
    JNE.imm(R1, 0, "life_pos"),
    Mov.imm(R1, 1),
    label("life_pos"),
    LoadMem("DW", R3, R8, ConfigLayout.lifeCap),
    JLE.reg(R1, R3, "life_ok"),
    Mov.reg(R1, R3),
    label("life_ok"),
    LoadImm64(R3, 2 ** 40),
    Div.reg(R3, R1),
    StoreMem("DW", R7, rateOff, R3),
    Mov.imm(R0, XdpAction.PASS),
    Exit(),
  ];
}

/**
 * A host write: the new recent and long activities, the region's count (written back to
 * `gc_region`) and bucket, the composite cell ((region·LONG_BUCKETS + long)·INTERVAL_BUCKETS +
 * interval)·COUNT_BUCKETS + activity, the table lookup and the rate.
 */
export function featureProgram(): AsmInput {
  const T = ConfigLayout, F = FeatureRecord, G = RegionLayout;
  const cellIb: AsmItem[] = [];
  for (let k = 0; k < INTERVAL_BUCKETS - 2; k++) cellIb.push(LoadMem("DW", R3, R8, T.thresholds + 8 * k), JLT.reg(R1, R3, "ib_done"), Add.imm(R2, 1));
  const cellCb: AsmInput = ACT_THRESHOLDS.map((t) => [JLT.imm(R0, t, "cb_done"), Add.imm(R2, 1)]);
  const cellLb: AsmInput = LONG_THRESHOLDS_Q16.map((t) => [JLT.imm(R0, t, "lb_done"), Add.imm(R2, 1)]);
  return [
    ...recordOrAbort(F.size, "bad"),
    LoadMapValue(R8, MapNames.config, 0),
    // Activities: ACT_ONE for a first write, else decayed + ACT_ONE (0 past the horizon).
    LoadMem("DW", R1, R7, F.interval),
    Mov.imm(R0, ACT_ONE),
    JEq.imm(R1, 0, "act_done"),
    LoadMem("DW", R2, R7, F.prevActivity),
    ...decay("act", T.tau, T.horizon),
    ...addSaturating("act", ACT_ONE),
    label("act_done"),
    StoreMem("DW", R7, F.activity, R0),
    Mov.imm(R0, ACT_ONE),
    JEq.imm(R1, 0, "long_done"),
    LoadMem("DW", R2, R7, F.prevLong),
    ...decay("long", T.longTau, T.longHorizon),
    ...addSaturating("long", ACT_ONE),
    label("long_done"),
    StoreMem("DW", R7, F.long, R0),
    // Region: count decayed to now + one write, stored back with the time, then its bucket.
    ...regionDecayed("rg", F.lba, F.now),
    ...addSaturating("rg", REGION_ONE),
    StoreMem("DW", R6, G.count, R0),
    LoadMem("DW", R3, R6, G.updated),
    JLE.reg(R1, R3, "rg_kept"),
    StoreMem("DW", R6, G.updated, R1),
    label("rg_kept"),
    ...regionBucket("rg"),
    StoreMem("DW", R7, F.region, R2),
    // Cell: region, then long bucket, interval bucket (ascending thresholds: the first miss ends it), activity bucket.
    Mul.imm(R2, LONG_BUCKETS),
    LoadMem("DW", R0, R7, F.long),
    ...cellLb,
    label("lb_done"),
    Mul.imm(R2, INTERVAL_BUCKETS),
    LoadMem("DW", R1, R7, F.interval),
    JEq.imm(R1, 0, "ib_done"),
    Add.imm(R2, 1),
    ...cellIb,
    label("ib_done"),
    Mul.imm(R2, COUNT_BUCKETS),
    LoadMem("DW", R0, R7, F.activity),
    ...cellCb,
    label("cb_done"),
    StoreMem("DW", R7, F.cell, R2),
    ...lifeAndRate(F.life, F.rate),
    verdict("fail", XdpAction.DROP),
    verdict("bad", XdpAction.ABORTED),
  ];
}

/**
 * GC relocates a block: its region's bucket of now (the count decayed, nothing written back),
 * the block's cell with that bucket, the table lookup and the rate.
 */
export function relocateProgram(): AsmInput {
  const R = RelocateRecord;
  return [
    ...recordOrAbort(R.size, "bad"),
    LoadMapValue(R8, MapNames.config, 0),
    ...regionDecayed("rg", R.lba, R.now),
    ...regionBucket("rg"),
    StoreMem("DW", R7, R.region, R2),
    Mul.imm(R2, REGION_STRIDE),
    LoadMem("DW", R1, R7, R.cell),
    Mod.imm(R1, REGION_STRIDE),
    Add.reg(R2, R1),
    StoreMem("DW", R7, R.newCell, R2),
    ...lifeAndRate(R.life, R.rate),
    verdict("fail", XdpAction.DROP),
    verdict("bad", XdpAction.ABORTED),
  ];
}

let labels = 0;

/**
 * dst = bit length of src (0 for 0), by binary search without branches (the verifier would
 * walk every combination of taken jumps): each step shifts by w when src >> w is not zero,
 * tested as the sign of its negation. Clobbers tmp and scratch; src is kept.
 */
function bitLength(dst: Register, src: Register, tmp: Register, scratch: Register): AsmInput {
  const out: AsmItem[] = [Mov.imm(dst, 0), Mov.reg(tmp, src)];
  for (const w of [32, 16, 8, 4, 2, 1]) {
    out.push(Mov.reg(scratch, tmp), Rsh.imm(scratch, w), Neg(scratch), Rsh.imm(scratch, 63), Lsh.imm(scratch, Math.log2(w)), Rsh.reg(tmp, scratch), Add.reg(dst, scratch));
  }
  out.push(Add.reg(dst, tmp));
  return out;
}

/** x = x·2^k (k ≥ 0) or floor(x / 2^-k), k a signed register. Clobbers k. */
function shiftSigned(x: Register, k: Register): AsmInput {
  const id = `sh${labels++}`;
  return [JSGE.imm(k, 0, `${id}_l`), Neg(k), Rsh.reg(x, k), Ja(`${id}_d`), label(`${id}_l`), Lsh.reg(x, k), label(`${id}_d`)];
}

/** sqrt(t) on t in [1, 2) as a + b·t: the chord raised by half its largest gap (error < 0.8%). */
const SQRT_A = 2 - Math.SQRT2 + 0.0089, SQRT_B = Math.SQRT2 - 1;

/**
 * r5 = floor(sqrt(x)) for x in r0, 2^50 <= x < 2^52 (r0 kept; clobbers r3, r4). A linear guess
 * per octave (within 0.8%), two integer Newton steps y = (y + x/y) / 2 (relative error below
 * 1e-9 after them, and integer Newton never goes below floor(sqrt(x))), then one step down
 * when y² > x: the exact floor, as the twin's `isqrt`.
 */
function isqrt(): AsmItem[] {
  return [
    Mov.reg(R5, R0),
    LoadImm64(R3, 2 ** 51),
    JGE.reg(R0, R3, "sq_hi"),
    // [2^50, 2^51): y = 2^25·(a + b·x/2^50) = 2^25·a + (x >> 25)·b
    Rsh.imm(R5, 25),
    Mul.imm(R5, Math.round(SQRT_B * 2 ** 16)),
    Rsh.imm(R5, 16),
    Add.imm(R5, Math.round(SQRT_A * 2 ** 25)),
    Ja("sq_newton"),
    // [2^51, 2^52): y = 2^25.5·(a + b·x/2^51) = 2^25.5·a + (x >> 26)·b·√2
    label("sq_hi"),
    Rsh.imm(R5, 26),
    Mul.imm(R5, Math.round(SQRT_B * Math.SQRT2 * 2 ** 16)),
    Rsh.imm(R5, 16),
    Add.imm(R5, Math.round(SQRT_A * 2 ** 25.5)),
    label("sq_newton"),
    ...[0, 1].flatMap(() => [Mov.reg(R3, R0), Div.reg(R3, R5), Add.reg(R5, R3), Rsh.imm(R5, 1)]),
    Mov.reg(R3, R5),
    Mul.reg(R3, R5),
    JLE.reg(R3, R0, "sq_done"),
    Add.imm(R5, -1),
    label("sq_done"),
  ];
}

/**
 * Registers: r7 record, r1 v, r2 b, r3 s, r4 quiet; r0 mantissa x, r6 exponent e (signed);
 * r5, r8, r9 scratch (and r3, r4 once s and quiet are used).
 */
export function scoreProgram(): AsmInput {
  const S = ScoreRecord;
  return [
    ...recordOrAbort(S.size, "bad"),
    LoadMem("DW", R1, R7, S.valid),
    LoadMem("DW", R2, R7, S.blocksPerSegment),
    LoadMem("DW", R3, R7, S.rateSum),
    LoadMem("DW", R4, R7, S.quiet),
    JGT.reg(R1, R2, "bad"),
    JNE.imm(R1, 0, "nonempty"),
    LoadImm64(R0, SCORE_EMPTY),
    Ja("store"),
    label("nonempty"),
    Mov.imm(R6, 0),
    // Stale: quiet > floor(256·STALE_GAPS·2^32 / s), s > 0; then x = min(v·min(quiet, R_CAP), R_CAP).
    JEq.imm(R3, 0, "fresh"),
    LoadImm64(R5, STALE_GAPS_Q8 * 2 ** 32),
    Div.reg(R5, R3),
    JLE.reg(R4, R5, "fresh"),
    Mov.reg(R0, R4),
    LoadImm64(R5, R_CAP),
    JLE.reg(R0, R5, "q_ok"),
    Mov.reg(R0, R5),
    label("q_ok"),
    Mul.reg(R0, R1),
    JLE.reg(R0, R5, "norm"),
    Mov.reg(R0, R5),
    Ja("norm"),
    label("fresh"),
    JGE.reg(R3, R1, "ratio"),
    LoadImm64(R0, R_CAP),
    Ja("norm"),
    // x = (v << a) / (s >> k), a = 52 - bitlen(v), k = max(0, bitlen(s) - 26); e = 40 - a - k.
    label("ratio"),
    ...bitLength(R8, R3, R5, R9),
    Sub.imm(R8, 26),
    JSGE.imm(R8, 0, "k_ok"),
    Mov.imm(R8, 0),
    label("k_ok"),
    Mov.reg(R9, R3),
    Rsh.reg(R9, R8), // s >> k
    Mov.imm(R6, 40),
    Sub.reg(R6, R8), // e = 40 - k ...
    ...bitLength(R8, R1, R5, R0),
    Mov.imm(R5, 52),
    Sub.reg(R5, R8), // a
    Sub.reg(R6, R5), // ... - a
    Mov.reg(R0, R1),
    Lsh.reg(R0, R5),
    Div.reg(R0, R9),
    // Normalise x to [2^50, 2^52) with an even exponent: l = 51 - bitlen(x), +1 if e - l is odd.
    label("norm"),
    ...bitLength(R8, R0, R5, R9),
    Mov.imm(R5, 51),
    Sub.reg(R5, R8), // l
    Mov.reg(R9, R6),
    Sub.reg(R9, R5),
    And.imm(R9, 1),
    Add.reg(R5, R9),
    Sub.reg(R6, R5), // e -= l
    ...shiftSigned(R0, R5),
    ...isqrt(), // r5 = y
    // z = ((b - v)·y·2^13) / (b + v); score = z·2^(e/2 + 32 - 13)
    Mov.reg(R0, R2),
    Sub.reg(R0, R1),
    Mul.reg(R0, R5),
    Lsh.imm(R0, 13),
    Add.reg(R2, R1),
    Div.reg(R0, R2),
    ArSh.imm(R6, 1),
    Add.imm(R6, SCORE_FRAC - 13),
    ...shiftSigned(R0, R6),
    label("store"),
    StoreMem("DW", R7, S.score, R0),
    Mov.imm(R0, XdpAction.PASS),
    Exit(),
    verdict("bad", XdpAction.ABORTED),
  ];
}

/** The score program's square root alone, for its own test: record x (u64) | floor(sqrt(x)). */
export function sqrtProgram(): AsmInput {
  return [...recordOrAbort(16, "bad"), LoadMem("DW", R0, R7, 0), ...isqrt(), StoreMem("DW", R7, 8, R5), Mov.imm(R0, XdpAction.PASS), Exit(), verdict("bad", XdpAction.ABORTED)];
}

/** An XDP program that only returns XDP_PASS: the anchor of the benches. */
export function emptyProgram(): AsmInput {
  return [Mov.imm(R0, XdpAction.PASS), Exit()];
}

