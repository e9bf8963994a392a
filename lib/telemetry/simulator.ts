/**
 * A virtual vehicle's day of telemetry, deterministic from a seed: trips (location moving along a heading,
 * speed, odometer rising with the distance, fuel or battery falling), idle time (no batches: the device
 * sleeps), EV charging (battery rising, charging_status 1), a DTC now and then. One batch per ≤ 10 minutes
 * of activity. Pure: the simulator script signs and POSTs what this yields.
 */
import type { TelemetryBatch } from "./format";

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
