/**
 * @module subsystems/lfs-gc/kernel-int/arith
 * Exact unsigned integer steps shared by the integer twins, written so each equals the eBPF
 * instruction (u64 ALU) it stands for: every operand and intermediate stays below 2^53, where a
 * JavaScript number is an exact integer, and the one product that may reach 2^64 is split into
 * 16-bit halves (`mulShr`). The eBPF generator (`gen.ts`) emits the same steps with native u64
 * operations; its kernel test compares both bit for bit.
 */

/** 2^k for k = 0..64 (a lookup: `2 ** k` with a variable k is a slow pow call). */
export const POW2: Float64Array = Float64Array.from({ length: 65 }, (_, k) => 2 ** k);

/** floor(a / b) for integers 0 <= a < 2^53, 0 < b < 2^53 (eBPF: BPF_DIV, u64). */
export function udiv(a: number, b: number): number {
  let q = Math.floor(a / b);
  // The float quotient may round up across an integer; the product q*b < 2^53 stays exact.
  const r = a - q * b;
  if (r < 0) q--;
  else if (r >= b) q++;
  return q;
}

/**
 * floor(a * b / 2^s) for integers 0 <= a, b < 2^32 and 16 <= s <= 48 (eBPF: MUL then RSH,
 * u64, since a * b < 2^64). Exact in doubles by splitting b into 16-bit halves.
 */
export function mulShr(a: number, b: number, s: number): number {
  const hi = Math.floor(b / 65536), lo = b - hi * 65536; // no `%`: on doubles it is a slow fmod
  // a*b = (a*hi)*2^16 + a*lo; each product < 2^48. floor(x / 2^s) = floor(floor(x / 2^16) / 2^(s-16)).
  const t = a * hi + Math.floor((a * lo) / 65536);
  return Math.floor(t / POW2[s - 16]!);
}

/** Number of significant bits of an integer 0 <= x < 2^53 (0 for 0). */
export function bitLength(x: number): number {
  if (x < 4294967296) return 32 - Math.clz32(x);
  return 64 - Math.clz32(Math.floor(x / 4294967296));
}

/**
 * floor(sqrt(x)) for an integer 0 <= x < 2^52 (eBPF: the bit-by-bit loop in `gen.ts`). The
 * correctly rounded double square root never rounds up to the next integer k there: the
 * closest x below k² is k² - 1, whose root k - 1/(2k) is more than half an ulp of k below it
 * while k < 2^26.
 */
export function isqrt(x: number): number {
  return Math.floor(Math.sqrt(x));
}

/** x * 2^k for k >= 0, floor(x / 2^-k) for k < 0 (eBPF: LSH / RSH). */
export function shift(x: number, k: number): number {
  return k >= 0 ? x * POW2[k]! : Math.floor(x / POW2[-k]!);
}
