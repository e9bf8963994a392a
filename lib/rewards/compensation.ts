/**
 * Slashing compensation: how the DIMO a slash sends to the distributor is split among the drivers whose
 * vehicles the slashed consumer could read.
 *
 * Rule (documented in the README and IConsumerStaking; `affectedVehicles` below): a vehicle is affected when, at
 * `affectedAsOf` (the start of the freeze, or the time the slash proposal names when there was no freeze), all of
 *  1. the consumer held a grant on it that counted: granted, not revoked, not expired, from the vehicle's ownership
 *     epoch at that time;
 *  2. it could really have been read: a device was paired with it, or a software/OEM connection was attested by an
 *     integration that still held its role;
 *  3. its owner was not the consumer (a consumer cannot compensate itself for its own misuse);
 *  4. the grant had counted since at least `minGrantAge` (DAO-set, `ConsumerStaking.minGrantAge()`) before
 *     `affectedAsOf`: `grantedAt + minGrantAge <= affectedAsOf`, so vehicles granted on the eve of a freeze (a
 *     consumer's second address minting and granting to capture its own slash) get nothing.
 * Rules 2 and 4 are what stop sybil vehicles: minting is open to anyone, but pairing needs a manufacturer's device
 * and a connection needs a DAO-approved integration, and neither can be back-dated.
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

/** What the chain said about one vehicle the consumer was ever granted, read at `affectedAsOf`. */
export interface CandidateVehicle {
  vehicleId: bigint;
  /** Owner at `affectedAsOf`. */
  owner: string;
  /** The consumer's grant record counted at `affectedAsOf` (exists, current ownership epoch, not expired). */
  grantCounted: boolean;
  /** `Grant.grantedAt`: since when the grant had counted without a break. */
  grantedAt: bigint;
  /** A device was paired with the vehicle. */
  paired: boolean;
  /** Connections attested by integrations that still held their role. */
  liveConnections: number;
}

/** Why a candidate vehicle gets no compensation. */
export type ExclusionReason = "grant-not-counting" | "not-readable" | "owned-by-consumer" | "granted-too-late";

export interface AffectedRule {
  consumer: string;
  /** Unix seconds. */
  affectedAsOf: bigint;
  /** Seconds. */
  minGrantAge: bigint;
}

/** Applies the rule above: the affected vehicles, and each excluded one with its (first) reason. */
export function affectedVehicles(
  candidates: readonly CandidateVehicle[],
  rule: AffectedRule,
): { affected: AffectedVehicle[]; excluded: { vehicleId: bigint; reason: ExclusionReason }[] } {
  if (rule.minGrantAge < 0n) throw new RangeError("minGrantAge must not be negative");
  const affected: AffectedVehicle[] = [];
  const excluded: { vehicleId: bigint; reason: ExclusionReason }[] = [];
  const consumer = rule.consumer.toLowerCase();
  for (const v of candidates) {
    let reason: ExclusionReason | undefined;
    if (!v.grantCounted) reason = "grant-not-counting";
    else if (!v.paired && v.liveConnections === 0) reason = "not-readable";
    else if (v.owner.toLowerCase() === consumer) reason = "owned-by-consumer";
    else if (v.grantedAt + rule.minGrantAge > rule.affectedAsOf) reason = "granted-too-late";
    if (reason) excluded.push({ vehicleId: v.vehicleId, reason });
    else affected.push({ vehicleId: v.vehicleId, owner: v.owner });
  }
  return { affected, excluded };
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
