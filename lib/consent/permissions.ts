/**
 * Per-read consent: from the chain events of VehicleRegistry, DataAccess and ConsumerStaking (decoded, in chain
 * order), the state a node needs to decide each read, and the decision.
 *
 * A read of signals `names` of vehicle `v` by consumer `c` over `[from, to]` at time `now` is allowed only when
 * (checked in this order, first failure wins):
 *  1. every name is a known data type (`lib/data-types.ts`; `UNKNOWN_SIGNAL`) and `from <= to` (`INVALID_RANGE`);
 *  2. `c` holds a grant record for `v` (`NO_GRANT`; `GRANT_REVOKED`, `GRANT_EXPIRED` or `VEHICLE_TRANSFERRED`
 *     when the record was deleted, after what it was when deleted);
 *  3. the record belongs to the vehicle's current ownership epoch (`VEHICLE_TRANSFERRED`) and `now < expiresAt`
 *     (`GRANT_EXPIRED`), as `IDataAccess.canRead` says;
 *  4. the record's permissions have the bit of every name (`DATA_TYPE_NOT_GRANTED`, naming the missing ones);
 *  5. `c` is not frozen, `now < frozenUntil` (`CONSUMER_FROZEN`) — stricter than the chain, where a freeze
 *     stops withdrawals and new grants but not `canRead`: a consumer under a slash vote reads nothing;
 *  6. `c`'s stake covers the records it holds, `staked >= baseStake + perVehicleStake * records`
 *     (`STAKE_NOT_COVERED`, `IAccessCapacity.isCovered`).
 * The permit then gives, per signal, the window of data that may be returned: from the latest of `from`, the
 * start of the owner's epoch and the time since which the bit has been granted without a break (a record that
 * did not count just before a write — new, stale or expired — restarts it; an update that adds a bit starts that
 * bit at the update), to the earliest of `to`, `now` and `expiresAt - 1` (inclusive, unix seconds). Data recorded
 * before a transfer, before the grant or during a gap is never returned; earlier valid periods of the same
 * consumer are not served either (deliberately conservative).
 *
 * Pure: no I/O. `lib/consent/chain-index.ts` decodes the logs and keeps this state current.
 */
import { getAddress } from "ethers";
import { findDataType } from "../data-types";
import { ConsentError } from "./errors";

/** Where an event sits in the chain, and its block's timestamp (unix seconds). */
export interface EventPosition {
  block: number;
  logIndex: number;
  timestamp: number;
}

/** The events the consent state is built from, decoded (addresses checksummed, ids as bigint). */
export type ConsentEvent = EventPosition &
  (
    | { kind: "VehicleMinted"; vehicleId: bigint; owner: string }
    | { kind: "OwnershipEpochAdvanced"; vehicleId: bigint; epoch: number; from: string; to: string }
    | {
        kind: "AccessGranted";
        vehicleId: bigint;
        consumer: string;
        owner: string;
        permissions: bigint;
        expiresAt: number;
        epoch: number;
      }
    | { kind: "AccessRevoked"; vehicleId: bigint; consumer: string; by: string }
    | { kind: "Staked"; consumer: string; amount: bigint; staked: bigint }
    | { kind: "UnstakeRequested"; consumer: string; amount: bigint }
    | { kind: "Withdrawn"; consumer: string; amount: bigint }
    | { kind: "Slashed"; consumer: string; amount: bigint }
    | { kind: "Frozen"; consumer: string; frozenUntil: number }
    | { kind: "Unfrozen"; consumer: string }
    | { kind: "StakeParametersSet"; baseStake: bigint; perVehicleStake: bigint }
  );

export interface VehicleState {
  owner: string;
  epoch: number;
  /** When the current owner's epoch started (mint or transfer), unix seconds. */
  epochStart: number;
}

export interface GrantRecord {
  owner: string;
  permissions: bigint;
  expiresAt: number;
  epoch: number;
  /** When the record started to count without a break (as `IDataAccess.Grant.grantedAt`). */
  grantedAt: number;
  /** Per permission bit: since when it has been granted without a break. */
  bitSince: ReadonlyMap<number, number>;
}

export interface ConsumerState {
  staked: bigint;
  unbonding: bigint;
  frozenUntil: number;
  /** Grant records held (`IAccessCapacity.vehiclesAccessed`). */
  records: number;
}

export type EndReason = "revoked" | "expired" | "transferred";

export interface ConsentState {
  vehicles: Map<string, VehicleState>;
  /** Keyed by `grantKey(vehicleId, consumer)`. */
  grants: Map<string, GrantRecord>;
  /** The last deleted record of each key, and why it no longer counted. */
  ended: Map<string, { reason: EndReason; at: number; by: string }>;
  consumers: Map<string, ConsumerState>;
  baseStake: bigint;
  perVehicleStake: bigint;
  /** The last event applied (chain order is enforced). */
  last: { block: number; logIndex: number } | undefined;
}

export function emptyConsentState(): ConsentState {
  return {
    vehicles: new Map(),
    grants: new Map(),
    ended: new Map(),
    consumers: new Map(),
    baseStake: 0n,
    perVehicleStake: 0n,
    last: undefined,
  };
}

export function grantKey(vehicleId: bigint, consumer: string): string {
  return `${vehicleId}:${getAddress(consumer)}`;
}

function consumerOf(state: ConsentState, consumer: string): ConsumerState {
  const key = getAddress(consumer);
  let c = state.consumers.get(key);
  if (c === undefined) {
    c = { staked: 0n, unbonding: 0n, frozenUntil: 0, records: 0 };
    state.consumers.set(key, c);
  }
  return c;
}

function bits(mask: bigint): number[] {
  const out: number[] = [];
  for (let b = 0; mask >> BigInt(b) !== 0n; b++) if ((mask >> BigInt(b)) & 1n) out.push(b);
  return out;
}

/** Whether a record counts at `t`, as `canRead` (minus the stake check) sees it. */
function counts(record: GrantRecord | undefined, vehicle: VehicleState | undefined, t: number): boolean {
  return record !== undefined && vehicle !== undefined && record.epoch === vehicle.epoch && t < record.expiresAt;
}

/**
 * Applies one event (the reducer). Events must come in chain order (block, then log index); an event at or
 * before the last one applied throws, so a replayed page cannot double-count.
 */
export function applyEvent(state: ConsentState, e: ConsentEvent): void {
  if (
    state.last &&
    (e.block < state.last.block || (e.block === state.last.block && e.logIndex <= state.last.logIndex))
  ) {
    throw new Error(
      `consent index: event at ${e.block}/${e.logIndex} is not after the last applied ${state.last.block}/${state.last.logIndex}`,
    );
  }
  state.last = { block: e.block, logIndex: e.logIndex };
  const t = e.timestamp;
  switch (e.kind) {
    case "VehicleMinted":
      state.vehicles.set(e.vehicleId.toString(), { owner: getAddress(e.owner), epoch: 0, epochStart: t });
      return;
    case "OwnershipEpochAdvanced":
      state.vehicles.set(e.vehicleId.toString(), { owner: getAddress(e.to), epoch: e.epoch, epochStart: t });
      return;
    case "AccessGranted": {
      const key = grantKey(e.vehicleId, e.consumer);
      const existing = state.grants.get(key);
      const counting = counts(existing, state.vehicles.get(e.vehicleId.toString()), t);
      const bitSince = new Map<number, number>();
      for (const b of bits(e.permissions)) {
        const kept = counting && existing !== undefined ? existing.bitSince.get(b) : undefined;
        bitSince.set(b, kept ?? t);
      }
      if (existing === undefined) consumerOf(state, e.consumer).records += 1;
      state.grants.set(key, {
        owner: getAddress(e.owner),
        permissions: e.permissions,
        expiresAt: e.expiresAt,
        epoch: e.epoch,
        grantedAt: counting && existing !== undefined ? existing.grantedAt : t,
        bitSince,
      });
      state.ended.delete(key);
      return;
    }
    case "AccessRevoked": {
      const key = grantKey(e.vehicleId, e.consumer);
      const existing = state.grants.get(key);
      if (existing === undefined) return;
      const vehicle = state.vehicles.get(e.vehicleId.toString());
      const reason: EndReason =
        vehicle !== undefined && existing.epoch !== vehicle.epoch
          ? "transferred"
          : t >= existing.expiresAt
            ? "expired"
            : "revoked";
      state.grants.delete(key);
      state.ended.set(key, { reason, at: t, by: getAddress(e.by) });
      consumerOf(state, e.consumer).records -= 1;
      return;
    }
    case "Staked":
      consumerOf(state, e.consumer).staked = e.staked;
      return;
    case "UnstakeRequested": {
      const c = consumerOf(state, e.consumer);
      c.staked -= e.amount;
      c.unbonding += e.amount;
      return;
    }
    case "Withdrawn":
      consumerOf(state, e.consumer).unbonding -= e.amount;
      return;
    case "Slashed": {
      // As ConsumerStaking._take: unbonding stake first, then active stake.
      const c = consumerOf(state, e.consumer);
      const fromUnbonding = e.amount < c.unbonding ? e.amount : c.unbonding;
      c.unbonding -= fromUnbonding;
      c.staked -= e.amount - fromUnbonding;
      return;
    }
    case "Frozen":
      consumerOf(state, e.consumer).frozenUntil = e.frozenUntil;
      return;
    case "Unfrozen":
      consumerOf(state, e.consumer).frozenUntil = 0;
      return;
    case "StakeParametersSet":
      state.baseStake = e.baseStake;
      state.perVehicleStake = e.perVehicleStake;
      return;
  }
}

export interface ReadQuery {
  consumer: string;
  vehicleId: bigint;
  /** Signal (data-type) names as asked; aliases accepted. */
  names: readonly string[];
  /** Inclusive bounds of the data asked for, unix seconds (default: everything up to now). */
  from?: number;
  to?: number;
  now: number;
}

export interface SignalWindow {
  /** The name as asked. */
  name: string;
  /** Canonical data-type name and its permission bit. */
  dataType: string;
  bit: number;
  /** Inclusive bounds of the data that may be returned; null when none of the range asked for may be. */
  window: { from: number; to: number } | null;
}

/** What a read may return, and the grant it relies on (for the access log). */
export interface ReadPermit {
  consumer: string;
  vehicleId: bigint;
  grant: { owner: string; epoch: number; permissions: bigint; expiresAt: number; grantedAt: number };
  signals: SignalWindow[];
}

/** Decides a read (see the module notes for the order of checks and the windows). Throws a ConsentError. */
export function checkRead(state: ConsentState, q: ReadQuery): ReadPermit {
  const consumer = getAddress(q.consumer);
  const vehicleLabel = q.vehicleId.toString();
  if (q.names.length === 0) throw new ConsentError("UNKNOWN_SIGNAL", "no signal names given", {}, "names");
  const types = q.names.map((name) => {
    const t = findDataType(name);
    if (t === undefined) {
      throw new ConsentError("UNKNOWN_SIGNAL", `unknown signal "${name}"`, { name }, "names");
    }
    return { name, t };
  });
  if (q.from !== undefined && q.to !== undefined && q.from > q.to) {
    throw new ConsentError("INVALID_RANGE", `from ${q.from} is after to ${q.to}`, { from: q.from, to: q.to }, "from");
  }
  const key = grantKey(q.vehicleId, consumer);
  const record = state.grants.get(key);
  const vehicle = state.vehicles.get(vehicleLabel);
  const ids = { consumer, vehicleId: vehicleLabel };
  if (record === undefined) {
    const ended = state.ended.get(key);
    if (ended?.reason === "revoked") {
      throw new ConsentError(
        "GRANT_REVOKED",
        `${consumer}'s grant for vehicle ${vehicleLabel} was revoked at ${ended.at} by ${ended.by}`,
        {
          ...ids,
          at: ended.at,
          by: ended.by,
        },
      );
    }
    if (ended?.reason === "expired") {
      throw new ConsentError(
        "GRANT_EXPIRED",
        `${consumer}'s grant for vehicle ${vehicleLabel} expired (deleted at ${ended.at})`,
        {
          ...ids,
          at: ended.at,
        },
      );
    }
    if (ended?.reason === "transferred") {
      throw new ConsentError(
        "VEHICLE_TRANSFERRED",
        `vehicle ${vehicleLabel} changed hands after ${consumer}'s grant; the new owner has not granted`,
        { ...ids, at: ended.at },
      );
    }
    throw new ConsentError("NO_GRANT", `${consumer} has no grant for vehicle ${vehicleLabel}`, ids);
  }
  if (vehicle === undefined || record.epoch !== vehicle.epoch) {
    throw new ConsentError(
      "VEHICLE_TRANSFERRED",
      `vehicle ${vehicleLabel} changed hands (epoch ${record.epoch} -> ${vehicle?.epoch ?? "?"}) after ${consumer}'s grant; the new owner has not granted`,
      { ...ids, grantEpoch: record.epoch, epoch: vehicle?.epoch ?? null, at: vehicle?.epochStart ?? null },
    );
  }
  if (q.now >= record.expiresAt) {
    throw new ConsentError(
      "GRANT_EXPIRED",
      `${consumer}'s grant for vehicle ${vehicleLabel} expired at ${record.expiresAt}`,
      {
        ...ids,
        expiresAt: record.expiresAt,
        now: q.now,
      },
    );
  }
  const missing = types.filter(({ t }) => ((record.permissions >> BigInt(t.bit)) & 1n) === 0n).map(({ name }) => name);
  if (missing.length > 0) {
    throw new ConsentError(
      "DATA_TYPE_NOT_GRANTED",
      `${consumer}'s grant for vehicle ${vehicleLabel} does not cover ${missing.join(", ")}`,
      { ...ids, missing },
      "names",
    );
  }
  const c = state.consumers.get(consumer) ?? { staked: 0n, unbonding: 0n, frozenUntil: 0, records: 0 };
  if (q.now < c.frozenUntil) {
    throw new ConsentError("CONSUMER_FROZEN", `${consumer} is frozen until ${c.frozenUntil}`, {
      consumer,
      frozenUntil: c.frozenUntil,
      now: q.now,
    });
  }
  const required = state.baseStake + state.perVehicleStake * BigInt(c.records);
  if (c.staked < required) {
    throw new ConsentError(
      "STAKE_NOT_COVERED",
      `${consumer}'s stake ${c.staked} wei does not cover its ${c.records} grants (${required} wei needed)`,
      { consumer, staked: c.staked.toString(), required: required.toString(), records: c.records },
    );
  }
  const signals = types.map(({ name, t }): SignalWindow => {
    const from = Math.max(q.from ?? 0, vehicle.epochStart, record.bitSince.get(t.bit) ?? record.grantedAt);
    const to = Math.min(q.to ?? q.now, q.now, record.expiresAt - 1);
    return { name, dataType: t.name, bit: t.bit, window: from <= to ? { from, to } : null };
  });
  return {
    consumer,
    vehicleId: q.vehicleId,
    grant: {
      owner: record.owner,
      epoch: record.epoch,
      permissions: record.permissions,
      expiresAt: record.expiresAt,
      grantedAt: record.grantedAt,
    },
    signals,
  };
}
