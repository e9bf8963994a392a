/**
 * The pure side of the `issuance` task: validates its raw string arguments into schedule parameters and a
 * genesis timestamp, and renders the week CSV and the per-year console table. No Hardhat, no file system.
 *
 * Every bad value throws an {@link InputError} whose message names the command-line argument, e.g.
 * `argument --decay-bps: expected an integer from 0 to 9999, got "10000"`.
 */
import * as path from "path";
import { InputError } from "./errors";
import {
  DEFAULT_SCHEDULE_PARAMS,
  type Schedule,
  type ScheduleParams,
  WEEK_SECONDS,
  isoUtc,
  scheduleFromParams,
  scheduleTotal,
  totalWeeks,
  weekTable,
  yearTable,
} from "./issuance";
import { formatDimo, formatDimoRounded, parseDimo, parsePositiveInt } from "./units";

/** The `source` of every CLI {@link InputError}; the `field` is the argument (`--pool`, ...). */
export const CLI_SOURCE = "argument";
/** Default start of week 0: a Monday 05:00 UTC. */
export const DEFAULT_GENESIS_ISO = "2026-11-30T05:00:00Z";
export const MAX_YEARS = 1000;
export const MAX_WEEKS_PER_YEAR = 53;
export const MAX_DECAY_BPS = 9999;
/** The whole DIMO supply: no schedule can issue more than this. */
export const TOTAL_SUPPLY_WEI = 1_000_000_000n * 10n ** 18n;
export const WEEK_CSV_HEADER = "week,start,end,amount_wei,cumulative_wei";

/** Raw task arguments, as Hardhat hands them over (`undefined` when not given). */
export interface IssuanceCliArgs {
  pool?: string;
  years?: string;
  weeksPerYear?: string;
  decayBps?: string;
  firstWeekly?: string;
  genesis?: string;
  out?: string;
  chart?: string;
}

export interface IssuanceCliOptions {
  params: ScheduleParams;
  schedule: Schedule;
  /** Start of week 0, unix seconds. */
  genesis: number;
  /** CSV output path, as given. */
  out?: string;
  /** SVG output path, as given. */
  chart?: string;
  /** Things that are allowed but unusual (e.g. a genesis that is not a Monday 05:00 UTC). */
  warnings: string[];
}

function fail(arg: string, problem: string): never {
  throw new InputError(CLI_SOURCE, arg, problem);
}

function parseAmount(arg: string, value: string): bigint {
  const wei = parseDimo(value, { source: CLI_SOURCE, field: arg });
  if (wei === 0n) fail(arg, `must be greater than 0, got "${value}"`);
  if (wei > TOTAL_SUPPLY_WEI) {
    fail(arg, `must not exceed the total DIMO supply of ${formatDimoRounded(TOTAL_SUPPLY_WEI)} DIMO, got "${value}"`);
  }
  return wei;
}

function parseDecayBps(value: string): number {
  const text = value.trim();
  if (!/^\d+$/.test(text) || Number(text) > MAX_DECAY_BPS) {
    fail("--decay-bps", `expected an integer from 0 to ${MAX_DECAY_BPS} (basis points per year), got "${value}"`);
  }
  return Number(text);
}

const ISO_RE = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?(Z|([+-])(\d{2}):(\d{2}))$/;

/**
 * Parses an ISO-8601 date-time with an explicit time zone (`Z` or `±hh:mm`) into unix seconds, strictly:
 * no date-only forms, no local time, no impossible dates (2026-02-30), no sub-second part.
 */
export function parseIsoUtcSeconds(value: string, arg = "--genesis"): number {
  const text = value.trim();
  const m = ISO_RE.exec(text);
  if (!m) {
    fail(arg, `expected an ISO-8601 date-time with a time zone, like ${DEFAULT_GENESIS_ISO}, got "${value}"`);
  }
  const [year, month, day, hour, minute] = [m[1], m[2], m[3], m[4], m[5]].map(Number);
  const second = m[6] === undefined ? 0 : Number(m[6]);
  const daysInMonth = month >= 1 && month <= 12 ? new Date(Date.UTC(year, month, 0)).getUTCDate() : 0;
  const offsetMinutes = m[8] === "Z" ? 0 : (m[9] === "-" ? -1 : 1) * (Number(m[10]) * 60 + Number(m[11]));
  if (
    month < 1 ||
    month > 12 ||
    day < 1 ||
    day > daysInMonth ||
    hour > 23 ||
    minute > 59 ||
    second > 59 ||
    (m[8] !== "Z" && (Number(m[10]) > 23 || Number(m[11]) > 59))
  ) {
    fail(arg, `"${value}" is not a valid date and time`);
  }
  if (m[7] !== undefined && /[1-9]/.test(m[7])) fail(arg, `must be a whole second, got "${value}"`);
  // Date.UTC maps years 0..99 to 1900..1999; setUTCFullYear does not.
  const d = new Date(Date.UTC(2000, month - 1, day, hour, minute, second));
  d.setUTCFullYear(year);
  const seconds = d.getTime() / 1000 - offsetMinutes * 60;
  if (seconds < 0) fail(arg, `must not be before 1970-01-01T00:00:00Z, got "${value}"`);
  return seconds;
}

function parseOutPath(arg: string, value: string, extension: string): string {
  if (value.trim() === "" || value.includes("\0")) fail(arg, `expected a file path, got "${value}"`);
  if (path.extname(value).toLowerCase() !== extension) {
    fail(arg, `expected a ${extension} file name, got "${value}"`);
  }
  return value;
}

/** Validates every argument before anything is computed or written; throws on the first bad one. */
export function parseIssuanceArgs(args: IssuanceCliArgs): IssuanceCliOptions {
  const warnings: string[] = [];
  let pool = DEFAULT_SCHEDULE_PARAMS.pool;
  let firstWeekly: bigint | undefined;
  if (args.firstWeekly !== undefined) {
    if (args.pool !== undefined) {
      fail(
        "--first-weekly",
        "cannot be combined with --pool: give either a pool to spread or a fixed first weekly amount",
      );
    }
    firstWeekly = parseAmount("--first-weekly", args.firstWeekly);
    pool = 0n;
  } else if (args.pool !== undefined) {
    pool = parseAmount("--pool", args.pool);
  }
  const years =
    args.years === undefined
      ? DEFAULT_SCHEDULE_PARAMS.years
      : parsePositiveInt(args.years, { source: CLI_SOURCE, field: "--years" }, MAX_YEARS);
  const weeksPerYear =
    args.weeksPerYear === undefined
      ? DEFAULT_SCHEDULE_PARAMS.weeksPerYear
      : parsePositiveInt(args.weeksPerYear, { source: CLI_SOURCE, field: "--weeks-per-year" }, MAX_WEEKS_PER_YEAR);
  const decayBps = args.decayBps === undefined ? DEFAULT_SCHEDULE_PARAMS.decayBps : parseDecayBps(args.decayBps);
  const genesis = parseIsoUtcSeconds(args.genesis ?? DEFAULT_GENESIS_ISO);
  const out = args.out === undefined ? undefined : parseOutPath("--out", args.out, ".csv");
  const chart = args.chart === undefined ? undefined : parseOutPath("--chart", args.chart, ".svg");

  const params: ScheduleParams = {
    pool,
    weeksPerYear,
    years,
    decayBps,
    ...(firstWeekly === undefined ? {} : { firstWeekly }),
  };
  const schedule = scheduleFromParams(params);
  if (firstWeekly !== undefined && scheduleTotal(schedule) > TOTAL_SUPPLY_WEI) {
    fail(
      "--first-weekly",
      `the schedule would issue ${formatDimoRounded(scheduleTotal(schedule))} DIMO in total, more than the total ` +
        `supply of ${formatDimoRounded(TOTAL_SUPPLY_WEI)} DIMO`,
    );
  }
  if (!isMonday0500Utc(genesis)) {
    warnings.push(`--genesis ${isoUtc(genesis)} is not a Monday 05:00 UTC (the usual start of a reward week)`);
  }
  return { params, schedule, genesis, out, chart, warnings };
}

export function isMonday0500Utc(unixSeconds: number): boolean {
  const d = new Date(unixSeconds * 1000);
  return d.getUTCDay() === 1 && d.getUTCHours() === 5 && d.getUTCMinutes() === 0 && d.getUTCSeconds() === 0;
}

/** The week table as CSV: header `week,start,end,amount_wei,cumulative_wei`, one row per week, `\n` line ends. */
export function weekCsv(s: Schedule, genesis: number): string {
  const lines = [WEEK_CSV_HEADER];
  for (const r of weekTable(s, genesis)) {
    lines.push(`${r.week},${isoUtc(r.start)},${isoUtc(r.end)},${r.amount},${r.cumulative}`);
  }
  return `${lines.join("\n")}\n`;
}

function groupDigits(n: number | bigint): string {
  return n.toString().replace(/\B(?=(\d{3})+(?!\d))/g, ",");
}

/** Exact DIMO with thousands separators in the whole part: `1,300,029.959710292160200586`. */
export function formatDimoGrouped(wei: bigint): string {
  const [whole, frac] = formatDimo(wei).split(".");
  return `${whole.replace(/\B(?=(\d{3})+(?!\d))/g, ",")}${frac === undefined ? "" : `.${frac}`}`;
}

/** `1500` -> `"15%"`, `1234` -> `"12.34%"`. */
export function formatBpsPercent(bps: number): string {
  const frac = bps % 100;
  return `${Math.floor(bps / 100)}${frac === 0 ? "" : `.${String(frac).padStart(2, "0").replace(/0$/, "")}`}%`;
}

/** One line per schedule year: start date, weekly amount, yearly total, cumulative (whole DIMO, rounded down). */
export function formatYearTable(s: Schedule, genesis: number): string {
  const header = ["Year", "Starts (UTC)", "Weekly (DIMO)", "Yearly total (DIMO)", "Cumulative (DIMO)"];
  const rows = yearTable(s).map((r) => [
    String(r.year),
    isoUtc(genesis + (r.year - 1) * s.weeksPerYear * WEEK_SECONDS).slice(0, 10),
    formatDimoRounded(r.weekly),
    formatDimoRounded(r.yearly),
    formatDimoRounded(r.cumulative),
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (cells: string[]): string =>
    cells
      .map((c, i) => (i === 1 ? c.padEnd(widths[i]) : c.padStart(widths[i])))
      .join("  ")
      .trimEnd();
  return [line(header), widths.map((w) => "-".repeat(w)).join("  "), ...rows.map(line)].join("\n");
}

/** The key numbers of a schedule, exact. */
export function formatScheduleSummary(opts: Pick<IssuanceCliOptions, "params" | "schedule" | "genesis">): string {
  const { params, schedule: s, genesis } = opts;
  const weeks = totalWeeks(s);
  const total = scheduleTotal(s);
  const keep = 10_000 - s.decayBps;
  const fixed = params.firstWeekly !== undefined;
  const rows: [string, string][] = [
    [
      "source",
      fixed
        ? `fixed first weekly amount of ${formatDimoGrouped(s.firstWeekly)} DIMO (no pool: the total is what the years sum to)`
        : `pool of ${formatDimoGrouped(params.pool)} DIMO (first weekly amount = the largest that does not exceed it)`,
    ],
    ["first weekly", `${formatDimoGrouped(s.firstWeekly)} DIMO (${s.firstWeekly} wei)`],
    [
      "decay",
      `${s.decayBps} bps (${formatBpsPercent(s.decayBps)}) per year: weekly(y) = floor(weekly(y-1) * ${keep} / 10000)`,
    ],
    ["total weeks", `${groupDigits(weeks)} (${s.years} years x ${s.weeksPerYear} weeks)`],
    [
      "genesis",
      `${isoUtc(genesis)} (start of week 0); week ${weeks - 1} ends ${isoUtc(genesis + weeks * WEEK_SECONDS)}`,
    ],
    ["total", `${total} wei (${formatDimoGrouped(total)} DIMO)`],
    [
      "remainder",
      fixed
        ? "0 wei (fixed first weekly amount: nothing to round)"
        : `${s.remainder} wei, added to the last week (week ${weeks - 1})`,
    ],
  ];
  const width = Math.max(...rows.map(([k]) => k.length));
  return rows.map(([k, v]) => `${`${k}:`.padEnd(width + 1)}  ${v}`).join("\n");
}
