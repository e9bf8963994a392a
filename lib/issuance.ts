/**
 * The DIMO issuance schedule, bit-for-bit the same rule as `contracts/libraries/IssuanceSchedule.sol`.
 *
 * Rounding rule:
 *  1. `weekly(0) = firstWeekly`, `weekly(y) = floor(weekly(y-1) * (10000 - decayBps) / 10000)`.
 *  2. From a pool: `firstWeekly` is the largest integer with `weeksPerYear * Σ weekly(y) <= pool`; the
 *     remainder `pool - weeksPerYear * Σ weekly(y)` (< weeksPerYear * years wei) is added to the last week,
 *     so the weeks sum to exactly the pool.
 *  3. From a fixed first weekly amount: no remainder; the total is whatever the years sum to.
 * Week `w` covers `[genesis + w * 604800, genesis + (w + 1) * 604800)`.
 */
export const WEEK_SECONDS = 604_800;
export const BPS = 10_000n;
const FACTOR_SCALE = 10n ** 36n;

export interface ScheduleParams {
  /** Pool to spread exactly, in wei (ignored when `firstWeekly` is set). */
  pool: bigint;
  /** Fixed year-0 weekly amount in wei, instead of deriving it from the pool. */
  firstWeekly?: bigint;
  weeksPerYear: number;
  years: number;
  decayBps: number;
}

export interface Schedule {
  firstWeekly: bigint;
  remainder: bigint;
  weeksPerYear: number;
  years: number;
  decayBps: number;
}

export const DEFAULT_SCHEDULE_PARAMS: ScheduleParams = {
  pool: 450_000_000n * 10n ** 18n,
  weeksPerYear: 52,
  years: 40,
  decayBps: 1500,
};

function validate(p: { weeksPerYear: number; years: number; decayBps: number }): void {
  if (!Number.isInteger(p.weeksPerYear) || p.weeksPerYear < 1)
    throw new RangeError(`weeksPerYear must be a positive integer, got ${p.weeksPerYear}`);
  if (!Number.isInteger(p.years) || p.years < 1)
    throw new RangeError(`years must be a positive integer, got ${p.years}`);
  if (!Number.isInteger(p.decayBps) || p.decayBps < 0 || p.decayBps >= 10_000)
    throw new RangeError(`decayBps must be an integer in [0, 10000), got ${p.decayBps}`);
}

/** `weeksPerYear * Σ_y weekly(y)` for a first weekly amount. */
export function sumForFirstWeekly(firstWeekly: bigint, weeksPerYear: number, years: number, decayBps: number): bigint {
  const keep = BPS - BigInt(decayBps);
  let weekly = firstWeekly;
  let sum = 0n;
  for (let y = 0; y < years; y++) {
    sum += weekly;
    weekly = (weekly * keep) / BPS;
  }
  return sum * BigInt(weeksPerYear);
}

/** Largest first weekly amount whose schedule does not exceed `pool` (same search as the contract). */
export function largestFirstWeekly(pool: bigint, weeksPerYear: number, years: number, decayBps: number): bigint {
  const k = BigInt(weeksPerYear);
  const keep = BPS - BigInt(decayBps);
  let factor = FACTOR_SCALE;
  let factorSum = 0n;
  for (let y = 0; y < years; y++) {
    factorSum += factor;
    factor = (factor * keep) / BPS;
  }
  let lo = (pool * FACTOR_SCALE) / (factorSum * k);
  let sumLo = sumForFirstWeekly(lo, weeksPerYear, years, decayBps);
  if (sumLo > pool) {
    const down = (sumLo - pool + k - 1n) / k;
    lo = down >= lo ? 0n : lo - down;
    sumLo = sumForFirstWeekly(lo, weeksPerYear, years, decayBps);
  }
  let hi = lo + (pool - sumLo) / k + 1n;
  while (hi - lo > 1n) {
    const mid = lo + (hi - lo) / 2n;
    if (sumForFirstWeekly(mid, weeksPerYear, years, decayBps) <= pool) lo = mid;
    else hi = mid;
  }
  return lo;
}

/**
 * Same rule as `IssuanceSchedule.fromParams`: a non-zero `firstWeekly` gives a fixed schedule (the pool must
 * then be zero); otherwise the first weekly amount is derived from the pool.
 */
export function scheduleFromParams(p: ScheduleParams): Schedule {
  validate(p);
  if (p.firstWeekly !== undefined && p.firstWeekly !== 0n) {
    if (p.firstWeekly < 0n) throw new RangeError("firstWeekly must not be negative");
    if (p.pool !== 0n) {
      throw new RangeError(
        `give either a pool (${p.pool}) or a fixed first weekly amount (${p.firstWeekly}), not both`,
      );
    }
    return {
      firstWeekly: p.firstWeekly,
      remainder: 0n,
      weeksPerYear: p.weeksPerYear,
      years: p.years,
      decayBps: p.decayBps,
    };
  }
  if (p.pool < 0n) throw new RangeError("pool must not be negative");
  const firstWeekly = largestFirstWeekly(p.pool, p.weeksPerYear, p.years, p.decayBps);
  const remainder = p.pool - sumForFirstWeekly(firstWeekly, p.weeksPerYear, p.years, p.decayBps);
  return { firstWeekly, remainder, weeksPerYear: p.weeksPerYear, years: p.years, decayBps: p.decayBps };
}

export function totalWeeks(s: Schedule): number {
  return s.weeksPerYear * s.years;
}

/** Weekly amount of each year, year 0 first. */
export function yearlyWeeklyAmounts(s: Schedule): bigint[] {
  const keep = BPS - BigInt(s.decayBps);
  const out: bigint[] = [];
  let weekly = s.firstWeekly;
  for (let y = 0; y < s.years; y++) {
    out.push(weekly);
    weekly = (weekly * keep) / BPS;
  }
  return out;
}

export function weeklyOfYear(s: Schedule, year: number): bigint {
  if (year < 0 || year >= s.years) return 0n;
  return yearlyWeeklyAmounts(s)[year];
}

/** Every week's amount (the last includes the remainder). */
export function weeklyAmounts(s: Schedule): bigint[] {
  const out: bigint[] = [];
  for (const weekly of yearlyWeeklyAmounts(s)) {
    for (let i = 0; i < s.weeksPerYear; i++) out.push(weekly);
  }
  out[out.length - 1] += s.remainder;
  return out;
}

/** Sum of weeks `[fromWeek, toWeek)`, clipped to the schedule. */
export function amountOfWeeks(s: Schedule, fromWeek: number, toWeek: number): bigint {
  const last = totalWeeks(s);
  const to = Math.min(toWeek, last);
  if (fromWeek >= to) return 0n;
  let sum = 0n;
  yearlyWeeklyAmounts(s).forEach((weekly, y) => {
    const lo = Math.max(fromWeek, y * s.weeksPerYear);
    const hi = Math.min(to, (y + 1) * s.weeksPerYear);
    if (lo < hi) sum += BigInt(hi - lo) * weekly;
  });
  if (to === last) sum += s.remainder;
  return sum;
}

export function amountOfWeek(s: Schedule, week: number): bigint {
  return amountOfWeeks(s, week, week + 1);
}

export function scheduleTotal(s: Schedule): bigint {
  return amountOfWeeks(s, 0, totalWeeks(s));
}

export interface YearRow {
  year: number;
  weekly: bigint;
  yearly: bigint;
  cumulative: bigint;
}

/** One row per year: weekly amount, yearly total (remainder included in the last year), cumulative. */
export function yearTable(s: Schedule): YearRow[] {
  let cumulative = 0n;
  return yearlyWeeklyAmounts(s).map((weekly, year) => {
    const yearly = weekly * BigInt(s.weeksPerYear) + (year === s.years - 1 ? s.remainder : 0n);
    cumulative += yearly;
    return { year: year + 1, weekly, yearly, cumulative };
  });
}

export interface WeekRow {
  week: number;
  start: number;
  end: number;
  amount: bigint;
  cumulative: bigint;
}

/** One row per week with its bounds (unix seconds) for a genesis timestamp. */
export function weekTable(s: Schedule, genesis: number): WeekRow[] {
  let cumulative = 0n;
  return weeklyAmounts(s).map((amount, week) => {
    cumulative += amount;
    const { start, end } = weekBounds(genesis, week);
    return { week, start, end, amount, cumulative };
  });
}

export function weekBounds(genesis: number, week: number): { start: number; end: number } {
  return { start: genesis + week * WEEK_SECONDS, end: genesis + (week + 1) * WEEK_SECONDS };
}

/** Number of weeks fully ended at `timestamp` (weeks `[0, n)`). */
export function weeksEnded(genesis: number, timestamp: number): number {
  if (timestamp < genesis) return 0;
  return Math.floor((timestamp - genesis) / WEEK_SECONDS);
}

/** The first Monday 05:00 UTC at or after `timestamp` (unix seconds): the default genesis. */
export function nextMonday0500Utc(timestamp: number): number {
  const d = new Date(timestamp * 1000);
  const candidate = Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), d.getUTCDate(), 5, 0, 0) / 1000;
  const day = new Date(candidate * 1000).getUTCDay(); // 0 = Sunday, 1 = Monday
  let t = candidate + ((1 - day + 7) % 7) * 86_400;
  if (t < timestamp) t += 7 * 86_400;
  return t;
}

export function isoUtc(unixSeconds: number): string {
  return new Date(unixSeconds * 1000).toISOString().replace(".000Z", "Z");
}
