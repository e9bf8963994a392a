/**
 * A driver's week by source: what of an account's `weekWei` came from the baseline (connection and data-type
 * points), the streak, the green pool, referrals, slashing compensation and data use. A display rule
 * (docs/rewards-spec.md §8, "Earnings by source"), not part of the root: the leaf commits only to the total.
 *
 * Pure and without I/O or Node modules, so that the claim page (app/) runs the very same split.
 */
import { InputError } from "../errors";
import type { CreditEntry, VehicleEarning } from "./distribution";

export const SOURCES = ["baseline", "streak", "green", "referrals", "compensation", "dataUse"] as const;
export type Source = (typeof SOURCES)[number];
/** Wei per source; the values sum to the entry's `weekWei`. */
export type EarningsBySource = Record<Source, bigint>;

/** What the split reads of one account's week entry (the distribution file's, or the claim page's parse of it). */
export interface SourcesEntry {
  index?: number;
  weekWei: bigint;
  vehicles: readonly Pick<VehicleEarning, "core" | "green" | "points" | "referral">[];
  credits?: readonly CreditEntry[];
}

// The credit reasons the pipeline writes: `slash:<id>` (lib/rewards/compensation.ts) and `data-use:<week>`
// (lib/rewards/data-use.ts `dataUseReason`). Matched here rather than imported, so that this file stays free of
// zod and ethers for the page; test/lib/sources.test.ts checks both modules' reasons are recognised.
const SLASH_REASON = /^slash:(0|[1-9]\d*)$/;
const DATA_USE_REASON = /^data-use:(0|[1-9]\d*)$/;

/** The source a credit reason pays, or undefined for a reason this rule does not know. */
export function creditSource(reason: string): "compensation" | "dataUse" | undefined {
  if (SLASH_REASON.test(reason)) return "compensation";
  if (DATA_USE_REASON.test(reason)) return "dataUse";
  return undefined;
}

/**
 * A vehicle's core amount split into its streak and baseline parts, in proportion to its points:
 * streak = ⌊core × streak / (connection + streak + dataTypes)⌋, baseline = core − streak (the rounding goes to the
 * baseline, so the two always add up to the core amount). No core points (a referral-only entry): all baseline.
 */
export function splitCore(
  core: bigint,
  points: Pick<VehicleEarning["points"], "connection" | "streak" | "dataTypes">,
): { baseline: bigint; streak: bigint } {
  const total = BigInt(points.connection) + BigInt(points.streak) + BigInt(points.dataTypes);
  if (total === 0n) return { baseline: core, streak: 0n };
  const streak = (core * BigInt(points.streak)) / total;
  return { baseline: core - streak, streak };
}

/**
 * The account's week by source. Throws an `InputError` naming the credit for a reason it does not know, and one
 * naming `weekWei` when the sources do not add up to it (a file that breaks §8's sum).
 */
export function earningsBySource(entry: SourcesEntry, source = "distribution"): EarningsBySource {
  const where = entry.index === undefined ? "account" : `accounts[${entry.index}]`;
  const out: EarningsBySource = { baseline: 0n, streak: 0n, green: 0n, referrals: 0n, compensation: 0n, dataUse: 0n };
  for (const v of entry.vehicles) {
    const core = splitCore(v.core, v.points);
    out.baseline += core.baseline;
    out.streak += core.streak;
    out.green += v.green;
    out.referrals += v.referral?.amountWei ?? 0n;
  }
  for (const [i, c] of (entry.credits ?? []).entries()) {
    const kind = creditSource(c.reason);
    if (kind === undefined)
      throw new InputError(
        source,
        `${where}.credits[${i}].reason`,
        `unknown credit reason "${c.reason}" (expected slash:<id> or data-use:<week>)`,
      );
    out[kind] += c.amountWei;
  }
  const sum = SOURCES.reduce((s, k) => s + out[k], 0n);
  if (sum !== entry.weekWei)
    throw new InputError(
      source,
      `${where}.weekWei`,
      `is ${entry.weekWei} wei but its vehicles and credits sum to ${sum} wei`,
    );
  return out;
}
