/**
 * Referrals: 50 DIMO to the referrer and 50 DIMO to the driver when a referred vehicle first reaches a
 * 4-week streak, paid from a referral budget the DAO funds (not from issuance).
 *
 * Rules (decisions beyond PRODUCT.md are marked *):
 *  - Recording: the first activity row of a vehicle that carries a `referral_code` records
 *    `vehicle → referrer`, once per vehicle ever; later codes for that vehicle are ignored.
 *  - A code naming the vehicle's end-of-week owner is a self-referral: rejected, listed with its reason in
 *    that week's file, and it uses up the vehicle's one referral*.
 *  - A code for a vehicle whose best streak already reached `requiredStreak` is rejected
 *    ("already-qualified")*: the vehicle can no longer *first* reach it, so it is not a new driver.
 *  - Trigger: in the week the vehicle's streak first reaches `requiredStreak`, a payout of `rewardPerSide`
 *    to each side is due: to the referrer and to the vehicle's owner of that week (the "driver", fixed then*).
 *    If the owner of that week is the referrer (the referrer bought the vehicle), it is rejected as a
 *    self-referral*.
 *  - Payment: `budget` is the total DIMO funded for referrals (an input), `paidTotal` what all files so far
 *    paid. Due payouts form one queue, oldest first (earlier trigger week, then vehicle id); each week pays
 *    from the front of the queue while `2 × amount ≤ budget − paidTotal`, and stops at the first payout it
 *    cannot cover (later ones never jump the queue). Unpaid payouts stay `pending` in the file.
 */
import { InputError } from "../errors";
import { compareVehicleIds } from "./activity";

export type ReferralStatus = "recorded" | "pending" | "paid" | "rejected";
export type RejectReason = "self-referral" | "already-qualified";

/** A vehicle's referral, carried in the distribution file's vehicle state. */
export interface VehicleReferral {
  referrer: string;
  status: ReferralStatus;
  /** Week the code was recorded. */
  week: number;
  reason?: RejectReason;
}

export interface ReferralPayout {
  vehicleId: string;
  referrer: string;
  driver: string;
  amountPerSideWei: bigint;
  /** Week the vehicle reached the required streak. */
  dueWeek: number;
}

export interface RejectedReferral {
  vehicleId: string;
  referrer: string;
  owner: string;
  reason: RejectReason;
}

const same = (a: string, b: string) => a.toLowerCase() === b.toLowerCase();

/**
 * The referral state after a row carrying `referrer` for a vehicle: unchanged when the vehicle already has
 * one, else recorded or rejected.
 */
export function recordReferral(
  existing: VehicleReferral | undefined,
  args: { vehicleId: string; referrer: string; owner: string; bestStreakBefore: number; week: number },
  requiredStreak: number,
): { referral: VehicleReferral; rejected?: RejectedReferral } {
  if (existing) return { referral: existing };
  const reason: RejectReason | undefined = same(args.referrer, args.owner)
    ? "self-referral"
    : args.bestStreakBefore >= requiredStreak
      ? "already-qualified"
      : undefined;
  if (reason) {
    return {
      referral: { referrer: args.referrer, status: "rejected", week: args.week, reason },
      rejected: { vehicleId: args.vehicleId, referrer: args.referrer, owner: args.owner, reason },
    };
  }
  return { referral: { referrer: args.referrer, status: "recorded", week: args.week } };
}

/** Orders payouts oldest first: due week, then vehicle id. */
export function comparePayouts(a: ReferralPayout, b: ReferralPayout): number {
  return a.dueWeek - b.dueWeek || compareVehicleIds(a.vehicleId, b.vehicleId);
}

/**
 * Pays the queue (`pending` from previous weeks, then `due` this week, each oldest first) from the budget.
 * `budgetSource` names the budget input in errors.
 */
export function payReferrals(args: {
  pending: readonly ReferralPayout[];
  due: readonly ReferralPayout[];
  budgetWei: bigint;
  paidTotalBeforeWei: bigint;
  budgetSource: string;
}): { paid: ReferralPayout[]; pending: ReferralPayout[]; paidThisWeekWei: bigint; paidTotalWei: bigint } {
  const { budgetWei, paidTotalBeforeWei } = args;
  if (budgetWei < paidTotalBeforeWei) {
    throw new InputError(
      args.budgetSource,
      "referralBudgetWei",
      `the referral budget ${budgetWei} is below the ${paidTotalBeforeWei} wei already paid`,
    );
  }
  const queue = [...args.pending, ...[...args.due].sort(comparePayouts)];
  let remaining = budgetWei - paidTotalBeforeWei;
  let k = 0;
  for (; k < queue.length; k++) {
    const cost = 2n * queue[k].amountPerSideWei;
    if (cost > remaining) break;
    remaining -= cost;
  }
  const paid = queue.slice(0, k);
  const paidThisWeekWei = paid.reduce((s, p) => s + 2n * p.amountPerSideWei, 0n);
  return { paid, pending: queue.slice(k), paidThisWeekWei, paidTotalWei: paidTotalBeforeWei + paidThisWeekWei };
}
