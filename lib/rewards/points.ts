/**
 * Points of one vehicle for one week, and its streak state.
 *
 * Streak (state carried from week to week in the distribution file):
 *  - an active week: `streak += 1`, `missed = 0`;
 *  - an inactive week: `missed += 1`; when `missed` reaches `missedWeeksToDrop` (3) the vehicle drops ONE
 *    level: its streak becomes the `minWeeks` of the level below its current level, and `missed` restarts
 *    at 0. A vehicle already in the lowest level restarts at that level's `minWeeks` (0): three missed weeks
 *    at a 3-week streak end the streak. One or two missed weeks neither break nor grow the streak.
 *  - a vehicle absent from the week's activity file (or from the snapshot) had an inactive week.
 *  - `best` is the longest streak the vehicle ever had (used by the referral rule "first reaches").
 *
 * Points (only active vehicles earn, once per week):
 *  - connection = hardware points if a device is paired + each software / OEM connection by its kind
 *    (they stack; two software connections count twice);
 *  - streak = the points of the level of the streak *after* this week's update;
 *  - data types = the sum of the policy's points of each type provided;
 *  - core = connection + streak + data types;
 *  - green (separate pool) = BEV / PHEV points when the week's distance is at least `minKm`; ICE and HEV
 *    never earn green points.
 */
import type { ActivityRow, SnapshotVehicle } from "./activity";
import { streakLevelIndex, type DataType, type Powertrain, type RewardsPolicy } from "./policy";

export interface StreakState {
  streak: number;
  missed: number;
  best: number;
}

export const NEW_STREAK: StreakState = Object.freeze({ streak: 0, missed: 0, best: 0 });

/** The streak state after a week that was active or not. */
export function advanceStreak(prev: StreakState, active: boolean, policy: RewardsPolicy): StreakState {
  if (active) {
    const streak = prev.streak + 1;
    return { streak, missed: 0, best: Math.max(prev.best, streak) };
  }
  const missed = prev.missed + 1;
  if (missed < policy.streak.missedWeeksToDrop) return { streak: prev.streak, missed, best: prev.best };
  const levels = policy.streak.levels;
  const level = streakLevelIndex(prev.streak, levels);
  return { streak: levels[Math.max(level - 1, 0)].minWeeks, missed: 0, best: prev.best };
}

/** Points of the streak level that a streak of `weeks` is in. */
export function streakPoints(weeks: number, policy: RewardsPolicy): number {
  const levels = policy.streak.levels;
  return levels[streakLevelIndex(weeks, levels)].points;
}

export function connectionPoints(
  vehicle: Pick<SnapshotVehicle, "pairedDevice" | "connectionKinds">,
  policy: RewardsPolicy,
): number {
  const c = policy.connectionPoints;
  let sum = vehicle.pairedDevice === null ? 0 : c.hardware;
  for (const kind of vehicle.connectionKinds) sum += kind === "oem" ? c.oem : c.software;
  return sum;
}

export function dataTypePoints(types: readonly DataType[], policy: RewardsPolicy): number {
  let sum = 0;
  for (const t of types) sum += policy.dataTypePoints[t];
  return sum;
}

/** Green points of a week's drive: BEV / PHEV only, and only from `minKm` on. */
export function greenPoints(powertrain: Powertrain, kmMeters: number, policy: RewardsPolicy): number {
  if (kmMeters < policy.green.minKmMeters) return 0;
  if (powertrain === "BEV") return policy.green.bevPoints;
  if (powertrain === "PHEV") return policy.green.phevPoints;
  return 0;
}

export interface VehiclePoints {
  connection: number;
  streak: number;
  dataTypes: number;
  /** connection + streak + dataTypes: the vehicle's weight in the core pool. */
  core: number;
  /** The vehicle's weight in the green pool. */
  green: number;
}

export const NO_POINTS: VehiclePoints = Object.freeze({ connection: 0, streak: 0, dataTypes: 0, core: 0, green: 0 });

/**
 * Points of a vehicle in a week. `streakAfter` is its streak after this week's update. An inactive (or
 * absent) vehicle earns nothing.
 */
export function vehiclePoints(
  vehicle: Pick<SnapshotVehicle, "pairedDevice" | "connectionKinds" | "powertrain">,
  row: Pick<ActivityRow, "active" | "kmMeters" | "dataTypes"> | undefined,
  streakAfter: number,
  policy: RewardsPolicy,
): VehiclePoints {
  if (!row || !row.active) return NO_POINTS;
  const connection = connectionPoints(vehicle, policy);
  const streak = streakPoints(streakAfter, policy);
  const dataTypes = dataTypePoints(row.dataTypes, policy);
  return {
    connection,
    streak,
    dataTypes,
    core: connection + streak + dataTypes,
    green: greenPoints(vehicle.powertrain, row.kmMeters, policy),
  };
}
