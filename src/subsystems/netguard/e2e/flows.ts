/**
 * @module subsystems/netguard/e2e/flows
 * Ground truth and scoring for kernel flow records in the lab. A record's label comes from its
 * source address only (the lab's Labeler: the namespace that sent it), never from its features;
 * the model never sees addresses. `FlowBook` aggregates records per flow as they stream in (both
 * answers, the final verdict, who decided) and scores any decision source per flow and per packet:
 * a flow counts as flagged when the source would drop more than half of its packets.
 */
import { HTTP_PORT, Labeler, groundTruth, iperfPort, type GroundTruth, type LabPlan } from "../lab/index.ts";
import { featureIndex } from "../features.ts";
import { DecisionSource, Flag } from "../layout.ts";
import type { NetguardRecord } from "../record.ts";

/** Which lab host sent a record: the address of its flow that is not the server's. */
export class RecordLabels {
  readonly labeler: Labeler;
  readonly #server: string;

  constructor(
    readonly plan: LabPlan,
    truth: GroundTruth = groundTruth(plan),
  ) {
    this.labeler = new Labeler(truth);
    this.#server = plan.server.id;
  }

  /** The sender's address bytes (16-byte form as the kernel keeps it). */
  sender(r: NetguardRecord): Uint8Array {
    return this.labeler.host(r.key.addrA)?.id === this.#server ? r.key.addrB : r.key.addrA;
  }

  host(r: NetguardRecord): string | undefined {
    return this.labeler.host(this.sender(r))?.id;
  }

  /** 1 attack, 0 benign, undefined for a sender outside the lab. */
  label(r: NetguardRecord): 0 | 1 | undefined {
    const l = this.labeler.label(this.sender(r));
    return l === undefined ? undefined : l === "attack" ? 1 : 0;
  }

  /**
   * The generator that made a record. An attacker runs one generator at a time: its run
   * window says (exact window first, then with the Labeler's slack for packets in flight). A
   * client runs several at once, so its traffic is named by protocol and port instead.
   */
  kind(r: NetguardRecord): string | undefined {
    const addr = this.sender(r);
    const host = this.labeler.host(addr);
    if (!host) return undefined;
    if (host.label === "benign") {
      const proto = r.key.proto;
      if (proto === 1 || proto === 58) return "icmp (ping, nd)";
      const port = Number(r.features[featureIndex("dst_port")] ?? 0n);
      if (port === HTTP_PORT) return "http (curl, wrk)";
      const h = this.plan.clients.find((c) => c.id === host.id);
      if (h && port === iperfPort(this.plan, h)) return "iperf3";
      return `other ${proto}/${port}`;
    }
    const ms = Number(r.tsNs) / 1e6;
    return this.labeler.kind(addr, ms, 0) ?? this.labeler.kind(addr, ms);
  }
}

export const flowId = (r: NetguardRecord): string =>
  `${r.key.proto}|${Buffer.from(r.key.addrA).toString("hex")}:${r.key.portA}|${Buffer.from(r.key.addrB).toString("hex")}:${r.key.portB}`;

export interface FlowAgg {
  readonly id: string;
  readonly host: string;
  readonly label: 0 | 1;
  /** CLOCK_MONOTONIC ms of the first record (the kind is resolved from it later). */
  readonly firstMs: number;
  /** One record of the flow (for kind lookups). */
  readonly first: NetguardRecord;
  packets: number;
  /** Packets on which the model answered, and how many of those it would drop. */
  modelAnswered: number;
  modelDrops: number;
  defaultDrops: number;
  finalDrops: number;
  /** Final drops decided by the model. */
  modelDecidedDrops: number;
}

export type Side = "model" | "default" | "final";

export interface Confusion {
  tp: number;
  fp: number;
  tn: number;
  fn: number;
}

export interface Scores extends Confusion {
  precision: number;
  recall: number;
  f1: number;
  /** fp / (fp + tn): benign flows (or packets) flagged. */
  falsePositiveRate: number;
}

export function scores(c: Confusion): Scores {
  const precision = c.tp + c.fp === 0 ? 0 : c.tp / (c.tp + c.fp);
  const recall = c.tp + c.fn === 0 ? 0 : c.tp / (c.tp + c.fn);
  const f1 = precision + recall === 0 ? 0 : (2 * precision * recall) / (precision + recall);
  return { ...c, precision, recall, f1, falsePositiveRate: c.fp + c.tn === 0 ? 0 : c.fp / (c.fp + c.tn) };
}

/** Per-flow aggregation of labelled records; unlabelled records are counted and skipped. */
export class FlowBook {
  readonly flows = new Map<string, FlowAgg>();
  unlabelled = 0;
  records = 0;

  constructor(readonly labels: RecordLabels) {}

  add(recs: readonly NetguardRecord[]): void {
    for (const r of recs) {
      const label = this.labels.label(r);
      if (label === undefined) {
        this.unlabelled++;
        continue;
      }
      this.records++;
      const id = flowId(r);
      let f = this.flows.get(id);
      if (!f) {
        f = { id, host: this.labels.host(r)!, label, firstMs: Number(r.tsNs) / 1e6, first: r, packets: 0, modelAnswered: 0, modelDrops: 0, defaultDrops: 0, finalDrops: 0, modelDecidedDrops: 0 };
        this.flows.set(id, f);
      }
      f.packets++;
      if (r.flags & Flag.MODEL_RAN) {
        f.modelAnswered++;
        f.modelDrops += r.modelVerdict;
      }
      f.defaultDrops += r.defaultVerdict;
      f.finalDrops += r.finalVerdict;
      if (r.source === DecisionSource.MODEL) f.modelDecidedDrops += r.finalVerdict;
    }
  }

  static drops(f: FlowAgg, side: Side): { drops: number; of: number } {
    switch (side) {
      case "model":
        return { drops: f.modelDrops, of: f.modelAnswered };
      case "default":
        return { drops: f.defaultDrops, of: f.packets };
      case "final":
        return { drops: f.finalDrops, of: f.packets };
    }
  }

  /** Per-flow confusion: flagged when more than half of the answered packets would be dropped. */
  perFlow(side: Side, filter: (f: FlowAgg) => boolean = () => true): Scores {
    const c: Confusion = { tp: 0, fp: 0, tn: 0, fn: 0 };
    for (const f of this.flows.values()) {
      if (!filter(f)) continue;
      const { drops, of } = FlowBook.drops(f, side);
      if (of === 0) continue;
      const flagged = drops * 2 > of;
      const cell = f.label === 1 ? (flagged ? "tp" : "fn") : flagged ? "fp" : "tn";
      c[cell]++;
    }
    return scores(c);
  }

  /** Per-packet confusion. */
  perPacket(side: Side, filter: (f: FlowAgg) => boolean = () => true): Scores {
    const c: Confusion = { tp: 0, fp: 0, tn: 0, fn: 0 };
    for (const f of this.flows.values()) {
      if (!filter(f)) continue;
      const { drops, of } = FlowBook.drops(f, side);
      if (f.label === 1) {
        c.tp += drops;
        c.fn += of - drops;
      } else {
        c.fp += drops;
        c.tn += of - drops;
      }
    }
    return scores(c);
  }

  /** Flows grouped by the generator that made them (resolved with the final run windows). */
  byKind(labels: RecordLabels): Map<string, FlowAgg[]> {
    const out = new Map<string, FlowAgg[]>();
    for (const f of this.flows.values()) {
      const k = labels.kind(f.first) ?? (f.label === 1 ? "attack-other" : "benign-other");
      const list = out.get(k) ?? [];
      list.push(f);
      out.set(k, list);
    }
    return out;
  }
}
