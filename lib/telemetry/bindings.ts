/**
 * Who may sign a vehicle's telemetry when, from the registries' events (docs/telemetry.md, "Refusals" and
 * "Staleness bound"): the key each device is bound to (`DeviceMinted`), when each device was paired with which
 * vehicle (`DevicePaired` / `DeviceUnpaired`) and when each integration was connected to which vehicle
 * (`ConnectionAttested` / `ConnectionRemoved`, and a revoked integration role ends its connections at once), all in
 * block timestamps. The node's registry index keeps one `RegistryBindings` current while it polls the chain and
 * checks every batch it ingests with `checkBatchSigner`; `rewards:verify` replays the same events up to a week's
 * snapshot block into another one and re-checks every published batch with the same function.
 *
 * Pure: no chain I/O (`bindingEventOf` decodes a log the caller fetched).
 */
import { Interface, keccak256, toUtf8Bytes } from "ethers";
import { integrationOf, recoverSigner, type TelemetryBatch } from "./format";

/** One registry event as the bindings use it (and the node's store keeps it). */
export interface BindingEvent {
  blockNumber: number;
  logIndex: number;
  /** The block's timestamp, unix seconds. */
  blockTime: number;
  kind:
    | "DeviceMinted"
    | "DevicePaired"
    | "DeviceUnpaired"
    | "ConnectionAttested"
    | "ConnectionRemoved"
    | "IntegrationRoleRevoked";
  /** Decimal vehicle id, "0" when the event has none. */
  vehicleId: string;
  /** Decimal device id, "0" when the event has none. */
  deviceId: string;
  /** Device key (DeviceMinted) or integration (connections, role revocations), lowercase; "" otherwise. */
  address: string;
}

/** The VehicleRegistry events (and the call) the bindings read. */
export const BINDING_VEHICLE_EVENTS = new Interface([
  "event DevicePaired(uint256 indexed vehicleId, uint256 indexed deviceId, address indexed owner)",
  "event DeviceUnpaired(uint256 indexed vehicleId, uint256 indexed deviceId, bool byTransfer)",
  "event ConnectionAttested(uint256 indexed vehicleId, address indexed integration, uint8 kind, address owner)",
  "event ConnectionRemoved(uint256 indexed vehicleId, address indexed integration, bool byTransfer)",
  "event RoleRevoked(bytes32 indexed role, address indexed account, address indexed sender)",
  "function deviceRegistry() view returns (address)",
]);
/** The DeviceRegistry event the bindings read. */
export const BINDING_DEVICE_EVENTS = new Interface([
  "event DeviceMinted(uint256 indexed deviceId, address indexed manufacturer, address indexed deviceKey, address owner, string serial, string hardwareRevision)",
]);
/** VehicleRegistry's integration roles: revoking either ends the integration's attested connections at that block's
 *  time (the chain keeps them until `removeConnections`; the bindings do not wait). */
const INTEGRATION_ROLES = new Set([
  keccak256(toUtf8Bytes("SOFTWARE_INTEGRATION_ROLE")),
  keccak256(toUtf8Bytes("OEM_INTEGRATION_ROLE")),
]);

/** The fields of an ethers `Log` that decoding needs. */
export interface RawLog {
  topics: readonly string[];
  data: string;
  blockNumber: number;
  index: number;
}

/**
 * A log of the VehicleRegistry (`fromVehicleRegistry`) or of the DeviceRegistry decoded into a binding event, or
 * null when the bindings ignore it (another event, or a role other than the integration roles).
 */
export function bindingEventOf(log: RawLog, fromVehicleRegistry: boolean, blockTime: number): BindingEvent | null {
  const iface = fromVehicleRegistry ? BINDING_VEHICLE_EVENTS : BINDING_DEVICE_EVENTS;
  const parsed = iface.parseLog({ topics: [...log.topics], data: log.data });
  if (!parsed) return null;
  const a = parsed.args;
  const base = { blockNumber: log.blockNumber, logIndex: log.index, blockTime };
  switch (parsed.name) {
    case "DeviceMinted":
      return {
        ...base,
        kind: "DeviceMinted",
        vehicleId: "0",
        deviceId: a.deviceId.toString(),
        address: String(a.deviceKey).toLowerCase(),
      };
    case "DevicePaired":
    case "DeviceUnpaired":
      return {
        ...base,
        kind: parsed.name,
        vehicleId: a.vehicleId.toString(),
        deviceId: a.deviceId.toString(),
        address: "",
      };
    case "ConnectionAttested":
    case "ConnectionRemoved":
      return {
        ...base,
        kind: parsed.name,
        vehicleId: a.vehicleId.toString(),
        deviceId: "0",
        address: String(a.integration).toLowerCase(),
      };
    case "RoleRevoked":
      if (!INTEGRATION_ROLES.has(String(a.role).toLowerCase())) return null;
      return {
        ...base,
        kind: "IntegrationRoleRevoked",
        vehicleId: "0",
        deviceId: "0",
        address: String(a.account).toLowerCase(),
      };
    default:
      return null;
  }
}

/** Chain order of events: (block, log index). */
export function compareBindingEvents(x: BindingEvent, y: BindingEvent): number {
  return x.blockNumber - y.blockNumber || x.logIndex - y.logIndex;
}

/** A validity interval [from, to) in unix seconds; `to` null while open. */
export interface Interval {
  vehicleId: string;
  from: number;
  to: number | null;
}

export type PairingCheck =
  | { ok: true }
  | { ok: false; code: "device_not_paired" | "device_paired_elsewhere" | "connection_not_attested"; message: string };

/** Device keys, pairings and connections over time, built by applying events in chain order. */
export class RegistryBindings {
  private readonly _deviceKeys = new Map<string, string>();
  private readonly _pairings = new Map<string, Interval[]>(); // deviceId -> intervals
  private readonly _connections = new Map<string, Interval[]>(); // integration -> intervals (vehicleId inside)

  /** Bindings after `events` (applied in the order given: chain order). */
  static of(events: Iterable<BindingEvent>): RegistryBindings {
    const b = new RegistryBindings();
    for (const e of events) b.apply(e);
    return b;
  }

  /** Applies the next event (events must come in chain order). */
  apply(e: BindingEvent): void {
    switch (e.kind) {
      case "DeviceMinted":
        this._deviceKeys.set(e.deviceId, e.address);
        break;
      case "DevicePaired":
        push(this._pairings, e.deviceId, { vehicleId: e.vehicleId, from: e.blockTime, to: null });
        break;
      case "DeviceUnpaired":
        close(this._pairings.get(e.deviceId), e.vehicleId, e.blockTime);
        break;
      case "ConnectionAttested":
        push(this._connections, e.address, { vehicleId: e.vehicleId, from: e.blockTime, to: null });
        break;
      case "ConnectionRemoved":
        close(this._connections.get(e.address), e.vehicleId, e.blockTime);
        break;
      case "IntegrationRoleRevoked":
        for (const i of this._connections.get(e.address) ?? []) if (i.to === null) i.to = e.blockTime;
        break;
    }
  }

  /** The key device `deviceId` is bound to (lowercase), or undefined when no such device is known. */
  deviceKey(deviceId: string): string | undefined {
    return this._deviceKeys.get(deviceId);
  }

  /** Whether the device was paired with `vehicleId` over the whole of [start, end] (an open pairing holds on). */
  checkPairing(deviceId: string, vehicleId: string, start: number, end: number): PairingCheck {
    const list = this._pairings.get(deviceId) ?? [];
    const other = list.find((i) => i.vehicleId !== vehicleId && i.from <= end && (i.to === null || i.to > start));
    if (other)
      return {
        ok: false,
        code: "device_paired_elsewhere",
        message: `device ${deviceId} was paired with vehicle ${other.vehicleId} during [${start}, ${end}]`,
      };
    if (list.some((i) => i.vehicleId === vehicleId && covers(i, start, end))) return { ok: true };
    return {
      ok: false,
      code: "device_not_paired",
      message: `device ${deviceId} was not paired with vehicle ${vehicleId} over the whole of [${start}, ${end}]`,
    };
  }

  /** Whether `integration` had an attested connection with `vehicleId` over the whole of [start, end]. */
  checkConnection(integration: string, vehicleId: string, start: number, end: number): PairingCheck {
    const list = this._connections.get(integration.toLowerCase()) ?? [];
    if (list.some((i) => i.vehicleId === vehicleId && covers(i, start, end))) return { ok: true };
    return {
      ok: false,
      code: "connection_not_attested",
      message: `integration ${integration} had no attested connection with vehicle ${vehicleId} over the whole of [${start}, ${end}]`,
    };
  }
}

/** What the bindings need to know of who may sign (the node's registry index, or a replayed `RegistryBindings`). */
export type BindingsView = Pick<RegistryBindings, "deviceKey" | "checkPairing" | "checkConnection">;

/** The refusals of `checkBatchSigner`, with the node's codes (docs/telemetry.md, "Refusals"). */
export type SignerProblem = {
  ok: false;
  code: "unknown_device" | "bad_signature" | PairingCheckCode;
  message: string;
  /** JSON path of the offending field in the signed batch. */
  field: "batch.deviceId" | "batch.integration" | "signature";
};
type PairingCheckCode = Extract<PairingCheck, { ok: false }>["code"];

/**
 * The node's signer rule for a batch whose format is valid: the signature over `digest` is canonical and recovers to
 * the device's bound key (device batch) or to the integration (integration batch), and that signer was paired /
 * connected with the batch's vehicle over its whole time range. Returns the signer (lowercase) or the refusal.
 */
export function checkBatchSigner(
  b: TelemetryBatch,
  digest: string,
  signature: string,
  bindings: BindingsView,
  /** The signer already recovered from `signature` over `digest` (the node's verify threads); recovered here if absent. */
  recoveredSigner?: string | null,
): { ok: true; signer: string } | SignerProblem {
  const recovered = recoveredSigner === undefined ? recoverSigner(digest, signature) : recoveredSigner;
  const integration = integrationOf(b);
  let expected: string;
  if (integration === null) {
    const key = bindings.deviceKey(b.deviceId);
    if (!key)
      return {
        ok: false,
        code: "unknown_device",
        message: `device ${b.deviceId} is not in the registry`,
        field: "batch.deviceId",
      };
    expected = key;
  } else expected = integration.toLowerCase();
  if (recovered === null)
    return {
      ok: false,
      code: "bad_signature",
      message: "the signature is not a canonical secp256k1 signature",
      field: "signature",
    };
  if (recovered.toLowerCase() !== expected)
    return {
      ok: false,
      code: "bad_signature",
      message:
        integration === null
          ? `the batch is not signed by device ${b.deviceId}'s key`
          : `the batch is not signed by integration ${integration}`,
      field: "signature",
    };
  const check =
    integration === null
      ? bindings.checkPairing(b.deviceId, b.vehicleId, b.startTime, b.endTime)
      : bindings.checkConnection(integration, b.vehicleId, b.startTime, b.endTime);
  if (!check.ok)
    return {
      ok: false,
      code: check.code,
      message: check.message,
      field: integration === null ? "batch.deviceId" : "batch.integration",
    };
  return { ok: true, signer: expected };
}

function covers(i: Interval, start: number, end: number): boolean {
  return i.from <= start && (i.to === null || end < i.to);
}
function push(map: Map<string, Interval[]>, key: string, iv: Interval): void {
  const l = map.get(key);
  if (l) l.push(iv);
  else map.set(key, [iv]);
}
function close(list: Interval[] | undefined, vehicleId: string, t: number): void {
  if (!list) return;
  for (let k = list.length - 1; k >= 0; k--)
    if (list[k].vehicleId === vehicleId && list[k].to === null) {
      list[k].to = t;
      return;
    }
}
