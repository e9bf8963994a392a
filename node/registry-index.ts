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
import { Contract, type Provider } from "ethers";
import {
  BINDING_VEHICLE_EVENTS,
  type BindingEvent,
  bindingEventOf,
  compareBindingEvents,
  type PairingCheck,
  RegistryBindings,
} from "../lib/telemetry/bindings";
import type { TelemetryStore } from "./store";

export type { Interval, PairingCheck } from "../lib/telemetry/bindings";

/**
 * The binding events (lib/telemetry/bindings.ts) of both registries in blocks [fromBlock, toBlock], in chain order:
 * one `eth_getLogs` per registry, one `eth_getBlock` per block that holds an event (for its timestamp). The node's
 * index reads its pages with it, and `rewards:verify` the events up to a week's snapshot block.
 */
export async function readBindingEvents(
  provider: Provider,
  registries: { vehicleRegistry: string; deviceRegistry: string },
  fromBlock: number,
  toBlock: number,
): Promise<BindingEvent[]> {
  const [vLogs, dLogs] = await Promise.all([
    provider.getLogs({ address: registries.vehicleRegistry, fromBlock, toBlock }),
    provider.getLogs({ address: registries.deviceRegistry, fromBlock, toBlock }),
  ]);
  const times = new Map<number, number>();
  const events: BindingEvent[] = [];
  const vehicleRegistry = registries.vehicleRegistry.toLowerCase();
  for (const log of [...vLogs, ...dLogs]) {
    let t = times.get(log.blockNumber);
    if (t === undefined) {
      const block = await provider.getBlock(log.blockNumber);
      if (!block) throw new Error(`registry index: block ${log.blockNumber} not found`);
      times.set(log.blockNumber, (t = block.timestamp));
    }
    const e = bindingEventOf(log, log.address.toLowerCase() === vehicleRegistry, t);
    if (e) events.push(e);
  }
  return events.sort(compareBindingEvents);
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

export class RegistryIndex {
  private readonly _bindings = new RegistryBindings();
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
    for (const e of events) this._bindings.apply(e);
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
      await new Contract(this._vehicleRegistry, BINDING_VEHICLE_EVENTS, this._provider).getFunction("deviceRegistry")(),
    );
    const target = head - this._opts.confirmations;
    while (this._cursor < target) {
      const from = this._cursor + 1;
      const to = Math.min(target, from + this._opts.logPageBlocks - 1);
      const events = await readBindingEvents(
        this._provider,
        { vehicleRegistry: this._vehicleRegistry, deviceRegistry: this._deviceRegistry },
        from,
        to,
      );
      await this._store.saveIndex(events, to);
      for (const e of events) this._bindings.apply(e);
      this._cursor = to;
      if (events.length) this._log.info({ from, to, events: events.length }, "registry index advanced");
    }
    this._head = head;
    this._headSeenAt = Date.now();
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
    return this._bindings.deviceKey(deviceId);
  }

  /** Whether the device was paired with `vehicleId` over the whole of [start, end]. */
  checkPairing(deviceId: string, vehicleId: string, start: number, end: number): PairingCheck {
    return this._bindings.checkPairing(deviceId, vehicleId, start, end);
  }

  /** Whether `integration` had an attested connection with `vehicleId` over the whole of [start, end]. */
  checkConnection(integration: string, vehicleId: string, start: number, end: number): PairingCheck {
    return this._bindings.checkConnection(integration, vehicleId, start, end);
  }
}
