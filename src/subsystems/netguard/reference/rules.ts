/**
 * @module subsystems/netguard/reference/rules
 * The default algorithm (the human-written baseline) in TypeScript, exactly as gen/rules.ts
 * runs it per packet, per source address:
 *
 * 1. Rate limit, GCRA with T = rateIntervalNs, tau = rateToleranceNs (skipped when T = 0):
 *      tat = max(tat, now);  if tat - now > tau: RULE_RATE  else: tat += T
 *    (a non-conforming packet does not advance tat).
 * 2. SYN flood (skipped when synWindowNs = 0), for TCP packets with SYN and without ACK:
 *      if now - windowStart >= synWindowNs (unsigned): windowStart = now, synCount = 0
 *      synCount += 1;  if synCount > synLimit: RULE_SYN
 * The default verdict is DROP when either rule fired.
 */
import { Flag, TcpFlag } from "../layout.ts";
import type { Control } from "../control.ts";
import type { ParsedPacket } from "./parse.ts";

export interface SourceRecord {
  tat: bigint;
  synWindowStart: bigint;
  synCount: bigint;
}

export const newSource = (): SourceRecord => ({ tat: 0n, synWindowStart: 0n, synCount: 0n });
const u64 = (x: bigint) => BigInt.asUintN(64, x);

/** Apply the rules to one packet; returns the Flag.RULE_* bits that fired. */
export function applyRules(s: SourceRecord, p: ParsedPacket, now: bigint, c: Control): number {
  let fired = 0;
  if (c.rateIntervalNs !== 0n) {
    const tat = s.tat > now ? s.tat : now;
    if (u64(tat - now) > c.rateToleranceNs) fired |= Flag.RULE_RATE;
    else s.tat = u64(tat + c.rateIntervalNs);
  }
  if (c.synWindowNs !== 0n && p.proto === 6 && (p.tcpFlags & (TcpFlag.SYN | TcpFlag.ACK)) === TcpFlag.SYN) {
    if (u64(now - s.synWindowStart) >= c.synWindowNs) {
      s.synWindowStart = now;
      s.synCount = 0n;
    }
    s.synCount = u64(s.synCount + 1n);
    if (s.synCount > BigInt(c.synLimit)) fired |= Flag.RULE_SYN;
  }
  return fired;
}
