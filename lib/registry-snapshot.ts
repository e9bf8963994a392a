/**
 * The registry snapshot: every vehicle's owner, static data, paired device and software connections at
 * one block, rebuilt from the VehicleRegistry's and the DeviceRegistry's events, and its CSV file `vehicles.csv`
 * (what the rewards computation reads). Only what could really report counts: a connection whose integration no
 * longer holds the role of its kind at that block, or a paired device whose manufacturer lost `MANUFACTURER_ROLE`,
 * is left out (issue 11 L-5: a role revoked by the DAO stops its connections counting at once, before the
 * Timelock's `removeConnections` clears them on chain).
 *
 *   events (in chain order) --RegistryReplay--> state --formatRegistrySnapshot--> CSV text
 *   CSV text --parseRegistrySnapshot--> rows (validated; errors name file, line and column)
 *
 * CSV format (UTF-8 / ASCII, `\n` line ends, header line first, one row per vehicle sorted by id):
 *
 *   vehicle_id,owner,powertrain,make,model,year,paired_device,connection_kinds
 *   1,0x70997970C51812dc3A010C7d01b50e0d17dc79C8,BEV,Tesla,"Model S, Plaid",2022,3,oem;software
 *
 * - owner: EIP-55 checksummed address;
 * - powertrain: ICE, HEV, PHEV or BEV;
 * - make, model: as registered (printable ASCII without `"` and `\`), quoted only when they contain a comma;
 * - paired_device: the paired device id, empty when none or when its manufacturer is no longer approved;
 * - connection_kinds: one entry per connected integration that still holds the role of its kind, `software` or
 *   `oem`, sorted and `;`-separated (two software integrations give `software;software`), empty when none.
 *
 * Pure: no chain I/O. The same events always give the same bytes.
 */
import { parse } from "csv-parse/sync";
import { stringify } from "csv-stringify/sync";
import { getAddress, isAddress, ZeroAddress } from "ethers";
import { InputError } from "./errors";
import {
  CONNECTION_KINDS,
  type ConnectionKindName,
  isPrintableText,
  MAX_CONNECTIONS,
  MAX_MODEL_YEAR,
  MIN_MODEL_YEAR,
  POWERTRAINS,
  type PowertrainName,
  VEHICLE_TEXT_MAX_BYTES,
} from "./registry-args";

/** The CSV header, in order. */
export const SNAPSHOT_COLUMNS = [
  "vehicle_id",
  "owner",
  "powertrain",
  "make",
  "model",
  "year",
  "paired_device",
  "connection_kinds",
] as const;

/**
 * The VehicleRegistry events the snapshot replays (ERC-721 `Transfer` included; `RoleGranted` / `RoleRevoked` of
 * the integration roles become `IntegrationRoleChanged`).
 */
export const REGISTRY_EVENT_NAMES = [
  "VehicleMinted",
  "Transfer",
  "DevicePaired",
  "DeviceUnpaired",
  "ConnectionAttested",
  "ConnectionRemoved",
  "RoleGranted",
  "RoleRevoked",
] as const;
/** The DeviceRegistry events the snapshot replays (`RoleGranted` / `RoleRevoked` of `MANUFACTURER_ROLE`). */
export const DEVICE_EVENT_NAMES = ["DeviceMinted", "RoleGranted", "RoleRevoked"] as const;

/** Position of a log on chain; events replay in (blockNumber, logIndex) order. */
export interface EventPosition {
  blockNumber: number;
  logIndex: number;
}

/** A decoded VehicleRegistry event, reduced to what the snapshot needs. */
export type RegistryEvent = EventPosition &
  (
    | {
        name: "VehicleMinted";
        vehicleId: bigint;
        owner: string;
        make: string;
        model: string;
        year: number;
        /** `IVehicleRegistry.Powertrain` enum value. */
        powertrain: number;
      }
    | { name: "Transfer"; vehicleId: bigint; from: string; to: string }
    | { name: "DevicePaired"; vehicleId: bigint; deviceId: bigint }
    | { name: "DeviceUnpaired"; vehicleId: bigint; deviceId: bigint }
    | {
        name: "ConnectionAttested";
        vehicleId: bigint;
        integration: string;
        /** `IVehicleRegistry.ConnectionKind` enum value: 1 software, 2 OEM. */
        kind: number;
      }
    | { name: "ConnectionRemoved"; vehicleId: bigint; integration: string }
    | {
        /** The VehicleRegistry granted (`held`) or revoked an integration role. */
        name: "IntegrationRoleChanged";
        integration: string;
        /** The role's connection kind: 1 software, 2 OEM. */
        kind: number;
        held: boolean;
      }
    | { name: "DeviceMinted"; deviceId: bigint; manufacturer: string }
    | {
        /** The DeviceRegistry granted (`held`) or revoked `MANUFACTURER_ROLE`. */
        name: "ManufacturerRoleChanged";
        manufacturer: string;
        held: boolean;
      }
  );
export type RegistryEventName = RegistryEvent["name"];

/** One vehicle of the snapshot (one CSV row). */
export interface VehicleSnapshotRow {
  vehicleId: bigint;
  owner: string;
  powertrain: PowertrainName;
  make: string;
  model: string;
  year: number;
  /** Paired device id, or null. */
  pairedDevice: bigint | null;
  /** One entry per connection, sorted. */
  connectionKinds: ConnectionKindName[];
}

/** The event stream is not one a VehicleRegistry can emit (wrong start block, missing page, wrong contract). */
export class RegistryReplayError extends Error {
  constructor(
    readonly event: RegistryEvent,
    problem: string,
  ) {
    const subject =
      "vehicleId" in event
        ? ` of vehicle ${event.vehicleId}`
        : "deviceId" in event
          ? ` of device ${event.deviceId}`
          : ` of ${"integration" in event ? event.integration : event.manufacturer}`;
    super(`block ${event.blockNumber} log ${event.logIndex} ${event.name}${subject}: ${problem}`);
    this.name = "RegistryReplayError";
  }
}

interface VehicleState {
  owner: string;
  powertrain: PowertrainName;
  make: string;
  model: string;
  year: number;
  pairedDevice: bigint | null;
  /** integration (lower-case address) → kind */
  connections: Map<string, ConnectionKindName>;
}

function comparePositions(a: EventPosition, b: EventPosition): number {
  return a.blockNumber - b.blockNumber || a.logIndex - b.logIndex;
}

function compareIds(a: bigint, b: bigint): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/**
 * Registry state rebuilt event by event. Events must come in chain order (page after page is fine); every
 * event is checked against the state so that a stream with gaps (e.g. starting after the deployment block)
 * fails loudly instead of producing a wrong snapshot.
 */
export class RegistryReplay {
  private readonly vehicles = new Map<bigint, VehicleState>();
  /** kind → integrations (lower-case) holding that role now. */
  private readonly integrationRoles = new Map<ConnectionKindName, Set<string>>([
    ["software", new Set()],
    ["oem", new Set()],
  ]);
  /** Manufacturers (lower-case) holding MANUFACTURER_ROLE now. */
  private readonly manufacturers = new Set<string>();
  /** device id → its manufacturer (lower-case). */
  private readonly deviceManufacturer = new Map<bigint, string>();
  private last: EventPosition | undefined;

  /** Number of vehicles so far. */
  get size(): number {
    return this.vehicles.size;
  }

  /** Applies events already in chain order, or sorts a copy first with `{ sort: true }`. */
  applyAll(events: readonly RegistryEvent[], opts: { sort?: boolean } = {}): this {
    const list = opts.sort ? [...events].sort(comparePositions) : events;
    for (const e of list) this.apply(e);
    return this;
  }

  apply(e: RegistryEvent): void {
    if (this.last && comparePositions(this.last, e) >= 0) {
      throw new RegistryReplayError(
        e,
        `out of order: comes after block ${this.last.blockNumber} log ${this.last.logIndex}`,
      );
    }
    this.last = { blockNumber: e.blockNumber, logIndex: e.logIndex };
    switch (e.name) {
      case "VehicleMinted": {
        if (this.vehicles.has(e.vehicleId)) throw new RegistryReplayError(e, "vehicle already minted");
        const powertrain = POWERTRAINS[e.powertrain];
        if (powertrain === undefined) throw new RegistryReplayError(e, `unknown powertrain ${e.powertrain}`);
        this.vehicles.set(e.vehicleId, {
          owner: getAddress(e.owner),
          powertrain,
          make: e.make,
          model: e.model,
          year: e.year,
          pairedDevice: null,
          connections: new Map(),
        });
        return;
      }
      case "Transfer": {
        // A mint's Transfer(0 → owner) precedes its VehicleMinted, which carries the same owner.
        if (e.from === ZeroAddress) return;
        const v = this.vehicle(e);
        if (v.owner.toLowerCase() !== e.from.toLowerCase()) {
          throw new RegistryReplayError(e, `transfer from ${e.from} but the owner is ${v.owner}`);
        }
        if (e.to === ZeroAddress) {
          this.vehicles.delete(e.vehicleId); // burn (the registry has none today)
          return;
        }
        // The registry itself emits DeviceUnpaired / ConnectionRemoved (byTransfer) right after a transfer.
        v.owner = getAddress(e.to);
        return;
      }
      case "DevicePaired": {
        const v = this.vehicle(e);
        if (!this.deviceManufacturer.has(e.deviceId)) {
          throw new RegistryReplayError(
            e,
            `device ${e.deviceId} was never minted (are the DeviceRegistry's events missing?)`,
          );
        }
        if (v.pairedDevice !== null) throw new RegistryReplayError(e, `already paired with device ${v.pairedDevice}`);
        v.pairedDevice = e.deviceId;
        return;
      }
      case "DeviceUnpaired": {
        const v = this.vehicle(e);
        if (v.pairedDevice !== e.deviceId) {
          throw new RegistryReplayError(e, `device ${e.deviceId} is not paired (paired: ${v.pairedDevice ?? "none"})`);
        }
        v.pairedDevice = null;
        return;
      }
      case "ConnectionAttested": {
        const v = this.vehicle(e);
        const kind = CONNECTION_KINDS[e.kind as keyof typeof CONNECTION_KINDS];
        if (kind === undefined) throw new RegistryReplayError(e, `unknown connection kind ${e.kind}`);
        const key = e.integration.toLowerCase();
        if (v.connections.has(key)) throw new RegistryReplayError(e, `${e.integration} is already connected`);
        if (!this.integrationRoles.get(kind)!.has(key)) {
          throw new RegistryReplayError(
            e,
            `${e.integration} does not hold the ${kind} integration role (are role events missing?)`,
          );
        }
        v.connections.set(key, kind);
        return;
      }
      case "ConnectionRemoved": {
        const v = this.vehicle(e);
        if (!v.connections.delete(e.integration.toLowerCase())) {
          throw new RegistryReplayError(e, `${e.integration} is not connected`);
        }
        return;
      }
      case "IntegrationRoleChanged": {
        const kind = CONNECTION_KINDS[e.kind as keyof typeof CONNECTION_KINDS];
        if (kind === undefined) throw new RegistryReplayError(e, `unknown connection kind ${e.kind}`);
        const holders = this.integrationRoles.get(kind)!;
        if (e.held) holders.add(e.integration.toLowerCase());
        else holders.delete(e.integration.toLowerCase());
        return;
      }
      case "DeviceMinted": {
        if (this.deviceManufacturer.has(e.deviceId)) throw new RegistryReplayError(e, "device already minted");
        this.deviceManufacturer.set(e.deviceId, e.manufacturer.toLowerCase());
        return;
      }
      case "ManufacturerRoleChanged": {
        if (e.held) this.manufacturers.add(e.manufacturer.toLowerCase());
        else this.manufacturers.delete(e.manufacturer.toLowerCase());
        return;
      }
    }
  }

  /**
   * The snapshot rows, sorted by vehicle id: connections of integrations that no longer hold the role of their
   * kind, and a device whose manufacturer is no longer approved, are left out (they do not count).
   */
  rows(): VehicleSnapshotRow[] {
    return [...this.vehicles.entries()]
      .sort(([a], [b]) => compareIds(a, b))
      .map(([vehicleId, v]) => ({
        vehicleId,
        owner: v.owner,
        powertrain: v.powertrain,
        make: v.make,
        model: v.model,
        year: v.year,
        pairedDevice: v.pairedDevice !== null && this.deviceCounts(v.pairedDevice) ? v.pairedDevice : null,
        connectionKinds: [...v.connections.entries()]
          .filter(([integration, kind]) => this.integrationRoles.get(kind)!.has(integration))
          .map(([, kind]) => kind)
          .sort(),
      }));
  }

  /** Whether a (minted) device's manufacturer still holds MANUFACTURER_ROLE. */
  private deviceCounts(deviceId: bigint): boolean {
    return this.manufacturers.has(this.deviceManufacturer.get(deviceId)!);
  }

  private vehicle(e: RegistryEvent & { vehicleId: bigint }): VehicleState {
    const v = this.vehicles.get(e.vehicleId);
    if (!v) throw new RegistryReplayError(e, "no such vehicle (was it minted before the first block read?)");
    return v;
  }
}

/** Replays events (sorted into chain order first) and returns the snapshot rows. */
export function replayRegistryEvents(events: readonly RegistryEvent[]): VehicleSnapshotRow[] {
  return new RegistryReplay().applyAll(events, { sort: true }).rows();
}

/** The CSV text of a snapshot: header, then one row per vehicle sorted by id. */
export function formatRegistrySnapshot(rows: readonly VehicleSnapshotRow[]): string {
  const records = [...rows]
    .sort((a, b) => compareIds(a.vehicleId, b.vehicleId))
    .map((r) => [
      r.vehicleId.toString(),
      r.owner,
      r.powertrain,
      r.make,
      r.model,
      String(r.year),
      r.pairedDevice === null ? "" : r.pairedDevice.toString(),
      [...r.connectionKinds].sort().join(";"),
    ]);
  return stringify([[...SNAPSHOT_COLUMNS], ...records], { record_delimiter: "unix" });
}

const POSITIVE_INT = /^[1-9]\d{0,76}$/;
const KIND_NAMES: readonly string[] = Object.values(CONNECTION_KINDS);

/**
 * Parses and validates a vehicles.csv. Any problem throws an InputError naming `source`, the line and the
 * column: wrong header, wrong number of fields, a bad id, address, powertrain, label, year, device id or
 * connection list, rows out of vehicle_id order or repeated, or one device paired with two vehicles.
 */
export function parseRegistrySnapshot(text: string, source: string): VehicleSnapshotRow[] {
  let records: { record: string[]; info: { lines: number } }[];
  try {
    records = parse(text, {
      bom: true,
      info: true,
      relax_column_count: true,
      skip_empty_lines: false,
    }) as unknown as typeof records;
  } catch (e) {
    const err = e as Error & { lines?: number };
    throw new InputError(source, "(csv)", err.message, err.lines);
  }
  if (records.length === 0) throw new InputError(source, "(header)", `empty file; expected "${SNAPSHOT_COLUMNS}"`, 1);
  const [head, ...body] = records;
  if (head.record.join(",") !== SNAPSHOT_COLUMNS.join(",")) {
    throw new InputError(
      source,
      "(header)",
      `expected "${SNAPSHOT_COLUMNS.join(",")}", got "${head.record.join(",")}"`,
      head.info.lines,
    );
  }
  const rows: VehicleSnapshotRow[] = [];
  const deviceOwners = new Map<bigint, bigint>();
  for (const { record, info } of body) {
    const line = info.lines;
    const fail = (field: string, problem: string): never => {
      throw new InputError(source, field, problem, line);
    };
    if (record.length !== SNAPSHOT_COLUMNS.length) {
      fail("(row)", `expected ${SNAPSHOT_COLUMNS.length} fields, got ${record.length}`);
    }
    const [id, owner, powertrain, make, model, year, device, kinds] = record;

    if (!POSITIVE_INT.test(id)) fail("vehicle_id", `expected a positive integer, got "${id}"`);
    const vehicleId = BigInt(id);
    const prev = rows.at(-1);
    if (prev && vehicleId <= prev.vehicleId) {
      fail(
        "vehicle_id",
        vehicleId === prev.vehicleId
          ? `vehicle ${vehicleId} appears twice`
          : `${vehicleId} comes after ${prev.vehicleId}; rows must be sorted by vehicle_id`,
      );
    }
    if (!/^0x[0-9a-fA-F]{40}$/.test(owner) || !isAddress(owner)) {
      fail("owner", `expected a 0x address with a valid checksum, got "${owner}"`);
    }
    if (getAddress(owner) === ZeroAddress) fail("owner", "the zero address owns nothing");
    if (!(POWERTRAINS as readonly string[]).includes(powertrain)) {
      fail("powertrain", `expected one of ${POWERTRAINS.join(", ")}, got "${powertrain}"`);
    }
    for (const [field, value] of [
      ["make", make],
      ["model", model],
    ] as const) {
      if (!isPrintableText(value, VEHICLE_TEXT_MAX_BYTES)) {
        fail(
          field,
          `expected 1-${VEHICLE_TEXT_MAX_BYTES} characters of printable ASCII without " and \\, got "${value}"`,
        );
      }
    }
    if (!/^\d{4}$/.test(year) || Number(year) < MIN_MODEL_YEAR || Number(year) > MAX_MODEL_YEAR) {
      fail("year", `expected a model year from ${MIN_MODEL_YEAR} to ${MAX_MODEL_YEAR}, got "${year}"`);
    }
    let pairedDevice: bigint | null = null;
    if (device !== "") {
      if (!POSITIVE_INT.test(device)) fail("paired_device", `expected a device id or nothing, got "${device}"`);
      pairedDevice = BigInt(device);
      const other = deviceOwners.get(pairedDevice);
      if (other !== undefined) fail("paired_device", `device ${pairedDevice} is also paired with vehicle ${other}`);
      deviceOwners.set(pairedDevice, vehicleId);
    }
    const connectionKinds = kinds === "" ? [] : kinds.split(";");
    for (const k of connectionKinds) {
      if (!KIND_NAMES.includes(k)) {
        fail(
          "connection_kinds",
          `unknown kind "${k}" in "${kinds}"; expected ${KIND_NAMES.join(" or ")}, ";"-separated`,
        );
      }
    }
    if (connectionKinds.join(";") !== [...connectionKinds].sort().join(";")) {
      fail("connection_kinds", `"${kinds}" must be sorted (e.g. "oem;software")`);
    }
    if (connectionKinds.length > MAX_CONNECTIONS) {
      fail("connection_kinds", `${connectionKinds.length} connections; a vehicle holds at most ${MAX_CONNECTIONS}`);
    }
    rows.push({
      vehicleId,
      owner: getAddress(owner),
      powertrain: powertrain as PowertrainName,
      make,
      model,
      year: Number(year),
      pairedDevice,
      connectionKinds: connectionKinds as ConnectionKindName[],
    });
  }
  return rows;
}
