/**
 * Weekly activity from signed batches (docs/telemetry.md, "Activity derivation"). Pure: the node
 * summarizes each batch with `summarizeBatch` when it stores it, `rewards:activity` folds the stored
 * summaries with `deriveWeekActivity`, and a verifier re-derives both from the published batches.
 */
import { createKeccak, type IHasher } from "hash-wasm";
import { ACTIVITY_RULES, SIGNAL_NAMES, type SignalName } from "./settings";
import type { TelemetryBatch } from "./format";

/** What the weekly derivation needs of one batch (stored beside the batch, recomputable from it). */
export interface BatchSummary {
  vehicleId: string;
  /** Signer address, lowercase (the stream: one device key or one integration). */
  signer: string;
  startTime: number;
  endTime: number;
  /** Bit i set when SIGNAL_NAMES[i] occurs in the batch. */
  typesMask: number;
  /** First and last odometer reading (time order), metres; null without odometer signals. */
  odoFirst: { t: number; m: number } | null;
  odoLast: { t: number; m: number } | null;
  /** Counted metres between consecutive odometer readings inside the batch. */
  innerMeters: number;
}

/** Whether a step from reading a to reading b counts as driven distance (positive and plausible). */
export function countedStep(a: { t: number; m: number }, b: { t: number; m: number }): number {
  const d = b.m - a.m;
  if (d <= 0) return 0;
  const dt = b.t - a.t;
  // metres over seconds against km/h: d / dt * 3.6 <= max  <=>  d * 3.6 <= max * dt  (integers: d * 36 <= max * 10 * dt)
  if (d * 36 > ACTIVITY_RULES.maxPlausibleSpeedKmh * 10 * dt) return 0;
  return d;
}

/** The summary of one (already validated) batch. */
export function summarizeBatch(batch: TelemetryBatch, signer: string): BatchSummary {
  let typesMask = 0;
  const odo: { t: number; m: number }[] = [];
  for (const s of batch.signals) {
    typesMask |= 1 << SIGNAL_NAMES.indexOf(s.name as SignalName);
    if (s.name === "odometer") odo.push({ t: s.timestamp, m: s.values[0] });
  }
  odo.sort((a, b) => a.t - b.t || a.m - b.m);
  let innerMeters = 0;
  for (let i = 1; i < odo.length; i++) innerMeters += countedStep(odo[i - 1], odo[i]);
  return {
    vehicleId: batch.vehicleId,
    signer: signer.toLowerCase(),
    startTime: batch.startTime,
    endTime: batch.endTime,
    typesMask,
    odoFirst: odo[0] ?? null,
    odoLast: odo.length ? odo[odo.length - 1] : null,
    innerMeters,
  };
}

/** Signal names of a mask, in SIGNAL_NAMES order. */
export function typesOfMask(mask: number): SignalName[] {
  return SIGNAL_NAMES.filter((_, i) => (mask >> i) & 1);
}

/** One vehicle's activity in a week. */
export interface VehicleActivity {
  vehicleId: string;
  active: boolean;
  /** Seconds covered by the union of the counted batches' time ranges. */
  connectedSeconds: number;
  dataTypes: SignalName[];
  /** Driven metres: the largest stream's odometer distance. */
  meters: number;
  batches: number;
}

/**
 * Accumulates the summaries of one week, in any order, and yields every vehicle's activity. A summary is kept as
 * FIELDS numbers in its vehicle's flat array (the stream's signer as an index into the vehicle's signers), not as
 * an object: a week of 100,000 vehicles holds 700,000 summaries (issue 13's memory bound).
 */
export class WeekActivityBuilder {
  private readonly _vehicles = new Map<string, { signers: string[]; rows: number[] }>();

  constructor(
    readonly weekStart: number,
    readonly weekEnd: number,
  ) {}

  /** Whether a batch counts in this week: its start time lies in [weekStart, weekEnd). */
  counts(s: { startTime: number }): boolean {
    return s.startTime >= this.weekStart && s.startTime < this.weekEnd;
  }

  add(s: BatchSummary): void {
    if (!this.counts(s)) return;
    let v = this._vehicles.get(s.vehicleId);
    if (!v) this._vehicles.set(s.vehicleId, (v = { signers: [], rows: [] }));
    let signer = v.signers.indexOf(s.signer);
    if (signer < 0) signer = v.signers.push(s.signer) - 1;
    v.rows.push(
      s.startTime,
      s.endTime,
      s.typesMask,
      signer,
      s.odoFirst?.t ?? NO_READING,
      s.odoFirst?.m ?? 0,
      s.odoLast?.t ?? NO_READING,
      s.odoLast?.m ?? 0,
      s.innerMeters,
    );
  }

  /** Every vehicle with at least one counted batch, in ascending numeric id order. */
  result(): VehicleActivity[] {
    const ids = [...this._vehicles.keys()].sort((a, b) => a.length - b.length || (a < b ? -1 : a > b ? 1 : 0));
    return ids.map((id) => vehicleActivity(id, this._vehicles.get(id)!.rows));
  }
}

// One summary in WeekActivityBuilder's rows: start, end, types mask, signer index, first odometer (t, m), last
// odometer (t, m), inner metres. A batch without odometer readings has t = NO_READING.
const FIELDS = 9;
const [START, END, MASK, SIGNER, FIRST_T, FIRST_M, LAST_T, LAST_M, INNER] = [0, 1, 2, 3, 4, 5, 6, 7, 8];
const NO_READING = -1;

function vehicleActivity(vehicleId: string, rows: readonly number[]): VehicleActivity {
  const n = rows.length / FIELDS;
  const at = (i: number, f: number) => rows[i * FIELDS + f];
  const order = Array.from({ length: n }, (_, i) => i);
  let mask = 0;
  for (let i = 0; i < n; i++) mask |= at(i, MASK);
  // Connection time: union of [startTime, endTime] over every stream.
  const ranges = [...order].sort((a, b) => at(a, START) - at(b, START) || at(a, END) - at(b, END));
  let connected = 0;
  let [curStart, curEnd] = [at(ranges[0], START), at(ranges[0], END)];
  for (let k = 1; k < n; k++) {
    const [a, b] = [at(ranges[k], START), at(ranges[k], END)];
    if (a > curEnd) {
      connected += curEnd - curStart;
      [curStart, curEnd] = [a, b];
    } else if (b > curEnd) curEnd = b;
  }
  connected += curEnd - curStart;
  // Distance: per stream (batches of one signer never overlap in time), the readings in time order; the
  // vehicle's distance is the largest stream's (two sources of one car are not added up).
  const streams = new Map<number, number[]>();
  for (let i = 0; i < n; i++) {
    let l = streams.get(at(i, SIGNER));
    if (!l) streams.set(at(i, SIGNER), (l = []));
    l.push(i);
  }
  let meters = 0;
  for (const l of streams.values()) {
    l.sort((a, b) => at(a, START) - at(b, START) || at(a, END) - at(b, END));
    let m = 0;
    let last: { t: number; m: number } | null = null;
    for (const i of l) {
      m += at(i, INNER);
      if (last && at(i, FIRST_T) !== NO_READING) m += countedStep(last, { t: at(i, FIRST_T), m: at(i, FIRST_M) });
      if (at(i, LAST_T) !== NO_READING) last = { t: at(i, LAST_T), m: at(i, LAST_M) };
    }
    if (m > meters) meters = m;
  }
  return {
    vehicleId,
    active: n > 0,
    connectedSeconds: connected,
    dataTypes: typesOfMask(mask),
    meters,
    batches: n,
  };
}

/**
 * The weekly commitment: leaf = keccak256(digest ‖ signature) of each counted batch (32 + 65 bytes),
 * leaves in ascending byte order, node = keccak256(min(a, b) ‖ max(a, b)), an odd last node carried up;
 * the root of no batch is 32 zero bytes.
 */
export async function batchCommitmentRoot(items: Iterable<{ digest: string; signature: string }>): Promise<string> {
  const h = await keccak();
  const leaves: string[] = [];
  for (const it of items) leaves.push(batchLeafHex(h, it.digest, it.signature));
  return merkleRootOfHexLeaves(h, leaves);
}

/** keccak256(digest ‖ signature), lowercase hex without 0x (so plain string order is byte order). */
export function batchLeafHex(h: IHasher, digest: string, signature: string): string {
  h.init();
  h.update(Buffer.from(digest.slice(2) + signature.slice(2), "hex"));
  return h.digest("hex");
}

/** The root over hex leaves (sorted here, in place), on one flat buffer per layer. */
export function merkleRootOfHexLeaves(h: IHasher, leaves: string[]): string {
  if (leaves.length === 0) return "0x" + "00".repeat(32);
  leaves.sort();
  let n = leaves.length;
  let layer = Buffer.alloc(n * 32);
  for (let i = 0; i < n; i++) layer.write(leaves[i], i * 32, "hex");
  const pair = Buffer.alloc(64);
  while (n > 1) {
    const m = (n + 1) >> 1;
    const next = Buffer.alloc(m * 32);
    for (let i = 0; i + 1 < n; i += 2) {
      const a = layer.subarray(i * 32, i * 32 + 32);
      const b = layer.subarray(i * 32 + 32, i * 32 + 64);
      const [lo, hi] = Buffer.compare(a, b) <= 0 ? [a, b] : [b, a];
      lo.copy(pair, 0);
      hi.copy(pair, 32);
      h.init();
      h.update(pair);
      next.set(h.digest("binary"), (i >> 1) * 32);
    }
    if (n % 2 === 1) layer.copy(next, (m - 1) * 32, (n - 1) * 32, n * 32);
    layer = next;
    n = m;
  }
  return "0x" + layer.subarray(0, 32).toString("hex");
}

let hasher: Promise<IHasher> | undefined;
export function keccak(): Promise<IHasher> {
  hasher ??= createKeccak(256);
  return hasher;
}

/** km with three decimals, as the activity CSV writes it. */
export function metersToKm(meters: number): string {
  const km = Math.floor(meters / 1000);
  const rest = meters % 1000;
  return rest === 0 ? String(km) : `${km}.${String(rest).padStart(3, "0").replace(/0+$/, "")}`;
}
