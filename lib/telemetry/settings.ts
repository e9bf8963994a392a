/**
 * Every limit of the telemetry format and the network node, with its unit, in one place. The node reads
 * its operational settings from here (overridable by its options); the value ranges are part of the
 * format (docs/telemetry.md) and are not configurable per node.
 */

/** Signal names, equal to the rewards data-type names (`lib/data-types.ts`, `lib/rewards/policy.ts`). */
export const SIGNAL_NAMES = [
  "location",
  "odometer",
  "speed",
  "fuel_level",
  "dtc",
  "tire_pressure",
  "engine_load",
  "charging_status",
] as const;
export type SignalName = (typeof SIGNAL_NAMES)[number];

/**
 * Values per signal: how many integers, and the range of each (inclusive). Units:
 *  - location: [latitude, longitude] in microdegrees (1e-6 degree);
 *  - odometer: metres;
 *  - speed: 0.01 km/h;
 *  - fuel_level: per mille of the tank, or of the battery's state of charge;
 *  - dtc: 0-32 codes, each the 16-bit OBD-II / SAE J2012 encoding (P0301 = 0x0301, C = 0x4000, B = 0x8000, U = 0xC000);
 *  - tire_pressure: 2-8 wheels, each in kPa;
 *  - engine_load: per mille;
 *  - charging_status: [0 not charging | 1 charging].
 */
export const SIGNAL_VALUE_RULES: Readonly<
  Record<SignalName, { minCount: number; maxCount: number; ranges: readonly (readonly [number, number])[] }>
> = {
  location: {
    minCount: 2,
    maxCount: 2,
    ranges: [
      [-90_000_000, 90_000_000],
      [-180_000_000, 180_000_000],
    ],
  },
  odometer: { minCount: 1, maxCount: 1, ranges: [[0, 10_000_000_000]] }, // up to 10 million km
  speed: { minCount: 1, maxCount: 1, ranges: [[0, 50_000]] }, // up to 500 km/h
  fuel_level: { minCount: 1, maxCount: 1, ranges: [[0, 1000]] },
  dtc: { minCount: 0, maxCount: 32, ranges: [[0, 0xffff]] },
  tire_pressure: { minCount: 2, maxCount: 8, ranges: [[0, 1000]] }, // up to 1,000 kPa
  engine_load: { minCount: 1, maxCount: 1, ranges: [[0, 1000]] },
  charging_status: { minCount: 1, maxCount: 1, ranges: [[0, 1]] },
};

/** Most signals in one batch. */
export const MAX_SIGNALS_PER_BATCH = 512;
/** Longest time range of one batch, seconds (an hour). */
export const MAX_BATCH_SPAN_SECONDS = 3600;
/** Largest request body the node reads, bytes (512 signals of the widest kind fit in ~64 KiB). */
export const MAX_BODY_BYTES = 128 * 1024;
/** Largest sequence number (kept a safe JavaScript integer so JSON carries it exactly). */
export const MAX_SEQUENCE = Number.MAX_SAFE_INTEGER;

/** Node defaults (each overridable by an option of the node). */
export const NODE_DEFAULTS = {
  /** How far a batch's end may lie in the future of the node's clock, seconds. */
  maxFutureSkewSeconds: 300,
  /** How old a batch's start may be, seconds (14 days: a device offline for a week can still upload). */
  maxPastSeconds: 14 * 24 * 3600,
  /** Registry index: how many blocks behind the chain head it may be before ingest is refused. */
  maxStaleBlocks: 12,
  /** Registry index: blocks kept back from the head (reorg safety; 0 on a local chain). */
  confirmations: 0,
  /** Registry index: poll interval, milliseconds. */
  pollIntervalMs: 2000,
  /** Registry index: most blocks read per eth_getLogs call. */
  logPageBlocks: 5000,
  /** HTTP port (127.0.0.1). */
  port: 8645,
  /** Graceful shutdown: longest wait for in-flight requests, milliseconds. */
  shutdownGraceMs: 10_000,
} as const;

/** Activity derivation (see docs/telemetry.md "Activity derivation"). */
export const ACTIVITY_RULES = {
  /** Fastest plausible mean speed between two odometer readings, km/h; faster deltas are not counted. */
  maxPlausibleSpeedKmh: 300,
} as const;

/** EIP-712 domain name of telemetry batches (version "1", the chain id, the VehicleRegistry address). */
export const TELEMETRY_DOMAIN_NAME = "DIMO Telemetry";
