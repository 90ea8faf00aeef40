/**
 * @module report/svg-plot
 * Small standalone SVG charts, pure TypeScript, no dependencies: line charts and grouped bar
 * charts with a title, axis labels, ticks and a legend. Enough for benchmark and report
 * figures; anything fancier belongs in a real plotting tool.
 *
 * ```ts
 * writeSvg("wa.svg", barChart({ title: "WA", yLabel: "write amplification",
 *   groups: ["uniform", "zipf-1.0"], series: [{ name: "greedy", values: [4.8, 6.9] }] }));
 * writeSvg("curve.svg", lineChart({ title: "WA vs spare", xLabel: "spare factor", yLabel: "WA",
 *   series: [{ name: "greedy", points: [[0.05, 8.9], [0.1, 4.8]] }] }));
 * ```
 * `rsvg-convert -o out.png in.svg` (Debian: librsvg2-bin) turns a chart into a PNG.
 */
import { writeFileSync } from "node:fs";
import { ErrorCode, KmlibError } from "../errors.ts";

export interface ChartSize {
  width?: number;
  height?: number;
}

export interface LineSeries {
  name: string;
  /** [x, y] pairs, drawn in order; non-finite y values break the line. */
  points: ReadonlyArray<readonly [number, number]>;
  /** Dashed stroke, e.g. for a model or a bound drawn beside measurements. */
  dashed?: boolean;
}

export interface LineChartSpec extends ChartSize {
  title: string;
  xLabel: string;
  yLabel: string;
  series: readonly LineSeries[];
  /** Force the y axis to start at zero. */
  yFromZero?: boolean;
}

export interface BarSeries {
  name: string;
  /** One value per group; null leaves a gap. */
  values: ReadonlyArray<number | null>;
}

export interface BarChartSpec extends ChartSize {
  title: string;
  xLabel?: string;
  yLabel: string;
  /** Category names along the x axis; each group holds one bar per series. */
  groups: readonly string[];
  series: readonly BarSeries[];
}

/** Colour-blind-safe palette (Okabe & Ito, then Tol's muted), cycled. */
const PALETTE = ["#0072B2", "#E69F00", "#009E73", "#D55E00", "#CC79A7", "#56B4E9", "#F0E442", "#000000", "#882255", "#44AA99", "#999933", "#AA4499"];

export function color(i: number): string {
  return PALETTE[i % PALETTE.length]!;
}

/** A line chart as an SVG document. */
export function lineChart(spec: LineChartSpec): string {
  const xs = spec.series.flatMap((s) => s.points.map((p) => p[0])).filter(Number.isFinite);
  const ys = spec.series.flatMap((s) => s.points.map((p) => p[1])).filter(Number.isFinite);
  if (xs.length === 0 || ys.length === 0) throw new KmlibError(ErrorCode.InvalidArgument, `chart "${spec.title}" has no finite point`);
  const frame = new Frame(spec, spec.series.map((s) => s.name));
  const xScale = frame.xAxis(niceRange(Math.min(...xs), Math.max(...xs), false), spec.xLabel);
  const yScale = frame.yAxis(niceRange(Math.min(...ys), Math.max(...ys), spec.yFromZero ?? false), spec.yLabel);
  spec.series.forEach((s, i) => {
    let d = "";
    let pen = false;
    for (const [x, y] of s.points) {
      if (!Number.isFinite(x) || !Number.isFinite(y)) {
        pen = false;
        continue;
      }
      d += `${pen ? "L" : "M"}${fmt(xScale(x))},${fmt(yScale(y))}`;
      pen = true;
    }
    const dash = s.dashed ? ' stroke-dasharray="6,4"' : "";
    frame.body.push(`<path d="${d}" fill="none" stroke="${color(i)}" stroke-width="2"${dash}/>`);
    for (const [x, y] of s.points) {
      if (Number.isFinite(x) && Number.isFinite(y)) frame.body.push(`<circle cx="${fmt(xScale(x))}" cy="${fmt(yScale(y))}" r="3" fill="${color(i)}"/>`);
    }
  });
  return frame.render(spec.series.map((s, i) => ({ name: s.name, dashed: s.dashed ?? false, color: color(i), swatch: false })));
}

/** A grouped bar chart as an SVG document. */
export function barChart(spec: BarChartSpec): string {
  for (const s of spec.series) {
    if (s.values.length !== spec.groups.length) {
      throw new KmlibError(ErrorCode.InvalidArgument, `series "${s.name}" has ${s.values.length} values for ${spec.groups.length} groups`);
    }
  }
  const ys = spec.series.flatMap((s) => s.values).filter((v): v is number => v !== null && Number.isFinite(v));
  if (ys.length === 0) throw new KmlibError(ErrorCode.InvalidArgument, `chart "${spec.title}" has no finite value`);
  const frame = new Frame(spec, spec.series.map((s) => s.name));
  const yScale = frame.yAxis(niceRange(Math.min(0, ...ys), Math.max(...ys), true), spec.yLabel);
  const groupW = frame.plotW / spec.groups.length;
  const barW = (groupW * 0.8) / Math.max(1, spec.series.length);
  spec.groups.forEach((g, gi) => {
    const gx = frame.left + gi * groupW;
    frame.body.push(text(gx + groupW / 2, frame.top + frame.plotH + 18, g, "middle", 12));
    spec.series.forEach((s, si) => {
      const v = s.values[gi];
      if (v === null || v === undefined || !Number.isFinite(v)) return;
      const y0 = yScale(0);
      const y1 = yScale(v);
      const x = gx + groupW * 0.1 + si * barW;
      frame.body.push(`<rect x="${fmt(x)}" y="${fmt(Math.min(y0, y1))}" width="${fmt(Math.max(1, barW - 1))}" height="${fmt(Math.abs(y1 - y0))}" fill="${color(si)}"><title>${esc(`${s.name} · ${g}: ${v}`)}</title></rect>`);
    });
  });
  if (spec.xLabel) frame.body.push(text(frame.left + frame.plotW / 2, frame.top + frame.plotH + 40, spec.xLabel, "middle", 13));
  return frame.render(spec.series.map((s, i) => ({ name: s.name, dashed: false, color: color(i), swatch: true })));
}

/** Writes an SVG document produced by `lineChart` or `barChart`. */
export function writeSvg(path: string, svg: string): void {
  writeFileSync(path, svg);
}

/** Axis range and tick step rounded to 1, 2 or 5 × 10^k. */
export function niceRange(min: number, max: number, fromZero: boolean): { min: number; max: number; step: number } {
  if (fromZero) min = Math.min(0, min);
  if (min === max) {
    const pad = min === 0 ? 1 : Math.abs(min) * 0.1;
    min -= pad;
    max += pad;
  }
  const raw = (max - min) / 6;
  const mag = Math.pow(10, Math.floor(Math.log10(raw)));
  const step = [1, 2, 5, 10].map((m) => m * mag).find((s) => s >= raw) ?? 10 * mag;
  return { min: Math.floor(min / step) * step, max: Math.ceil(max / step) * step, step };
}

interface LegendEntry {
  name: string;
  color: string;
  dashed: boolean;
  /** A filled swatch (bars) rather than a line sample. */
  swatch: boolean;
}

/** Canvas, margins and axes shared by both chart kinds. */
class Frame {
  readonly width: number;
  readonly height: number;
  readonly left = 70;
  readonly top = 40;
  readonly legendW: number;
  readonly plotW: number;
  readonly plotH: number;
  readonly body: string[] = [];
  private readonly title: string;

  constructor(spec: ChartSize & { title: string }, names: readonly string[]) {
    this.width = spec.width ?? 900;
    this.height = spec.height ?? 480;
    this.title = spec.title;
    this.legendW = Math.min(260, 40 + 7 * Math.max(0, ...names.map((n) => n.length)));
    this.plotW = this.width - this.left - this.legendW - 20;
    this.plotH = this.height - this.top - 60;
    if (this.plotW < 50 || this.plotH < 50) throw new KmlibError(ErrorCode.InvalidArgument, `chart ${this.width}x${this.height} too small`);
  }

  xAxis(r: { min: number; max: number; step: number }, label: string): (x: number) => number {
    const scale = (x: number): number => this.left + ((x - r.min) / (r.max - r.min)) * this.plotW;
    const yb = this.top + this.plotH;
    for (let v = r.min; v <= r.max + r.step / 2; v += r.step) {
      const x = scale(v);
      this.body.push(`<line x1="${fmt(x)}" y1="${yb}" x2="${fmt(x)}" y2="${yb + 5}" stroke="#333"/>`);
      this.body.push(text(x, yb + 18, tick(v, r.step), "middle", 12));
    }
    this.body.push(text(this.left + this.plotW / 2, yb + 40, label, "middle", 13));
    return scale;
  }

  yAxis(r: { min: number; max: number; step: number }, label: string): (y: number) => number {
    const scale = (y: number): number => this.top + this.plotH - ((y - r.min) / (r.max - r.min)) * this.plotH;
    for (let v = r.min; v <= r.max + r.step / 2; v += r.step) {
      const y = scale(v);
      this.body.push(`<line x1="${this.left}" y1="${fmt(y)}" x2="${this.left + this.plotW}" y2="${fmt(y)}" stroke="#ddd"/>`);
      this.body.push(text(this.left - 8, y + 4, tick(v, r.step), "end", 12));
    }
    const cy = this.top + this.plotH / 2;
    this.body.push(`<text x="18" y="${fmt(cy)}" font-size="13" text-anchor="middle" transform="rotate(-90 18 ${fmt(cy)})">${esc(label)}</text>`);
    return scale;
  }

  render(legend: readonly LegendEntry[]): string {
    const lx = this.left + this.plotW + 20;
    const items = legend.map((e, i) => {
      const y = this.top + 10 + i * 20;
      const mark = `<line x1="${lx}" y1="${y}" x2="${lx + 22}" y2="${y}" stroke="${e.color}" stroke-width="${e.swatch ? 8 : 2.5}"${e.dashed ? ' stroke-dasharray="6,4"' : ""}/>`;
      return mark + text(lx + 30, y + 4, e.name, "start", 12);
    });
    const axes = `<path d="M${this.left},${this.top}V${this.top + this.plotH}H${this.left + this.plotW}" fill="none" stroke="#333"/>`;
    return [
      `<svg xmlns="http://www.w3.org/2000/svg" width="${this.width}" height="${this.height}" viewBox="0 0 ${this.width} ${this.height}" font-family="sans-serif">`,
      `<rect width="100%" height="100%" fill="white"/>`,
      text(this.width / 2, 24, this.title, "middle", 16),
      ...this.body,
      axes,
      ...items,
      "</svg>",
      "",
    ].join("\n");
  }
}

function text(x: number, y: number, s: string, anchor: "start" | "middle" | "end", size: number): string {
  return `<text x="${fmt(x)}" y="${fmt(y)}" font-size="${size}" text-anchor="${anchor}">${esc(s)}</text>`;
}

function tick(v: number, step: number): string {
  const digits = Math.max(0, -Math.floor(Math.log10(step) + 1e-9));
  return (Math.abs(v) < step / 1e6 ? 0 : v).toFixed(Math.min(digits, 6));
}

function fmt(n: number): string {
  return Number.isInteger(n) ? String(n) : n.toFixed(1);
}

function esc(s: string): string {
  return s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;");
}
