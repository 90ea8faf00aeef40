/**
 * @module subsystems/netguard/e2e/plot
 * The report's plot as a self-contained SVG: packets per second over time by ground truth and
 * final verdict (log scale), the kernel's effective mode as a coloured band, the scenario
 * phases along the bottom and the mode controller's transitions as vertical lines. The
 * shared line chart (report/svg-plot.ts) has no bands, markers or log axis, so this draws its
 * own, with the shared colour-blind-safe palette.
 */
import { color } from "../../../report/svg-plot.ts";
import type { ModeName } from "../control.ts";
import type { Bucket, TimelineData } from "./timeline.ts";

const W = 1200, H = 500;
const M = { left: 70, right: 20, top: 84, bottom: 100 };
const MODE_COLOURS: Record<ModeName, string> = { emergency: "#e8b4b4", learning: "#b4c8e8", collaboration: "#e8dcb4", recommendation: "#b4e8c0" };
const SERIES: { key: keyof Omit<Bucket, "t" | "mode">; name: string; colour: string; dash?: string }[] = [
  { key: "attackDropped", name: "attack, dropped", colour: color(3) },
  { key: "attackPassed", name: "attack, passed", colour: color(1), dash: "6 3" },
  { key: "benignPassed", name: "benign, passed", colour: color(2) },
  { key: "benignDropped", name: "benign, dropped", colour: color(4), dash: "2 2" },
];

const esc = (s: string): string => s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;");
const f1 = (x: number): string => x.toFixed(1);

export function plotSvg(d: TimelineData, title: string): string {
  const tEnd = Math.max(1, ...d.buckets.map((b) => b.t + d.bucketSeconds), ...d.phases.map((p) => p.end), ...d.transitions.map((t) => t.t));
  const pw = W - M.left - M.right, ph = H - M.top - M.bottom;
  const x = (t: number) => M.left + (Math.max(0, t) / tEnd) * pw;
  const maxY = Math.max(10, ...d.buckets.flatMap((b) => SERIES.map((s) => b[s.key])));
  const decades = Math.ceil(Math.log10(maxY));
  // log scale with 0 drawn on the axis: y(v) = log10(1 + v)
  const y = (v: number) => M.top + ph - (Math.log10(1 + v) / decades) * ph;
  const out: string[] = [];
  out.push(`<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="sans-serif" font-size="11">`);
  out.push(`<rect width="${W}" height="${H}" fill="white"/>`);
  out.push(`<text x="${M.left}" y="18" font-size="14" font-weight="bold">${esc(title)}</text>`);
  // mode band
  for (const b of d.buckets) {
    out.push(`<rect x="${f1(x(b.t))}" y="${M.top - 18}" width="${f1(Math.max(1, x(b.t + d.bucketSeconds) - x(b.t)))}" height="12" fill="${MODE_COLOURS[b.mode]}"/>`);
  }
  out.push(`<text x="${M.left - 6}" y="${M.top - 8}" text-anchor="end">mode</text>`);
  // grid and y axis
  for (let k = 0; k <= decades; k++) {
    const v = 10 ** k - 1;
    out.push(`<line x1="${M.left}" x2="${W - M.right}" y1="${f1(y(v))}" y2="${f1(y(v))}" stroke="#ddd"/>`);
    out.push(`<text x="${M.left - 6}" y="${f1(y(v) + 4)}" text-anchor="end">${k === 0 ? "0" : `1e${k}`}</text>`);
  }
  out.push(`<text transform="translate(16 ${M.top + ph / 2}) rotate(-90)" text-anchor="middle">packets/s (log)</text>`);
  // x axis
  const step = tEnd > 120 ? 20 : tEnd > 40 ? 10 : 5;
  for (let t = 0; t <= tEnd; t += step) {
    out.push(`<line x1="${f1(x(t))}" x2="${f1(x(t))}" y1="${M.top + ph}" y2="${M.top + ph + 4}" stroke="#333"/>`);
    out.push(`<text x="${f1(x(t))}" y="${M.top + ph + 15}" text-anchor="middle">${t}s</text>`);
  }
  out.push(`<line x1="${M.left}" x2="${W - M.right}" y1="${M.top + ph}" y2="${M.top + ph}" stroke="#333"/>`);
  // scenarios (labels "scenario: phase") on one row, their phases on two alternating rows below
  const groups = new Map<string, { start: number; end: number }>();
  for (const p of d.phases) {
    const g = p.label.includes(": ") ? p.label.slice(0, p.label.indexOf(": ")) : p.label;
    const e = groups.get(g);
    groups.set(g, e ? { start: Math.min(e.start, p.start), end: Math.max(e.end, p.end) } : { start: p.start, end: p.end });
  }
  const row0 = M.top + ph + 32;
  for (const [g, span] of groups) {
    out.push(`<rect x="${f1(x(span.start))}" y="${row0 - 10}" width="${f1(Math.max(1, x(span.end) - x(span.start)))}" height="14" fill="#eef"/>`);
    out.push(`<text x="${f1(x(span.start) + 3)}" y="${row0}" font-weight="bold">${esc(g)}</text>`);
  }
  d.phases.forEach((p, i) => {
    const row = row0 + 16 + (i % 2) * 12;
    const name = (p.label.includes(": ") ? p.label.slice(p.label.indexOf(": ") + 2) : p.label).replace("+benign", "");
    out.push(`<line x1="${f1(x(p.start))}" x2="${f1(x(p.start))}" y1="${row0 + 6}" y2="${row - 8}" stroke="#bbb"/>`);
    out.push(`<text x="${f1(x(p.start) + 2)}" y="${row}" font-size="9" fill="#555">${esc(name)}</text>`);
  });
  // series
  // a gap in the buckets (no packets at all) breaks the lines
  const segments: Bucket[][] = [];
  for (const b of d.buckets) {
    const last = segments.at(-1);
    if (last && b.t - last.at(-1)!.t < d.bucketSeconds * 1.5) last.push(b);
    else segments.push([b]);
  }
  for (const s of SERIES) {
    for (const seg of segments) {
      const pts = seg.map((b) => `${f1(x(b.t + d.bucketSeconds / 2))},${f1(y(b[s.key]))}`).join(" ");
      out.push(`<polyline fill="none" stroke="${s.colour}" stroke-width="1.5"${s.dash ? ` stroke-dasharray="${s.dash}"` : ""} points="${pts}"/>`);
    }
  }
  // transitions
  d.transitions.forEach((tr, i) => {
    const right = x(tr.t) > M.left + pw * 0.7;
    out.push(`<line x1="${f1(x(tr.t))}" x2="${f1(x(tr.t))}" y1="${M.top - 20}" y2="${M.top + ph}" stroke="#2c3e50" stroke-dasharray="4 3"/>`);
    out.push(`<text x="${f1(x(tr.t) + (right ? -3 : 3))}" y="${M.top + 12 + (i % 5) * 12}" fill="#2c3e50"${right ? ' text-anchor="end"' : ""}>${esc(tr.label)}</text>`);
  });
  // legend
  let lx = M.left;
  for (const s of SERIES) {
    out.push(`<line x1="${lx}" x2="${lx + 22}" y1="36" y2="36" stroke="${s.colour}" stroke-width="2"${s.dash ? ` stroke-dasharray="${s.dash}"` : ""}/><text x="${lx + 26}" y="40">${esc(s.name)}</text>`);
    lx += 130;
  }
  lx += 30;
  for (const [m, c] of Object.entries(MODE_COLOURS)) {
    out.push(`<rect x="${lx}" y="31" width="14" height="10" fill="${c}"/><text x="${lx + 18}" y="40">${m}</text>`);
    lx += 110;
  }
  out.push("</svg>");
  return out.join("\n");
}
