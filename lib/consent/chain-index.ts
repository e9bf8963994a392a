/**
 * The node's index of consent events: decodes the logs of VehicleRegistry, DataAccess and ConsumerStaking into
 * `ConsentEvent`s (pure, `decodeConsentLog`) and keeps a `ConsentState` current by polling `eth_getLogs`
 * (`ConsentIndex`, a thin poller over an ethers Provider; no Hardhat).
 *
 * Staleness bound: a read is decided only while the index is fresh — its last poll that reached the chain head
 * (minus `confirmations`) started at most `maxPollAgeMs` ago; otherwise `INDEX_STALE` (503). A poll reads the
 * head after it starts, so an event mined at wall time E is seen by every read decided at or after
 * E + `maxPollAgeMs` (+ `confirmations` block intervals when confirmations > 0): with the defaults (poll every
 * 1 s, fresh for 3 s, no confirmations) a revocation, expiry, transfer, freeze or stake drop takes effect within
 * 3 s. Expiries and freeze ends need no event: they are compared with the read's `now`.
 * The index must start at or before the suite's deployment block (`fromBlock`): the stake formula is set by an
 * event in ConsumerStaking's constructor (and DataCredits' price by one in its constructor).
 * With `contracts.credits` it also follows DataCredits (deposits, withdrawal requests, withdrawals, redeems, price)
 * in the same `eth_getLogs` requests, so the read budget check (node/data-api.ts) has the same bound.
 */
import { getAddress, Interface, type Log, type Provider } from "ethers";
import { applyEvent, checkRead, emptyConsentState, type ConsentEvent, type ConsentState } from "./permissions";
import type { ReadPermit, ReadQuery } from "./permissions";
import { ConsentError } from "./errors";
import { applyCreditsEvent, decodeCreditsLog, emptyCreditsState, type CreditsState } from "../credits/credits-state";

export const CONSENT_EVENTS = new Interface([
  "event Transfer(address indexed from, address indexed to, uint256 indexed tokenId)",
  "event OwnershipEpochAdvanced(uint256 indexed vehicleId, uint256 epoch, address indexed from, address indexed to)",
  "event AccessGranted(uint256 indexed vehicleId, address indexed consumer, address indexed owner, uint256 permissions, uint64 expiresAt, uint64 epoch)",
  "event AccessRevoked(uint256 indexed vehicleId, address indexed consumer, address indexed by)",
  "event Staked(address indexed consumer, uint256 amount, uint256 staked)",
  "event UnstakeRequested(address indexed consumer, uint256 amount, uint256 releaseAt)",
  "event Withdrawn(address indexed consumer, uint256 amount)",
  "event Frozen(address indexed consumer, uint256 frozenUntil, address indexed by)",
  "event Unfrozen(address indexed consumer)",
  "event Slashed(address indexed consumer, uint256 indexed slashId, uint256 amount, uint256 compensation, uint256 remainder, uint8 remainderTo, uint256 affectedAsOf, bytes32 evidenceHash, string evidenceURI)",
  "event StakeParametersSet(uint256 baseStake, uint256 perVehicleStake)",
]);

export interface ConsentContracts {
  vehicles: string;
  access: string;
  staking: string;
  /** DataCredits, when the node charges for reads: its events feed `ConsentIndex.credits` (lib/credits/credits-state.ts). */
  credits?: string;
}

const EVENTS_OF: Record<Exclude<keyof ConsentContracts, "credits">, readonly string[]> = {
  vehicles: ["Transfer", "OwnershipEpochAdvanced"],
  access: ["AccessGranted", "AccessRevoked"],
  staking: ["Staked", "UnstakeRequested", "Withdrawn", "Frozen", "Unfrozen", "Slashed", "StakeParametersSet"],
};

/**
 * Decodes one log of the three contracts (undefined for other logs and events the index does not use: ERC-721
 * transfers other than mints, which `OwnershipEpochAdvanced` covers, and every other event).
 */
export function decodeConsentLog(
  log: Pick<Log, "address" | "topics" | "data" | "blockNumber" | "index">,
  timestamp: number,
  contracts: ConsentContracts,
): ConsentEvent | undefined {
  const source = (Object.keys(EVENTS_OF) as (keyof typeof EVENTS_OF)[]).find(
    (k) => getAddress(contracts[k]) === getAddress(log.address),
  );
  if (source === undefined) return undefined;
  const parsed = CONSENT_EVENTS.parseLog({ topics: [...log.topics], data: log.data });
  if (parsed === null || !EVENTS_OF[source].includes(parsed.name)) return undefined;
  const pos = { block: log.blockNumber, logIndex: log.index, timestamp };
  const a = parsed.args;
  switch (parsed.name) {
    case "Transfer":
      return a.from === "0x0000000000000000000000000000000000000000"
        ? { ...pos, kind: "VehicleMinted", vehicleId: a.tokenId, owner: getAddress(a.to) }
        : undefined;
    case "OwnershipEpochAdvanced":
      return {
        ...pos,
        kind: "OwnershipEpochAdvanced",
        vehicleId: a.vehicleId,
        epoch: Number(a.epoch),
        from: getAddress(a.from),
        to: getAddress(a.to),
      };
    case "AccessGranted":
      return {
        ...pos,
        kind: "AccessGranted",
        vehicleId: a.vehicleId,
        consumer: getAddress(a.consumer),
        owner: getAddress(a.owner),
        permissions: a.permissions,
        expiresAt: Number(a.expiresAt),
        epoch: Number(a.epoch),
      };
    case "AccessRevoked":
      return {
        ...pos,
        kind: "AccessRevoked",
        vehicleId: a.vehicleId,
        consumer: getAddress(a.consumer),
        by: getAddress(a.by),
      };
    case "Staked":
      return { ...pos, kind: "Staked", consumer: getAddress(a.consumer), amount: a.amount, staked: a.staked };
    case "UnstakeRequested":
      return { ...pos, kind: "UnstakeRequested", consumer: getAddress(a.consumer), amount: a.amount };
    case "Withdrawn":
      return { ...pos, kind: "Withdrawn", consumer: getAddress(a.consumer), amount: a.amount };
    case "Frozen":
      return { ...pos, kind: "Frozen", consumer: getAddress(a.consumer), frozenUntil: Number(a.frozenUntil) };
    case "Unfrozen":
      return { ...pos, kind: "Unfrozen", consumer: getAddress(a.consumer) };
    case "Slashed":
      return { ...pos, kind: "Slashed", consumer: getAddress(a.consumer), amount: a.amount };
    case "StakeParametersSet":
      return { ...pos, kind: "StakeParametersSet", baseStake: a.baseStake, perVehicleStake: a.perVehicleStake };
  }
  return undefined;
}

export interface ConsentIndexOptions {
  /** First block to read (at or before the suite's deployment). */
  fromBlock: number;
  /** Blocks below the head the index stays (0: the head itself). */
  confirmations: number;
  /** Blocks per eth_getLogs request. */
  logPageBlocks: number;
  /** Time between polls, ms. */
  pollIntervalMs: number;
  /** Longest time since the start of the last complete poll before reads are refused (INDEX_STALE), ms. */
  maxPollAgeMs: number;
}

export const CONSENT_INDEX_DEFAULTS: Omit<ConsentIndexOptions, "fromBlock"> = {
  confirmations: 0,
  logPageBlocks: 2_000,
  pollIntervalMs: 1_000,
  maxPollAgeMs: 3_000,
};

/** Keeps a ConsentState current from the chain; decides reads only while fresh. */
export class ConsentIndex {
  readonly state: ConsentState = emptyConsentState();
  /** DataCredits balances, channels and price (empty unless `contracts.credits` is given). */
  readonly credits: CreditsState = emptyCreditsState();
  private _cursor: number;
  private _freshSince = -Infinity; // wall time (ms) at which the last complete poll started
  private _timer: NodeJS.Timeout | undefined;
  private _polling: Promise<void> | undefined;

  constructor(
    private readonly _provider: Provider,
    private readonly _contracts: ConsentContracts,
    private readonly _opts: ConsentIndexOptions,
    private readonly _clock: () => number = Date.now,
  ) {
    this._cursor = _opts.fromBlock - 1;
  }

  /** Last block applied. */
  get cursor(): number {
    return this._cursor;
  }

  /** Whether reads may be decided now, and how old the index is. */
  freshness(): { fresh: boolean; ageMs: number; cursor: number } {
    const ageMs = this._clock() - this._freshSince;
    return { fresh: ageMs <= this._opts.maxPollAgeMs, ageMs, cursor: this._cursor };
  }

  /** Decides a read (`checkRead`) if the index is fresh; `INDEX_STALE` otherwise. */
  check(query: ReadQuery): ReadPermit {
    this.assertFresh();
    return checkRead(this.state, query);
  }

  /** Throws `INDEX_STALE` unless the index is fresh (every decision taken on its state calls it first). */
  assertFresh(): void {
    const f = this.freshness();
    if (!f.fresh) {
      throw new ConsentError(
        "INDEX_STALE",
        `the node's consent index is ${Number.isFinite(f.ageMs) ? `${f.ageMs} ms` : "never"} fresh (at most ${this._opts.maxPollAgeMs} ms); retry shortly`,
        { ageMs: Number.isFinite(f.ageMs) ? f.ageMs : null, maxPollAgeMs: this._opts.maxPollAgeMs, cursor: f.cursor },
      );
    }
  }

  /** One poll: reads every log up to head - confirmations and applies it. Concurrent calls share one poll. */
  poll(): Promise<void> {
    this._polling ??= this._poll().finally(() => {
      this._polling = undefined;
    });
    return this._polling;
  }

  private async _poll(): Promise<void> {
    const startedAt = this._clock();
    const target = (await this._provider.getBlockNumber()) - this._opts.confirmations;
    const addresses = Object.values(this._contracts)
      .filter((a): a is string => a !== undefined)
      .map((a) => getAddress(a));
    const credits = this._contracts.credits === undefined ? undefined : getAddress(this._contracts.credits);
    while (this._cursor < target) {
      const fromBlock = this._cursor + 1;
      const toBlock = Math.min(target, fromBlock + this._opts.logPageBlocks - 1);
      const logs = await this._provider.getLogs({ address: addresses, fromBlock, toBlock });
      logs.sort((x, y) => x.blockNumber - y.blockNumber || x.index - y.index);
      // Every block time first, then the (synchronous) reducer: a failed request leaves the state untouched.
      const times = new Map<number, number>();
      const timed = logs.filter((l) => credits === undefined || getAddress(l.address) !== credits);
      for (const block of new Set(timed.map((l) => l.blockNumber))) {
        const b = await this._provider.getBlock(block);
        if (b === null) throw new Error(`consent index: block ${block} not found`);
        times.set(block, b.timestamp);
      }
      for (const log of logs) {
        if (credits !== undefined && getAddress(log.address) === credits) {
          const ce = decodeCreditsLog(log);
          if (ce !== undefined) applyCreditsEvent(this.credits, ce);
          continue;
        }
        const event = decodeConsentLog(log, times.get(log.blockNumber) as number, this._contracts);
        if (event !== undefined) applyEvent(this.state, event);
      }
      this._cursor = toBlock;
    }
    this._freshSince = startedAt;
  }

  /** Polls now and then every `pollIntervalMs`; a failed poll is reported to `onError` and retried. */
  async start(onError: (e: unknown) => void = () => {}): Promise<void> {
    await this.poll();
    const tick = () => {
      this._timer = setTimeout(() => {
        this.poll()
          .catch(onError)
          .finally(() => {
            if (this._timer !== undefined) tick();
          });
      }, this._opts.pollIntervalMs);
    };
    tick();
  }

  /** Stops polling and waits for a poll in flight. */
  async stop(): Promise<void> {
    clearTimeout(this._timer);
    this._timer = undefined;
    await this._polling?.catch(() => {});
  }
}
