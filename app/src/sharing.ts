/**
 * The "Data sharing" view's chain reads: every live grant on the account's vehicles (from `AccessGranted`
 * events, each confirmed by `grantOf`, so a revoked record — deleted on chain — is not listed), and for each
 * consumer its stake position, whether the stake covers its grants (`isCovered`) and whether it is frozen.
 */
import { Contract, type ContractRunner } from "ethers";
import { abi as accessAbi } from "../../artifacts/contracts/registry/DataAccess.sol/DataAccess.json";
import { abi as stakingAbi } from "../../artifacts/contracts/staking/ConsumerStaking.sol/ConsumerStaking.json";
import type { ConsumerStaking, DataAccess } from "../../typechain-types";
import { DATA_TYPES } from "../../lib/data-types";

export interface SharingContracts {
  access: DataAccess;
  staking: ConsumerStaking;
}

/** `record`: the deployment record (data.ts's DeploymentRecord; not imported, so tests can import this file). */
export function sharingContractsOf(
  record: { contracts: Record<string, { address: string } | undefined> },
  runner: ContractRunner,
): SharingContracts | undefined {
  const c = record.contracts;
  if (!c.DataAccess || !c.ConsumerStaking) return undefined;
  return {
    access: new Contract(c.DataAccess.address, accessAbi, runner) as unknown as DataAccess,
    staking: new Contract(c.ConsumerStaking.address, stakingAbi, runner) as unknown as ConsumerStaking,
  };
}

export interface ConsumerState {
  staked: bigint;
  vehiclesAccessed: bigint;
  covered: boolean;
  frozenUntil: number;
}

export interface GrantRow {
  vehicleId: bigint;
  consumer: string;
  permissions: bigint;
  expiresAt: number;
  grantedAt: number;
  consumerState: ConsumerState;
}

/** Names of the data types whose bits are set (unknown bits as `bit N`). */
export function dataTypeNames(permissions: bigint): string[] {
  const names: string[] = [];
  for (let bit = 0; bit < 256; bit++) {
    if (((permissions >> BigInt(bit)) & 1n) === 0n) continue;
    names.push(DATA_TYPES.find((t) => t.bit === bit)?.name ?? `bit ${bit}`);
  }
  return names;
}

/** The bitmask of the given data type names. */
export function permissionsOf(names: readonly string[]): bigint {
  let p = 0n;
  for (const n of names) {
    const t = DATA_TYPES.find((d) => d.name === n);
    if (!t) throw new Error(`unknown data type "${n}"`);
    p |= 1n << BigInt(t.bit);
  }
  return p;
}

/**
 * Runs a log query over the blocks to read, split into ranges when the RPC caps `eth_getLogs` (chain.ts's
 * `logsIn`); without one, a single query over every block.
 */
export type RangedQuery = <T>(query: (from: number, to: number) => Promise<T[]>) => Promise<T[]>;

/** Live grants on `vehicleIds`, ordered by vehicle then consumer. */
export async function loadGrants(
  s: SharingContracts,
  vehicleIds: readonly bigint[],
  ranged?: RangedQuery,
): Promise<GrantRow[]> {
  if (vehicleIds.length === 0) return [];
  // One query for all the vehicles: an array in a topic position matches any of its values (ethers v6).
  const anyOf = [...vehicleIds] as unknown as bigint;
  const filter = s.access.filters.AccessGranted(anyOf);
  const logs = ranged
    ? await ranged((from, to) => s.access.queryFilter(filter, from, to))
    : await s.access.queryFilter(filter);
  const pairs = new Map<string, { vehicleId: bigint; consumer: string }>();
  for (const l of logs) {
    const vehicleId = l.args.vehicleId;
    const consumer = l.args.consumer;
    pairs.set(`${vehicleId}:${consumer.toLowerCase()}`, { vehicleId, consumer });
  }
  const consumers = new Map<string, Promise<ConsumerState>>();
  const stateOf = (consumer: string) => {
    const key = consumer.toLowerCase();
    if (!consumers.has(key))
      consumers.set(
        key,
        Promise.all([s.staking.position(consumer), s.staking.isCovered(consumer)]).then(([p, covered]) => ({
          staked: p.staked,
          vehiclesAccessed: p.vehiclesAccessed,
          covered,
          frozenUntil: Number(p.frozenUntil),
        })),
      );
    return consumers.get(key)!;
  };
  const rows = await Promise.all(
    [...pairs.values()].map(async ({ vehicleId, consumer }) => {
      const g = await s.access.grantOf(vehicleId, consumer);
      if (g.permissions === 0n) return undefined;
      return {
        vehicleId,
        consumer,
        permissions: g.permissions,
        expiresAt: Number(g.expiresAt),
        grantedAt: Number(g.grantedAt),
        consumerState: await stateOf(consumer),
      } satisfies GrantRow;
    }),
  );
  return rows
    .filter((r): r is GrantRow => r !== undefined)
    .sort((a, b) =>
      a.vehicleId === b.vehicleId
        ? a.consumer.toLowerCase().localeCompare(b.consumer.toLowerCase())
        : a.vehicleId < b.vehicleId
          ? -1
          : 1,
    );
}
