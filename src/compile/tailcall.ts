/**
 * @module compile/tailcall
 * Layout "tailcalls": a tree ensemble too large for one program, split into a chain of
 * programs that tail-call each other through the PROG_ARRAY `${prefix}chain` (stage i at
 * index i; at most 33 stages, MAX_TAIL_CALL_CNT). Each program has its own instruction and
 * verifier budgets. Features and partial scores travel in the per-CPU I/O map `${prefix}io`
 * (abi.ts), so the chain serves the record form (stage 0 copies the packet's features in,
 * the last stage writes the answer back into the packet) and the I/O-map form alike.
 */
import {
  Add, Call, Exit, Helper, JLE, JNE, LoadMapPtr, LoadMem, Mov, StoreImm, StoreMem, label, type AsmItem,
} from "../bpf/asm/index.ts";
import type { IrBoosted, IrForest } from "../ml/ir/types.ts";
import { irScoreCount } from "../ml/ir/types.ts";
import { BAD_RECORD, recordLayout } from "./abi.ts";
import { accEpilogue, accFor, accLoad, accStore, treeSums } from "./inline-trees.ts";
import type { IoOptions } from "./wrap.ts";

export interface ChainOptions {
  form: "record" | "io";
  prefix: string;
  continuation?: IoOptions["continuation"];
}

const CTX = -8, KEY = -12, IO = -24;

/** The instructions of stage `i` of `chunks.length`. */
export function chainStage(ir: IrForest | IrBoosted, chunks: readonly (readonly number[])[], i: number, o: ChainOptions): AsmItem[] {
  const F = ir.nFeatures;
  const S = irScoreCount(ir);
  const l = recordLayout(F, S);
  const p = `${o.prefix}s${i}_`;
  const first = i === 0;
  const last = i === chunks.length - 1;
  const fail = [Mov.imm(0, BAD_RECORD), Exit()];
  const items: AsmItem[] = [
    StoreMem("DW", 10, CTX, 1), StoreImm("W", 10, KEY, 0),
    LoadMapPtr(1, `${o.prefix}io`), Mov.reg(2, 10), Add.imm(2, KEY), Call(Helper.map_lookup_elem),
    JNE.imm(0, 0, `${p}io`), ...fail, label(`${p}io`), StoreMem("DW", 10, IO, 0),
  ];
  /** r1 = packet data with room for a record checked; r0 = io (kept). */
  const packet = (tag: string): AsmItem[] => [
    LoadMem("DW", 5, 10, CTX), LoadMem("W", 1, 5, 0), LoadMem("W", 3, 5, 4), Mov.reg(4, 1), Add.imm(4, l.size),
    JLE.reg(4, 3, `${p}${tag}`), ...fail, label(`${p}${tag}`),
  ];
  if (first && o.form === "record") {
    items.push(...packet("in"));
    for (let j = 0; j < F; j++) items.push(LoadMem("W", 3, 1, 4 * j), StoreMem("W", 0, l.x + 4 * j, 3));
  }
  if (first) {
    const bias = ir.kind === "boosted" ? ir.bias : new Array<number>(S).fill(0);
    bias.forEach((b, s) => items.push(StoreImm("W", 0, l.scores + 4 * s, b)));
  }
  const acc = accFor(S);
  const width = ir.kind === "boosted" ? 1 : ir.nClasses;
  const scoreOf = (t: number) => (ir.kind === "boosted" ? ir.treeScore[t]! : 0);
  items.push(Mov.reg(1, 0), Mov.reg(2, 0), Add.imm(2, l.scores), ...accLoad(acc));
  const code = treeSums(chunks[i]!.map((t) => ir.trees[t]!), width, chunks[i]![0]!, acc, o.prefix, scoreOf);
  for (const it of code) items.push(it);
  if (!last) {
    items.push(...accStore(acc), LoadMem("DW", 1, 10, CTX), LoadMapPtr(2, `${o.prefix}chain`), Mov.imm(3, i + 1), Call(Helper.tail_call), ...fail);
    return items;
  }
  items.push(...accEpilogue(acc));
  items.push(LoadMem("DW", 2, 10, IO), StoreMem("W", 2, l.class, 0));
  if (o.form === "record") {
    items.push(...packet("out"));
    items.push(LoadMem("DW", 0, 10, IO));
    for (let w = 0; w < 1 + S; w++) items.push(LoadMem("W", 3, 0, l.class + 4 * w), StoreMem("W", 1, l.class + 4 * w, 3));
    items.push(LoadMem("W", 0, 0, l.class), Exit());
  } else if (o.continuation) {
    items.push(LoadMem("DW", 1, 10, CTX), LoadMapPtr(2, o.continuation.map), Mov.imm(3, o.continuation.index), Call(Helper.tail_call), Mov.imm(0, o.continuation.fallback), Exit());
  } else {
    items.push(LoadMem("W", 0, 2, l.class), Exit());
  }
  return items;
}
