/**
 * A self-contained SVG chart of an issuance schedule: weekly issuance (filled step line, left axis, DIMO/week)
 * and cumulative issuance (line, right axis, millions of DIMO) over the schedule years. Pure and deterministic:
 * the same schedule and genesis always give the same bytes. No external fonts, images or scripts.
 */
import { type Schedule, isoUtc, scheduleTotal, totalWeeks, yearTable } from "./issuance";
import { formatDimoRounded } from "./units";

export interface ChartOptions {
  width?: number;
  height?: number;
  title?: string;
}

const WEEKLY_COLOR = "#1f6fb4";
const WEEKLY_FILL = "#cfe1f2";
const CUMULATIVE_COLOR = "#d95f02";
const GRID_COLOR = "#9aa5b1";
const AXIS_COLOR = "#555555";
const TEXT_COLOR = "#222222";
const FONT = "DejaVu Sans, Helvetica, Arial, sans-serif";

/** wei -> DIMO as a float, precise enough for plotting (keeps 12 decimals before the float conversion). */
function weiToDimo(wei: bigint): number {
  return Number(wei / 10n ** 6n) / 1e12;
}

export function escapeXml(text: string): string {
  return text.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;");
}

/** A fixed-precision coordinate, so the output never depends on float printing quirks. */
function c(n: number): string {
  const s = n.toFixed(2).replace(/\.?0+$/, "");
  return s === "-0" ? "0" : s;
}

export interface Ticks {
  step: number;
  max: number;
  values: number[];
  decimals: number;
}

/** "Nice" ticks (1, 2, 2.5, 5 x 10^k) from 0 to at least `max`, about `target` of them. */
export function niceTicks(max: number, target = 6): Ticks {
  const top = max > 0 && Number.isFinite(max) ? max : 1;
  const rough = top / target;
  const magnitude = 10 ** Math.floor(Math.log10(rough));
  const step = [1, 2, 2.5, 5, 10].map((m) => m * magnitude).find((s) => s >= rough) ?? 10 * magnitude;
  const count = Math.ceil(top / step - 1e-9);
  const decimals = Math.max(0, -Math.floor(Math.log10(step) + 1e-9) + (step / magnitude === 2.5 ? 1 : 0));
  const values: number[] = [];
  for (let i = 0; i <= count; i++) values.push(Number((i * step).toFixed(Math.min(20, decimals + 2))));
  return { step, max: count * step, values, decimals };
}

function formatTick(value: number, decimals: number): string {
  const [whole, frac] = value.toFixed(decimals).split(".");
  const grouped = whole.replace(/\B(?=(\d{3})+(?!\d))/g, ",");
  return frac === undefined ? grouped : `${grouped}.${frac}`;
}

/** Whole DIMO with separators from 1,000 DIMO up; below that up to 6 decimals (rounded down, zeros trimmed). */
function formatAmount(wei: bigint): string {
  if (wei >= 1000n * 10n ** 18n) return formatDimoRounded(wei);
  return formatDimoRounded(wei, 6).replace(/\.?0+$/, "") || "0";
}

function formatPercent(bps: number): string {
  const frac = bps % 100;
  return `${Math.floor(bps / 100)}${frac === 0 ? "" : `.${String(frac).padStart(2, "0").replace(/0$/, "")}`}%`;
}

/** Renders the schedule as an SVG document (a string starting with `<svg`). */
export function issuanceChartSvg(s: Schedule, genesis: number, opts: ChartOptions = {}): string {
  const width = opts.width ?? 960;
  const height = opts.height ?? 560;
  const margin = { left: 104, right: 96, top: 132, bottom: 64 };
  const plotW = width - margin.left - margin.right;
  const plotH = height - margin.top - margin.bottom;
  const x0 = margin.left;
  const y0 = margin.top + plotH;

  const rows = yearTable(s);
  const weeklyDimo = rows.map((r) => weiToDimo(r.weekly));
  const total = scheduleTotal(s);
  // Right axis in millions of DIMO, unless the whole schedule is under a million.
  const inMillions = total >= 10n ** 24n;
  const rightScale = inMillions ? 1e6 : 1;
  const cumulativeM = [0, ...rows.map((r) => weiToDimo(r.cumulative) / rightScale)];

  // Whole years only on the x axis.
  const xTicks =
    s.years <= 8 ? { values: Array.from({ length: s.years + 1 }, (_, i) => i), decimals: 0 } : niceTicks(s.years, 8);
  const xMax = s.years;
  const leftTicks = niceTicks(Math.max(...weeklyDimo) * 1.04, 7); // headroom above the first year
  const rightTicks = niceTicks(cumulativeM[cumulativeM.length - 1] * 1.04, 7);
  const xOf = (year: number): number => x0 + (year / xMax) * plotW;
  const yLeft = (v: number): number => y0 - (v / leftTicks.max) * plotH;
  const yRight = (v: number): number => y0 - (v / rightTicks.max) * plotH;

  const out: string[] = [];
  const title = opts.title ?? "DIMO issuance schedule";
  const subtitle =
    `${formatAmount(total)} DIMO over ${formatTick(totalWeeks(s), 0)} weeks ` +
    `(${s.years} year${s.years === 1 ? "" : "s"} x ${s.weeksPerYear} week${s.weeksPerYear === 1 ? "" : "s"}), ` +
    `${s.decayBps === 0 ? "constant weekly amount" : `weekly amount -${formatPercent(s.decayBps)} per year`}, ` +
    `week 0 starts ${isoUtc(genesis)}`;

  out.push(
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" ` +
      `font-family="${FONT}" font-size="13" fill="${TEXT_COLOR}">`,
    `<title>${escapeXml(title)}</title>`,
    `<desc>${escapeXml(subtitle)}</desc>`,
    `<rect x="0" y="0" width="${width}" height="${height}" fill="#ffffff"/>`,
    `<text x="${c(width / 2)}" y="34" text-anchor="middle" font-size="21" font-weight="bold">${escapeXml(title)}</text>`,
    `<text x="${c(width / 2)}" y="58" text-anchor="middle" font-size="13" fill="#555555">${escapeXml(subtitle)}</text>`,
  );

  // Weekly issuance: filled step area + outline.
  const step: string[] = [];
  weeklyDimo.forEach((v, y) => {
    step.push(`${c(xOf(y))},${c(yLeft(v))}`, `${c(xOf(y + 1))},${c(yLeft(v))}`);
  });
  out.push(
    `<polygon points="${c(x0)},${c(y0)} ${step.join(" ")} ${c(xOf(xMax))},${c(y0)}" fill="${WEEKLY_FILL}" ` +
      `fill-opacity="0.8" stroke="none"/>`,
  );
  // Grid (on the left axis ticks), over the fill.
  out.push(`<g stroke="${GRID_COLOR}" stroke-width="1" stroke-opacity="0.3">`);
  for (const v of leftTicks.values.slice(1))
    out.push(`<line x1="${c(x0)}" y1="${c(yLeft(v))}" x2="${c(x0 + plotW)}" y2="${c(yLeft(v))}"/>`);
  for (const v of xTicks.values.slice(1)) {
    if (v <= xMax) out.push(`<line x1="${c(xOf(v))}" y1="${c(margin.top)}" x2="${c(xOf(v))}" y2="${c(y0)}"/>`);
  }
  out.push(`</g>`);

  out.push(
    `<polyline points="${c(x0)},${c(y0)} ${step.join(" ")} ${c(xOf(xMax))},${c(y0)}" fill="none" ` +
      `stroke="${WEEKLY_COLOR}" stroke-width="2" stroke-linejoin="miter"/>`,
  );

  // Cumulative issuance.
  const cum = cumulativeM.map((v, y) => `${c(xOf(y))},${c(yRight(v))}`).join(" ");
  out.push(
    `<polyline points="${cum}" fill="none" stroke="${CUMULATIVE_COLOR}" stroke-width="3" stroke-linejoin="round"/>`,
  );

  // Axes lines.
  out.push(
    `<g stroke="${AXIS_COLOR}" stroke-width="1.2">`,
    `<line x1="${c(x0)}" y1="${c(margin.top)}" x2="${c(x0)}" y2="${c(y0)}"/>`,
    `<line x1="${c(x0 + plotW)}" y1="${c(margin.top)}" x2="${c(x0 + plotW)}" y2="${c(y0)}"/>`,
    `<line x1="${c(x0)}" y1="${c(y0)}" x2="${c(x0 + plotW)}" y2="${c(y0)}"/>`,
    `</g>`,
  );

  // Left axis ticks and labels (weekly, DIMO/week).
  out.push(`<g font-size="12" fill="${WEEKLY_COLOR}" text-anchor="end">`);
  for (const v of leftTicks.values) {
    const y = yLeft(v);
    out.push(
      `<line x1="${c(x0 - 5)}" y1="${c(y)}" x2="${c(x0)}" y2="${c(y)}" stroke="${AXIS_COLOR}"/>`,
      `<text x="${c(x0 - 8)}" y="${c(y + 4)}">${formatTick(v, leftTicks.decimals)}</text>`,
    );
  }
  out.push(`</g>`);

  // Right axis ticks and labels (cumulative, million DIMO).
  out.push(`<g font-size="12" fill="${CUMULATIVE_COLOR}" text-anchor="start">`);
  for (const v of rightTicks.values) {
    const y = yRight(v);
    out.push(
      `<line x1="${c(x0 + plotW)}" y1="${c(y)}" x2="${c(x0 + plotW + 5)}" y2="${c(y)}" stroke="${AXIS_COLOR}"/>`,
      `<text x="${c(x0 + plotW + 8)}" y="${c(y + 4)}">${formatTick(v, rightTicks.decimals)}</text>`,
    );
  }
  out.push(`</g>`);

  // X axis ticks and labels (schedule years).
  out.push(`<g font-size="12" fill="${TEXT_COLOR}" text-anchor="middle">`);
  for (const v of xTicks.values) {
    if (v > xMax) continue;
    out.push(
      `<line x1="${c(xOf(v))}" y1="${c(y0)}" x2="${c(xOf(v))}" y2="${c(y0 + 5)}" stroke="${AXIS_COLOR}"/>`,
      `<text x="${c(xOf(v))}" y="${c(y0 + 19)}">${formatTick(v, xTicks.decimals)}</text>`,
    );
  }
  out.push(`</g>`);

  // Axis titles.
  const midY = margin.top + plotH / 2;
  out.push(
    `<text x="${c(x0 + plotW / 2)}" y="${c(height - 16)}" text-anchor="middle" font-size="13">` +
      `Years since genesis (${escapeXml(isoUtc(genesis).slice(0, 10))})</text>`,
    `<text transform="translate(22 ${c(midY)}) rotate(-90)" text-anchor="middle" font-size="13" ` +
      `fill="${WEEKLY_COLOR}">Weekly issuance (DIMO per week)</text>`,
    `<text transform="translate(${c(width - 20)} ${c(midY)}) rotate(90)" text-anchor="middle" font-size="13" ` +
      `fill="${CUMULATIVE_COLOR}">Cumulative issuance (${inMillions ? "million DIMO" : "DIMO"})</text>`,
  );

  // Legend, between the subtitle and the plot: one entry per line.
  const ly = 86;
  const lx = x0 + 8;
  const first = `Weekly issuance, left axis (year 1: ${formatAmount(s.firstWeekly)} DIMO per week)`;
  const last = `Cumulative issuance, right axis (total ${formatAmount(total)} DIMO)`;
  out.push(
    `<g font-size="13">`,
    `<rect x="${c(lx)}" y="${c(ly - 10)}" width="24" height="12" fill="${WEEKLY_FILL}" stroke="${WEEKLY_COLOR}" stroke-width="2"/>`,
    `<text x="${c(lx + 34)}" y="${c(ly + 1)}">${escapeXml(first)}</text>`,
    `<line x1="${c(lx)}" y1="${c(ly + 18)}" x2="${c(lx + 24)}" y2="${c(ly + 18)}" stroke="${CUMULATIVE_COLOR}" stroke-width="3"/>`,
    `<text x="${c(lx + 34)}" y="${c(ly + 23)}">${escapeXml(last)}</text>`,
    `</g>`,
    `</svg>`,
  );
  return `${out.join("\n")}\n`;
}
