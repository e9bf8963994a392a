/**
 * A virtual vehicle's day of telemetry, deterministic from a seed: trips (location moving along a heading,
 * speed, odometer rising with the distance, fuel or battery falling), idle time (no batches: the device
 * sleeps), EV charging (battery rising, charging_status 1), a DTC now and then. One batch per ≤ 10 minutes
 * of activity (`simulateDay`), or one batch per trip over a week (`simulateWeek`, the demo's). Pure: the
 * simulator and the demo sign and POST what these yield.
 */
import type { TelemetryBatch } from "./format";
import type { SignalName } from "./settings";

/** mulberry32: a small seeded PRNG (deterministic runs; the seed is printed by the script). */
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

export interface VirtualVehicle {
  vehicleId: string;
  deviceId: string;
  integration: string;
  electric: boolean;
  /** State carried from batch to batch. */
  lat: number;
  lon: number;
  odometer: number;
  level: number;
  sequence: number;
}

const CHUNK = 600; // seconds per batch

/** The batches of one vehicle over [from, from + seconds): 1-3 trips, charging for EVs, idle otherwise. */
export function simulateDay(v: VirtualVehicle, from: number, seconds: number, rand: () => number): TelemetryBatch[] {
  const out: TelemetryBatch[] = [];
  const trips = 1 + Math.floor(rand() * 3);
  let t = from + Math.floor(rand() * 3600);
  const end = from + seconds;
  for (let k = 0; k < trips && t < end - CHUNK; k++) {
    const duration = CHUNK * (1 + Math.floor(rand() * 4)); // 10-40 minutes
    const kmh = 30 + rand() * 70;
    const heading = rand() * 2 * Math.PI;
    for (let s = 0; s < duration && t + CHUNK <= end; s += CHUNK) {
      const signals: TelemetryBatch["signals"] = [];
      for (let dt = 0; dt <= CHUNK; dt += 60) {
        const ts = t + dt;
        const metres = (kmh * 60) / 3.6;
        if (dt > 0) {
          v.odometer += Math.round(metres);
          v.lat = clamp(v.lat + Math.round(((Math.cos(heading) * metres) / 111_320) * 1e6), -90e6, 90e6);
          v.lon = clamp(v.lon + Math.round(((Math.sin(heading) * metres) / 71_700) * 1e6), -180e6, 180e6);
          v.level = Math.max(0, v.level - (v.electric ? 1 : 1));
        }
        signals.push({ name: "location", timestamp: ts, values: [v.lat, v.lon] });
        signals.push({ name: "speed", timestamp: ts, values: [Math.round(kmh * 100 * (0.8 + rand() * 0.4))] });
        signals.push({ name: "odometer", timestamp: ts, values: [v.odometer] });
      }
      signals.push({ name: "fuel_level", timestamp: t + CHUNK, values: [v.level] });
      signals.push({
        name: "tire_pressure",
        timestamp: t,
        values: [238, 240, 235, 237].map((p) => p + Math.floor(rand() * 4)),
      });
      if (!v.electric) signals.push({ name: "engine_load", timestamp: t, values: [200 + Math.floor(rand() * 500)] });
      if (rand() < 0.03) signals.push({ name: "dtc", timestamp: t, values: [0x0300 + Math.floor(rand() * 9)] });
      out.push(batchOf(v, t, t + CHUNK, signals));
      t += CHUNK;
    }
    t += 1800 + Math.floor(rand() * 7200); // idle between trips: no batches
  }
  if (v.electric && t < end - CHUNK) {
    // Charging: an hour at most, battery +5 ‰ a minute.
    for (let c = 0; c < 6 && t + CHUNK <= end && v.level < 1000; c++) {
      const signals: TelemetryBatch["signals"] = [];
      for (let dt = 0; dt <= CHUNK; dt += 120) {
        v.level = Math.min(1000, v.level + 10);
        signals.push({ name: "fuel_level", timestamp: t + dt, values: [v.level] });
        signals.push({ name: "charging_status", timestamp: t + dt, values: [1] });
      }
      signals.push({ name: "location", timestamp: t, values: [v.lat, v.lon] });
      out.push(batchOf(v, t, t + CHUNK, signals));
      t += CHUNK;
    }
  }
  return out;
}

function batchOf(v: VirtualVehicle, start: number, end: number, signals: TelemetryBatch["signals"]): TelemetryBatch {
  v.sequence++;
  return {
    vehicleId: v.vehicleId,
    deviceId: v.deviceId,
    integration: v.integration,
    sequence: v.sequence,
    startTime: start,
    endTime: end,
    signals,
  };
}

function clamp(x: number, lo: number, hi: number): number {
  return Math.min(hi, Math.max(lo, x));
}

/** What a virtual vehicle does over one week (`simulateWeek`). */
export interface WeekPlan {
  /** Trips in the week, one batch each (0: the vehicle stays parked and its device sleeps: no batch). */
  trips: number;
  /** An EV plugs in after its last trip: one charging batch (battery rising, charging_status 1). */
  charges: boolean;
  /**
   * The signals the device or integration reports (what its hardware or API reads); the others are never sent.
   * Without odometer a vehicle drives but earns no km.
   */
  signals: ReadonlySet<SignalName>;
}

/** Seconds between two readings of a trip. */
const TRIP_READING = 600;

/**
 * One vehicle's batches over the window [from, to): `plan.trips` trips, one per equal slice of the window, each
 * a batch of 20-60 minutes (location, speed and odometer every 10 minutes, the odometer rising with the distance at
 * 30-100 km/h; fuel or battery falling; tire pressure, engine load for a combustion engine, now and then a DTC), and
 * for an EV that `charges` a charging batch of up to 50 minutes after the last trip. Idle time between trips sends
 * nothing. The batches are in time order, do not overlap, lie inside the window and carry increasing sequences
 * from `v.sequence + 1` (the stream goes on from week to week); `v` carries the state on. A window too short for a
 * trip and its charge gets fewer trips. Deterministic in `rand`.
 */
export function simulateWeek(
  v: VirtualVehicle,
  from: number,
  to: number,
  plan: WeekPlan,
  rand: () => number,
): TelemetryBatch[] {
  const out: TelemetryBatch[] = [];
  const has = (s: SignalName) => plan.signals.has(s);
  const chargeSpan = v.electric && plan.charges ? 3000 : 0;
  const trips = Math.min(plan.trips, Math.floor((to - from - chargeSpan) / 3600));
  if (trips <= 0) return out;
  const slot = Math.floor((to - from - chargeSpan) / trips);
  let t = from;
  for (let k = 0; k < trips; k++) {
    const slotStart = from + k * slot;
    const duration = TRIP_READING * (2 + Math.floor(rand() * 5)); // 20-60 minutes
    const start = Math.max(t, slotStart + Math.floor(rand() * (slot - duration)));
    const kmh = 30 + rand() * 70;
    const heading = rand() * 2 * Math.PI;
    const metres = Math.round((kmh * TRIP_READING) / 3.6);
    const signals: TelemetryBatch["signals"] = [];
    for (let dt = 0; dt <= duration; dt += TRIP_READING) {
      if (dt > 0) {
        v.odometer += metres;
        v.lat = clamp(v.lat + Math.round(((Math.cos(heading) * metres) / 111_320) * 1e6), -90e6, 90e6);
        v.lon = clamp(v.lon + Math.round(((Math.sin(heading) * metres) / 71_700) * 1e6), -180e6, 180e6);
        v.level = Math.max(0, v.level - 4);
      }
      const ts = start + dt;
      if (has("location")) signals.push({ name: "location", timestamp: ts, values: [v.lat, v.lon] });
      if (has("speed"))
        signals.push({ name: "speed", timestamp: ts, values: [Math.round(kmh * 100 * (0.8 + rand() * 0.4))] });
      if (has("odometer")) signals.push({ name: "odometer", timestamp: ts, values: [v.odometer] });
    }
    if (has("fuel_level")) signals.push({ name: "fuel_level", timestamp: start + duration, values: [v.level] });
    if (has("tire_pressure"))
      signals.push({
        name: "tire_pressure",
        timestamp: start,
        values: [238, 240, 235, 237].map((p) => p + Math.floor(rand() * 4)),
      });
    if (has("engine_load") && !v.electric)
      signals.push({ name: "engine_load", timestamp: start, values: [200 + Math.floor(rand() * 500)] });
    if (has("dtc") && rand() < 0.2)
      signals.push({ name: "dtc", timestamp: start, values: [0x0300 + Math.floor(rand() * 9)] });
    if (signals.length === 0) signals.push({ name: "location", timestamp: start, values: [v.lat, v.lon] });
    out.push(batchOf(v, start, start + duration, signals));
    t = start + duration;
  }
  if (chargeSpan > 0) {
    // Plugged in when the last trip ends: the battery rises 2 % every 10 minutes.
    const start = t;
    const signals: TelemetryBatch["signals"] = [];
    for (let dt = 0; dt <= chargeSpan; dt += 600) {
      v.level = Math.min(1000, v.level + 20);
      if (has("fuel_level")) signals.push({ name: "fuel_level", timestamp: start + dt, values: [v.level] });
      if (has("charging_status")) signals.push({ name: "charging_status", timestamp: start + dt, values: [1] });
    }
    if (has("location")) signals.push({ name: "location", timestamp: start, values: [v.lat, v.lon] });
    if (signals.length > 0) out.push(batchOf(v, start, start + chargeSpan, signals));
  }
  return out;
}
