/**
 * Slashing compensation: how the DIMO a slash sends to the distributor is split among the drivers whose
 * vehicles the slashed consumer could read.
 *
 * Rule (documented in the README and IConsumerStaking):
 *  - The affected vehicles are those on which the consumer held a grant that counted at `affectedAsOf` (the
 *    start of the freeze, or the time the slash proposal names when there was no freeze): granted, not
 *    revoked, not expired, and from the vehicle's ownership epoch at that time.
 *  - Each affected vehicle gets an equal share, rounded down; the rounding remainder (fewer wei than there are
 *    vehicles) goes to the vehicle with the lowest id, so the whole compensation is paid, to the wei.
 *  - The share is paid to the vehicle's owner at `affectedAsOf` (the person whose data was exposed), through
 *    the next weekly root, as a credit with reason `slash:<id>`.
 *  - With no affected vehicle nothing is credited and the compensation stays in the distributor, unallocated.
 */
import type { Credit } from "./compute";

export interface AffectedVehicle {
  vehicleId: bigint;
  /** Owner at `affectedAsOf`. */
  owner: string;
}

export interface SlashCompensation {
  slashId: bigint;
  compensationWei: bigint;
}

/** The credits of one slash: one per affected vehicle, merged per owner, sorted by owner address. */
export function compensationCredits(slash: SlashCompensation, affected: readonly AffectedVehicle[]): Credit[] {
  if (slash.compensationWei < 0n) throw new RangeError("compensation must not be negative");
  if (affected.length === 0 || slash.compensationWei === 0n) return [];
  const ids = new Set<string>();
  for (const v of affected) {
    const key = v.vehicleId.toString();
    if (ids.has(key)) throw new RangeError(`vehicle ${key} is listed twice`);
    ids.add(key);
  }
  const sorted = [...affected].sort((a, b) => (a.vehicleId < b.vehicleId ? -1 : a.vehicleId > b.vehicleId ? 1 : 0));
  const n = BigInt(sorted.length);
  const share = slash.compensationWei / n;
  const remainder = slash.compensationWei - share * n;
  const byOwner = new Map<string, { account: string; amountWei: bigint }>();
  sorted.forEach((v, i) => {
    const key = v.owner.toLowerCase();
    const entry = byOwner.get(key) ?? { account: v.owner, amountWei: 0n };
    entry.amountWei += share + (i === 0 ? remainder : 0n);
    byOwner.set(key, entry);
  });
  return [...byOwner.entries()]
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .filter(([, e]) => e.amountWei > 0n)
    .map(([, e]) => ({ account: e.account, amountWei: e.amountWei, reason: `slash:${slash.slashId}` }));
}

/** Credits CSV text (`account,amount_wei,reason`), the input `rewards:compute --credits` reads. */
export function creditsCsv(credits: readonly Credit[]): string {
  return (
    ["account,amount_wei,reason", ...credits.map((c) => `${c.account},${c.amountWei},${c.reason}`)].join("\n") + "\n"
  );
}
