/**
 * The weekly rewards policy: every number the points and allocation rules use, read from a JSON file
 * (default `config/rewards-policy.json`) and validated with zod; a bad value is an InputError naming the
 * file, the line and the field.
 *
 * Defaults (PRODUCT.md "Numbers that must come out exactly"):
 *  - split: core 5000 bps / green 5000 bps of each week's issuance (must sum to 10000);
 *  - connection points: hardware device 6000, OEM integration 4000, software connection 1000, stacking;
 *  - streak levels: 0–3 weeks → 0, 4–20 → 1000, 21–35 → 2000, 36+ → 3000; 3 missed weeks drop one level;
 *  - data-type points (our choice; the brief leaves the table to the policy): location 500, odometer 500
 *    (the two signals every use case needs), fuel_level 300, dtc 300 (diagnostics), tire_pressure 200,
 *    speed 200, charging_status 200, engine_load 100;
 *  - green: BEV 5000, PHEV 3000 points when the vehicle drove at least 16 km that week;
 *  - referral: 50 DIMO to each side once the referred vehicle first reaches a 4-week streak;
 *  - issuance: the schedule parameters of `lib/issuance.ts` (450M DIMO, 40 years of 52 weeks, 15% decay).
 *
 * Policy hash: `keccak256` of the UTF-8 canonical JSON of the *normalised* policy (`canonicalPolicy`:
 * amounts in wei as decimal strings, minKm in metres, keys sorted, no whitespace, `$comment` left out), so
 * two files that mean the same thing hash the same and any change of meaning changes the hash.
 */
import { keccak256, toUtf8Bytes } from "ethers";
import { z } from "zod";
import { parseJsonFile } from "../json-file";
import { scheduleFromParams, type Schedule, type ScheduleParams } from "../issuance";
import { parseDimo } from "../units";

/** Data types a vehicle can provide in a week (the activity CSV's `data_types` names). */
export const DATA_TYPES = [
  "location",
  "odometer",
  "fuel_level",
  "dtc",
  "tire_pressure",
  "speed",
  "engine_load",
  "charging_status",
] as const;
export type DataType = (typeof DATA_TYPES)[number];

export const POWERTRAINS = ["ICE", "HEV", "PHEV", "BEV"] as const;
export type Powertrain = (typeof POWERTRAINS)[number];

/** Upper bound of any single points value, so that a week's pool points stay exact in a double. */
export const MAX_POINTS = 1_000_000;

export interface StreakLevel {
  minWeeks: number;
  points: number;
}

export interface RewardsPolicy {
  coreBps: number;
  greenBps: number;
  connectionPoints: { hardware: number; oem: number; software: number };
  streak: { levels: StreakLevel[]; missedWeeksToDrop: number };
  dataTypePoints: Record<DataType, number>;
  green: { bevPoints: number; phevPoints: number; minKmMeters: number };
  referral: { rewardPerSideWei: bigint; requiredStreak: number };
  scheduleParams: ScheduleParams;
  schedule: Schedule;
}

const points = z.number().int("must be an integer").min(0).max(MAX_POINTS);
const dimoAmount = z.string().regex(/^\d+(\.\d{1,18})?$/, 'expected a decimal DIMO amount as a string, e.g. "50"');

export const policySchema = z
  .object({
    $comment: z.string().optional(),
    split: z
      .object({ coreBps: z.number().int().min(0).max(10_000), greenBps: z.number().int().min(0).max(10_000) })
      .strict(),
    connectionPoints: z.object({ hardware: points, oem: points, software: points }).strict(),
    streak: z
      .object({
        levels: z.array(z.object({ minWeeks: z.number().int().min(0).max(10_000), points }).strict()).min(1),
        missedWeeksToDrop: z.number().int().min(1).max(1000),
      })
      .strict(),
    dataTypePoints: z
      .object(Object.fromEntries(DATA_TYPES.map((t) => [t, points])) as Record<DataType, typeof points>)
      .strict(),
    green: z
      .object({
        bevPoints: points,
        phevPoints: points,
        minKm: z
          .number()
          .min(0)
          .max(1_000_000)
          .refine((km) => Math.abs(km * 1000 - Math.round(km * 1000)) < 1e-6, { message: "at most 3 decimals" }),
      })
      .strict(),
    referral: z.object({ rewardPerSide: dimoAmount, requiredStreak: z.number().int().min(1).max(10_000) }).strict(),
    issuance: z
      .object({
        pool: dimoAmount.optional(),
        firstWeekly: dimoAmount.optional(),
        weeksPerYear: z.number().int().min(1).max(1000),
        years: z.number().int().min(1).max(1000),
        decayBps: z.number().int().min(0).max(9999),
      })
      .strict(),
  })
  .strict()
  .superRefine((p, ctx) => {
    if (p.split.coreBps + p.split.greenBps !== 10_000) {
      ctx.addIssue({
        code: z.ZodIssueCode.custom,
        path: ["split", "greenBps"],
        message: `coreBps + greenBps must be 10000, got ${p.split.coreBps} + ${p.split.greenBps} = ${p.split.coreBps + p.split.greenBps}`,
      });
    }
    const levels = p.streak.levels;
    if (levels[0].minWeeks !== 0) {
      ctx.addIssue({
        code: z.ZodIssueCode.custom,
        path: ["streak", "levels", 0, "minWeeks"],
        message: `the first level must start at 0 weeks, got ${levels[0].minWeeks}`,
      });
    }
    for (let i = 1; i < levels.length; i++) {
      if (levels[i].minWeeks <= levels[i - 1].minWeeks) {
        ctx.addIssue({
          code: z.ZodIssueCode.custom,
          path: ["streak", "levels", i, "minWeeks"],
          message: `levels must start at strictly increasing weeks, got ${levels[i].minWeeks} after ${levels[i - 1].minWeeks}`,
        });
      }
    }
    if ((p.issuance.pool === undefined) === (p.issuance.firstWeekly === undefined)) {
      ctx.addIssue({
        code: z.ZodIssueCode.custom,
        path: ["issuance"],
        message: 'set exactly one of "pool" and "firstWeekly"',
      });
    }
  });

/** Parses and validates a policy file's text. `source` names the file in errors. */
export function parsePolicy(text: string, source: string): RewardsPolicy {
  const f = parseJsonFile(text, source, policySchema);
  const where = (field: string) => ({ source, field });
  const scheduleParams: ScheduleParams = {
    pool: f.issuance.pool === undefined ? 0n : parseDimo(f.issuance.pool, where("issuance.pool")),
    weeksPerYear: f.issuance.weeksPerYear,
    years: f.issuance.years,
    decayBps: f.issuance.decayBps,
  };
  if (f.issuance.firstWeekly !== undefined)
    scheduleParams.firstWeekly = parseDimo(f.issuance.firstWeekly, where("issuance.firstWeekly"));
  return {
    coreBps: f.split.coreBps,
    greenBps: f.split.greenBps,
    connectionPoints: { ...f.connectionPoints },
    streak: { levels: f.streak.levels.map((l) => ({ ...l })), missedWeeksToDrop: f.streak.missedWeeksToDrop },
    dataTypePoints: { ...f.dataTypePoints },
    green: {
      bevPoints: f.green.bevPoints,
      phevPoints: f.green.phevPoints,
      minKmMeters: Math.round(f.green.minKm * 1000),
    },
    referral: {
      rewardPerSideWei: parseDimo(f.referral.rewardPerSide, where("referral.rewardPerSide")),
      requiredStreak: f.referral.requiredStreak,
    },
    scheduleParams,
    schedule: scheduleFromParams(scheduleParams),
  };
}

/** JSON with object keys sorted at every level and no whitespace (arrays keep their order). */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== "object") {
    if (typeof value === "bigint") return JSON.stringify(value.toString());
    if (typeof value === "number" && !Number.isFinite(value)) throw new Error("canonicalJson: non-finite number");
    return JSON.stringify(value);
  }
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(",")}]`;
  const entries = Object.entries(value as Record<string, unknown>)
    .filter(([, v]) => v !== undefined)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(",")}}`;
}

/** The normalised policy that the policy hash covers (amounts in wei, distances in metres). */
export function canonicalPolicy(p: RewardsPolicy): unknown {
  return {
    version: 1,
    split: { coreBps: p.coreBps, greenBps: p.greenBps },
    connectionPoints: p.connectionPoints,
    streak: p.streak,
    dataTypePoints: p.dataTypePoints,
    green: { bevPoints: p.green.bevPoints, phevPoints: p.green.phevPoints, minKmMeters: p.green.minKmMeters },
    referral: { rewardPerSideWei: p.referral.rewardPerSideWei.toString(), requiredStreak: p.referral.requiredStreak },
    issuance: {
      poolWei: p.scheduleParams.firstWeekly === undefined ? p.scheduleParams.pool.toString() : undefined,
      firstWeeklyWei: p.scheduleParams.firstWeekly?.toString(),
      weeksPerYear: p.scheduleParams.weeksPerYear,
      years: p.scheduleParams.years,
      decayBps: p.scheduleParams.decayBps,
    },
  };
}

/** `keccak256` of the canonical JSON of the normalised policy, `0x`-hex. */
export function policyHash(p: RewardsPolicy): string {
  return keccak256(toUtf8Bytes(canonicalJson(canonicalPolicy(p))));
}

/** Index of the streak level a streak of `weeks` is in (the highest level whose `minWeeks` it reaches). */
export function streakLevelIndex(weeks: number, levels: readonly StreakLevel[]): number {
  let i = 0;
  while (i + 1 < levels.length && weeks >= levels[i + 1].minWeeks) i++;
  return i;
}
