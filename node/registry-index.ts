/**
 * A local index of the registry's events: which key each device is bound to, and when each device was paired
 * with which vehicle and each integration connected to which vehicle (block timestamps). Kept current by
 * polling `eth_getLogs` (pages of `logPageBlocks`), persisted in the store with its cursor, so a restarted
 * node loads what it had and catches up from the next block.
 *
 * Staleness: `freshness()` says whether the index may be trusted now — its cursor at most `maxStaleBlocks`
 * behind the last chain head seen, and that head seen within `maxPollAgeMs`. The node refuses ingest
 * (`index_stale`) otherwise.
 */
import { Contract, Interface, keccak256, toUtf8Bytes, type Provider } from "ethers";
import type { RegistryEvent, TelemetryStore } from "./store";

const VEHICLE_EVENTS = new Interface([
  "event DevicePaired(uint256 indexed vehicleId, uint256 indexed deviceId, address indexed owner)",
  "event DeviceUnpaired(uint256 indexed vehicleId, uint256 indexed deviceId, bool byTransfer)",
  "event ConnectionAttested(uint256 indexed vehicleId, address indexed integration, uint8 kind, address owner)",
  "event ConnectionRemoved(uint256 indexed vehicleId, address indexed integration, bool byTransfer)",
  "event RoleRevoked(bytes32 indexed role, address indexed account, address indexed sender)",
  "function deviceRegistry() view returns (address)",
]);
/** VehicleRegistry's integration roles: revoking either ends the integration's attested connections for
 *  ingest at that block's time (the chain keeps them until `removeConnections`; the node does not wait). */
const INTEGRATION_ROLES = new Set([
  keccak256(toUtf8Bytes("SOFTWARE_INTEGRATION_ROLE")),
  keccak256(toUtf8Bytes("OEM_INTEGRATION_ROLE")),
]);
const DEVICE_EVENTS = new Interface([
  "event DeviceMinted(uint256 indexed deviceId, address indexed manufacturer, address indexed deviceKey, address owner, string serial, string hardwareRevision)",
]);

/** A validity interval [from, to) in unix seconds; `to` null while open. */
export interface Interval {
  vehicleId: string;
  from: number;
  to: number | null;
}

export interface IndexOptions {
  confirmations: number;
  maxStaleBlocks: number;
  logPageBlocks: number;
  /** Longest time since the last successful poll before the index counts as stale, ms. */
  maxPollAgeMs: number;
  /** The DeviceRegistry address; read from the VehicleRegistry when absent. */
  deviceRegistry?: string;
  /**
   * First block to read (the registries' deploy block): a new index starts there instead of at block 0, which on
   * a long chain would cost one `eth_getLogs` page per `logPageBlocks` blocks before the node can serve.
   */
  fromBlock?: number;
}

export type PairingCheck =
  | { ok: true }
  | { ok: false; code: "device_not_paired" | "device_paired_elsewhere" | "connection_not_attested"; message: string };

export class RegistryIndex {
  private readonly _deviceKeys = new Map<string, string>();
  private readonly _pairings = new Map<string, Interval[]>(); // deviceId -> intervals
  private readonly _connections = new Map<string, Interval[]>(); // integration -> intervals (vehicleId inside)
  private _cursor = -1;
  private _head = -1;
  private _headSeenAt = 0;
  private _deviceRegistry: string | undefined;
  private _timer: NodeJS.Timeout | undefined;
  private _polling: Promise<void> | undefined;
  private _stopped = false;

  constructor(
    private readonly _provider: Provider,
    private readonly _vehicleRegistry: string,
    private readonly _store: TelemetryStore,
    private readonly _opts: IndexOptions,
    private readonly _log: { warn(obj: object, msg: string): void; info(obj: object, msg: string): void } = {
      warn: () => {},
      info: () => {},
    },
  ) {}

  /** Loads the persisted events and cursor. */
  async load(): Promise<void> {
    const { block, events } = await this._store.loadIndex();
    for (const e of events) this._apply(e);
    this._cursor = Math.max(block, (this._opts.fromBlock ?? 0) - 1);
  }

  get cursor(): number {
    return this._cursor;
  }
  get head(): number {
    return this._head;
  }

  /** Reads new events up to head − confirmations; returns the new cursor. */
  async poll(): Promise<number> {
    this._polling ??= this._pollOnce().finally(() => (this._polling = undefined));
    await this._polling;
    return this._cursor;
  }

  private async _pollOnce(): Promise<void> {
    const head = await this._provider.getBlockNumber();
    this._deviceRegistry ??= this._opts.deviceRegistry;
    this._deviceRegistry ??= String(
      await new Contract(this._vehicleRegistry, VEHICLE_EVENTS, this._provider).getFunction("deviceRegistry")(),
    );
    const target = head - this._opts.confirmations;
    while (this._cursor < target) {
      const from = this._cursor + 1;
      const to = Math.min(target, from + this._opts.logPageBlocks - 1);
      const [vLogs, dLogs] = await Promise.all([
        this._provider.getLogs({ address: this._vehicleRegistry, fromBlock: from, toBlock: to }),
        this._provider.getLogs({ address: this._deviceRegistry, fromBlock: from, toBlock: to }),
      ]);
      const times = new Map<number, number>();
      const events: RegistryEvent[] = [];
      for (const log of [...vLogs, ...dLogs]) {
        const iface =
          log.address.toLowerCase() === this._vehicleRegistry.toLowerCase() ? VEHICLE_EVENTS : DEVICE_EVENTS;
        const parsed = iface.parseLog(log);
        if (!parsed) continue;
        let t = times.get(log.blockNumber);
        if (t === undefined) {
          const block = await this._provider.getBlock(log.blockNumber);
          if (!block) throw new Error(`registry index: block ${log.blockNumber} not found`);
          times.set(log.blockNumber, (t = block.timestamp));
        }
        const a = parsed.args;
        const base = { blockNumber: log.blockNumber, logIndex: log.index, blockTime: t };
        switch (parsed.name) {
          case "DeviceMinted":
            events.push({
              ...base,
              kind: "DeviceMinted",
              vehicleId: "0",
              deviceId: a.deviceId.toString(),
              address: String(a.deviceKey).toLowerCase(),
            });
            break;
          case "DevicePaired":
          case "DeviceUnpaired":
            events.push({
              ...base,
              kind: parsed.name,
              vehicleId: a.vehicleId.toString(),
              deviceId: a.deviceId.toString(),
              address: "",
            });
            break;
          case "ConnectionAttested":
          case "ConnectionRemoved":
            events.push({
              ...base,
              kind: parsed.name,
              vehicleId: a.vehicleId.toString(),
              deviceId: "0",
              address: String(a.integration).toLowerCase(),
            });
            break;
          case "RoleRevoked":
            if (!INTEGRATION_ROLES.has(String(a.role).toLowerCase())) break;
            events.push({
              ...base,
              kind: "IntegrationRoleRevoked",
              vehicleId: "0",
              deviceId: "0",
              address: String(a.account).toLowerCase(),
            });
            break;
          default:
            break;
        }
      }
      events.sort((x, y) => x.blockNumber - y.blockNumber || x.logIndex - y.logIndex);
      await this._store.saveIndex(events, to);
      for (const e of events) this._apply(e);
      this._cursor = to;
      if (events.length) this._log.info({ from, to, events: events.length }, "registry index advanced");
    }
    this._head = head;
    this._headSeenAt = Date.now();
  }

  private _apply(e: RegistryEvent): void {
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

  /** Starts polling every `intervalMs`; errors are logged and retried at the next tick. */
  start(intervalMs: number): void {
    const tick = () => {
      if (this._stopped) return;
      this.poll()
        .catch((err: Error) => this._log.warn({ err: err.message }, "registry index poll failed"))
        .finally(() => {
          if (!this._stopped) this._timer = setTimeout(tick, intervalMs);
        });
    };
    tick();
  }

  async stop(): Promise<void> {
    this._stopped = true;
    if (this._timer) clearTimeout(this._timer);
    await this._polling?.catch(() => {});
  }

  /** Whether the index may be trusted now, and how far behind it is. */
  freshness(now = Date.now()): { fresh: boolean; behindBlocks: number; message: string } {
    const behind = this._head < 0 ? Infinity : this._head - this._cursor;
    if (this._head < 0)
      return { fresh: false, behindBlocks: behind, message: "the registry index has not read the chain yet" };
    if (behind > this._opts.maxStaleBlocks)
      return {
        fresh: false,
        behindBlocks: behind,
        message: `the registry index is ${behind} blocks behind (at most ${this._opts.maxStaleBlocks})`,
      };
    if (now - this._headSeenAt > this._opts.maxPollAgeMs)
      return {
        fresh: false,
        behindBlocks: behind,
        message: `the chain was last read ${Math.round((now - this._headSeenAt) / 1000)} s ago`,
      };
    return { fresh: true, behindBlocks: behind, message: "ok" };
  }

  /** The key device `deviceId` is bound to (lowercase), or undefined when no such device is indexed. */
  deviceKey(deviceId: string): string | undefined {
    return this._deviceKeys.get(deviceId);
  }

  /** Whether the device was paired with `vehicleId` over the whole of [start, end]. */
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
