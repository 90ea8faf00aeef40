/**
 * @module ml/eval/metrics
 * Classification metrics: accuracy, the confusion matrix, per-class precision / recall / F1
 * with support, macro and weighted averages, and their text tables (the layout of
 * scikit-learn's classification_report, so figures can be read side by side).
 */
import { ErrorCode, KmlibError } from "../../errors.ts";

export interface ClassMetrics {
  name: string;
  precision: number;
  recall: number;
  f1: number;
  support: number;
}

export interface ClassificationReport {
  accuracy: number;
  nRows: number;
  classes: ClassMetrics[];
  macro: Omit<ClassMetrics, "name">;
  weighted: Omit<ClassMetrics, "name">;
  /** confusion[t][p]: rows of true class t predicted as p. */
  confusion: number[][];
}

export function confusionMatrix(truth: ArrayLike<number>, pred: ArrayLike<number>, nClasses: number): number[][] {
  if (truth.length !== pred.length) throw new KmlibError(ErrorCode.InvalidArgument, `metrics: ${truth.length} labels but ${pred.length} predictions`);
  const m = Array.from({ length: nClasses }, () => new Array<number>(nClasses).fill(0));
  for (let i = 0; i < truth.length; i++) m[truth[i]!]![pred[i]!]!++;
  return m;
}

export function accuracy(truth: ArrayLike<number>, pred: ArrayLike<number>): number {
  let ok = 0;
  for (let i = 0; i < truth.length; i++) if (truth[i] === pred[i]) ok++;
  return truth.length === 0 ? 0 : ok / truth.length;
}

/** Fraction of rows on which two predictions agree. */
export function agreement(a: ArrayLike<number>, b: ArrayLike<number>): number {
  return accuracy(a, b);
}

export function classificationReport(truth: ArrayLike<number>, pred: ArrayLike<number>, classNames: readonly string[]): ClassificationReport {
  const k = classNames.length;
  const confusion = confusionMatrix(truth, pred, k);
  const classes: ClassMetrics[] = classNames.map((name, c) => {
    const tp = confusion[c]![c]!;
    const support = confusion[c]!.reduce((s, v) => s + v, 0);
    let predicted = 0;
    for (let t = 0; t < k; t++) predicted += confusion[t]![c]!;
    // 0 where undefined (no prediction / no support), as scikit-learn's zero_division=0.
    const precision = predicted > 0 ? tp / predicted : 0;
    const recall = support > 0 ? tp / support : 0;
    const f1 = precision + recall > 0 ? (2 * precision * recall) / (precision + recall) : 0;
    return { name, precision, recall, f1, support };
  });
  const n = truth.length;
  const avg = (w: (c: ClassMetrics) => number, total: number) => ({
    precision: classes.reduce((s, c) => s + w(c) * c.precision, 0) / total,
    recall: classes.reduce((s, c) => s + w(c) * c.recall, 0) / total,
    f1: classes.reduce((s, c) => s + w(c) * c.f1, 0) / total,
    support: n,
  });
  return {
    accuracy: accuracy(truth, pred),
    nRows: n,
    classes,
    macro: avg(() => 1, k),
    weighted: avg((c) => c.support, Math.max(n, 1)),
    confusion,
  };
}

function pad(s: string, w: number, left = false): string {
  return left ? s.padEnd(w) : s.padStart(w);
}

/** The per-class table, then accuracy and averages. */
export function formatReport(r: ClassificationReport): string {
  const nameW = Math.max(12, ...r.classes.map((c) => c.name.length));
  const f = (v: number) => v.toFixed(4);
  const lines = [`${pad("", nameW)}  ${pad("precision", 9)}  ${pad("recall", 9)}  ${pad("f1", 9)}  ${pad("support", 8)}`];
  for (const c of r.classes) lines.push(`${pad(c.name, nameW, true)}  ${pad(f(c.precision), 9)}  ${pad(f(c.recall), 9)}  ${pad(f(c.f1), 9)}  ${pad(String(c.support), 8)}`);
  lines.push("");
  lines.push(`${pad("accuracy", nameW, true)}  ${pad("", 9)}  ${pad("", 9)}  ${pad(f(r.accuracy), 9)}  ${pad(String(r.nRows), 8)}`);
  for (const [name, a] of [["macro avg", r.macro], ["weighted avg", r.weighted]] as const) {
    lines.push(`${pad(name, nameW, true)}  ${pad(f(a.precision), 9)}  ${pad(f(a.recall), 9)}  ${pad(f(a.f1), 9)}  ${pad(String(a.support), 8)}`);
  }
  return lines.join("\n");
}

/** The confusion matrix with classes numbered (names listed below the table). */
export function formatConfusion(r: ClassificationReport, classNames: readonly string[]): string {
  const k = classNames.length;
  const w = Math.max(4, ...r.confusion.flat().map((v) => String(v).length)) + 1;
  const lines = [`${pad("true\\pred", 10, true)}${Array.from({ length: k }, (_, c) => pad(String(c), w)).join("")}`];
  r.confusion.forEach((rowv, t) => lines.push(`${pad(String(t), 10, true)}${rowv.map((v) => pad(String(v), w)).join("")}`));
  lines.push("");
  classNames.forEach((n, c) => lines.push(`  ${c}: ${n}`));
  return lines.join("\n");
}
