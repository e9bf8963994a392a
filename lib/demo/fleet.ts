/**
 * Pure helpers of the demo (scripts/demo.ts): a seeded PRNG, a synthetic fleet and what each vehicle does each
 * week (the simulator, lib/telemetry/simulator.ts, turns that into signed batches for the node). Nothing here
 * touches the chain; the same seed always gives the same fleet and the same weeks.
 */
import type { SignalName } from "../telemetry/settings";

/** mulberry32: small, fast, deterministic. Returns floats in [0, 1). */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export const POWERTRAIN_NAMES = ["ICE", "HEV", "PHEV", "BEV"] as const;
/** The data types a vehicle may report (the telemetry signal names, lib/telemetry/settings.ts). */
export const DATA_TYPES = [
  "location",
  "odometer",
  "fuel_level",
  "dtc",
  "tire_pressure",
  "speed",
  "engine_load",
  "charging_status",
] as const satisfies readonly SignalName[];

const MODELS: [string, string, number][] = [
  ["Tesla", "Model 3", 3],
  ["Tesla", "Model Y", 3],
  ["Nissan", "Leaf", 3],
  ["Toyota", "Prius", 1],
  ["Toyota", "Corolla", 0],
  ["Ford", "F-150", 0],
  ["Volkswagen", "Golf", 0],
  ["Mitsubishi", "Outlander", 2],
  ["BMW", "330e", 2],
  ["Honda", "Civic", 0],
];

/** How a vehicle behaves over the weeks. */
export type Behaviour = "steady" | "flaky" | "dropper" | "late" | "dormant";

export interface FleetVehicle {
  /** 0-based index in the fleet (the on-chain id is `firstId + index`). */
  index: number;
  /** Index of the owner in the owner list. */
  owner: number;
  make: string;
  model: string;
  year: number;
  powertrain: number;
  behaviour: Behaviour;
  connection: "none" | "hardware" | "software" | "oem";
  dataTypes: string[];
  /** Sold to `buyer` at the start of week `soldInWeek`. */
  soldInWeek?: number;
  buyer?: number;
  /** Owner index of the referrer, given in week 0's activity. */
  referrer?: number;
}

export interface FleetOptions {
  vehicles: number;
  owners: number;
  weeks: number;
  seed: number;
}

function pick<T>(rnd: () => number, xs: readonly T[]): T {
  return xs[Math.floor(rnd() * xs.length)];
}

/** A synthetic fleet: every owner has at least one vehicle; mixed powertrains, connections and behaviours. */
export function makeFleet(o: FleetOptions): FleetVehicle[] {
  if (o.owners < 2 || o.vehicles < o.owners) throw new Error("demo: need vehicles >= owners >= 2");
  const rnd = prng(o.seed);
  const fleet: FleetVehicle[] = [];
  for (let i = 0; i < o.vehicles; i++) {
    const owner = i < o.owners ? i : Math.floor(rnd() * o.owners);
    const [make, model, powertrain] = pick(rnd, MODELS);
    const r = rnd();
    const behaviour: Behaviour =
      r < 0.45 ? "steady" : r < 0.7 ? "flaky" : r < 0.82 ? "dropper" : r < 0.92 ? "late" : "dormant";
    const c = rnd();
    // Only connected vehicles earn (docs/rewards-spec.md §3): most of the fleet is connected, a few are not.
    const connection = c < 0.35 ? "hardware" : c < 0.65 ? "software" : c < 0.85 ? "oem" : "none";
    const dataTypes = DATA_TYPES.filter(() => rnd() < 0.35);
    fleet.push({
      index: i,
      owner,
      make,
      model,
      year: 2012 + Math.floor(rnd() * 13),
      powertrain,
      behaviour,
      connection,
      dataTypes,
    });
  }
  // A few sales mid-way (transferFrom) and a few referrals (steady vehicles, so the referral qualifies).
  const mid = Math.max(1, Math.floor(o.weeks / 2));
  const sales = Math.max(2, Math.floor(o.vehicles / 100));
  for (let k = 0; k < sales; k++) {
    const v = fleet[o.owners + Math.floor(rnd() * (o.vehicles - o.owners))] ?? fleet[o.vehicles - 1 - k];
    if (v.soldInWeek !== undefined) continue;
    v.soldInWeek = mid;
    v.buyer = (v.owner + 1 + Math.floor(rnd() * (o.owners - 1))) % o.owners;
  }
  const referrals = Math.max(2, Math.floor(o.vehicles / 150));
  let made = 0;
  for (const v of fleet) {
    if (made >= referrals) break;
    if (v.index < 20 || v.behaviour !== "steady" || v.soldInWeek !== undefined) continue;
    v.referrer = (v.owner + 7) % o.owners;
    made++;
  }
  return fleet;
}

/** Whether vehicle `v` is active in `week` (deterministic in the seed). */
export function isActive(v: FleetVehicle, week: number, weeks: number, rnd: () => number): boolean {
  const roll = rnd();
  switch (v.behaviour) {
    case "steady":
      return roll < 0.97;
    case "flaky":
      return roll < 0.55;
    case "dropper":
      return week < Math.ceil(weeks / 2) ? roll < 0.95 : roll < 0.1;
    case "late":
      return week >= Math.floor(weeks / 3) && roll < 0.9;
    case "dormant":
      return false;
  }
}

/** What one vehicle of the fleet does in a week: the demo's simulator drives its device or integration by it. */
export interface VehicleWeek {
  /** Driven this week (its device reports); an idle vehicle sends nothing and is inactive. */
  active: boolean;
  /** Trips, one signed batch each (0 when idle). */
  trips: number;
  /** A plug-in vehicle (PHEV, BEV) that charges after its last trip. */
  charges: boolean;
}

/** Every vehicle's week `week`, in fleet order (deterministic in the seed; `isActive` decides who drives). */
export function weekPlans(fleet: FleetVehicle[], week: number, weeks: number, seed: number): VehicleWeek[] {
  const rnd = prng(seed * 7919 + week * 104729 + 1);
  return fleet.map((v) => {
    const active = isActive(v, week, weeks, rnd);
    return {
      active,
      trips: active ? 1 + Math.floor(rnd() * 2) : 0,
      charges: active && isPlugIn(v) && rnd() < 0.8,
    };
  });
}

/** PHEV or BEV: it charges, reports charging_status, and earns in the green pool. */
export function isPlugIn(v: FleetVehicle): boolean {
  return v.powertrain >= 2;
}

/**
 * The signals a vehicle's device or integration reports: location and odometer always (the trip and its km),
 * plus its `dataTypes` a powertrain can have (charging_status for a plug-in only, engine_load not for a BEV).
 */
export function reportedSignals(v: FleetVehicle): SignalName[] {
  const extra = v.dataTypes.filter(
    (t) => (t !== "charging_status" || isPlugIn(v)) && (t !== "engine_load" || v.powertrain !== 3),
  ) as SignalName[];
  return [...new Set<SignalName>(["location", "odometer", ...extra])];
}

/** Parses `--vehicles N --weeks N --seed N` (or `--vehicles=N`) from argv, then env, then defaults. */
export function demoOptions(
  argv: readonly string[],
  env: Record<string, string | undefined>,
): { vehicles: number; weeks: number; seed: number; owners: number } {
  const arg = (name: string): string | undefined => {
    for (let i = 0; i < argv.length; i++) {
      if (argv[i] === `--${name}`) return argv[i + 1];
      if (argv[i].startsWith(`--${name}=`)) return argv[i].slice(name.length + 3);
    }
    return undefined;
  };
  const num = (name: string, envName: string, dflt: number, min: number): number => {
    const raw = arg(name) ?? env[envName];
    if (raw === undefined || raw === "") return dflt;
    const n = Number(raw);
    if (!Number.isInteger(n) || n < min) throw new Error(`demo: --${name} must be an integer >= ${min}, got "${raw}"`);
    return n;
  };
  const vehicles = num("vehicles", "DEMO_VEHICLES", 500, 20);
  const weeks = num("weeks", "DEMO_WEEKS", 8, 3);
  const seed = num("seed", "DEMO_SEED", 1, 0);
  const owners = num("owners", "DEMO_OWNERS", Math.max(10, Math.min(Math.floor(vehicles * 0.4), 800)), 10);
  return { vehicles, weeks, seed, owners: Math.min(owners, vehicles) };
}
