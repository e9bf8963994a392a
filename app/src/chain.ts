/**
 * Everything the page reads from the chain for one account, through the wallet's own provider: the active
 * and pending roots, the claimed total, the DIMO balance, the vehicles it owns, and the per-week history
 * from the published distribution files (each checked against the chain, see `data.ts`).
 */
import { Contract, type ContractRunner } from "ethers";
import { abi as distributorAbi } from "../../artifacts/contracts/rewards/RewardDistributor.sol/RewardDistributor.json";
import { abi as tokenAbi } from "../../artifacts/contracts/DimoToken.sol/DimoToken.json";
import { abi as registryAbi } from "../../artifacts/contracts/registry/VehicleRegistry.sol/VehicleRegistry.json";
import type { DimoToken, RewardDistributor, VehicleRegistry } from "../../typechain-types";
import { earningsBySource, type EarningsBySource } from "../../lib/rewards/sources";
import { accountWeek, loadWeek, type AccountWeek, type DeploymentRecord, type WeekFile } from "./data";
import { once } from "./once";

export interface Contracts {
  record: DeploymentRecord;
  distributor: RewardDistributor;
  token: DimoToken;
  registry: VehicleRegistry;
}

export function contractsOf(record: DeploymentRecord, runner: ContractRunner): Contracts {
  const c = record.contracts;
  return {
    record,
    distributor: new Contract(c.RewardDistributor.address, distributorAbi, runner) as unknown as RewardDistributor,
    token: new Contract(c.DimoToken.address, tokenAbi, runner) as unknown as DimoToken,
    registry: new Contract(c.VehicleRegistry.address, registryAbi, runner) as unknown as VehicleRegistry,
  };
}

export interface Root {
  week: number;
  root: string;
  activatesAt: number;
  cumulativeTotal: bigint;
  contentHash: string;
}

export interface HistoryRow {
  week: number;
  earnedWei: bigint;
  cumulativeWei: bigint;
  status: "claimed" | "claimable" | "pending";
  /** The week's earnings by source (lib/rewards/sources.ts), summing to `earnedWei`; absent when `sourcesError` says why. */
  sources?: EarningsBySource;
  sourcesError?: string;
}

export interface VehicleRow {
  id: bigint;
  label: string;
  /** What it earned this account in the active week (core + green + referral). */
  lastWeekWei: bigint;
}

export interface AccountState {
  account: string;
  chainTime: number;
  balance: bigint;
  claimed: bigint;
  active?: Root & { file: WeekFile; entry?: AccountWeek };
  pending?: Root & { file: WeekFile; entry?: AccountWeek };
  /** `active cumulative − claimed` (never negative). */
  claimable: bigint;
  history: HistoryRow[];
  /** Weeks before the oldest one read (see `loadAccount`'s `historyWeeks`). */
  olderWeeks: number;
  vehicles: VehicleRow[];
}

const ZERO_ROOT = `0x${"0".repeat(64)}`;

function rootOf(r: Awaited<ReturnType<RewardDistributor["activeRoot"]>>): Root | undefined {
  if (r.root === ZERO_ROOT) return undefined;
  return {
    week: Number(r.week),
    root: r.root,
    activatesAt: Number(r.activatesAt),
    cumulativeTotal: r.cumulativeTotal,
    contentHash: r.contentHash,
  };
}

/**
 * Reads the account's state, with the history of the latest `historyWeeks` weeks up to the active one (each
 * week read costs about 30 Range requests on a large network).
 */
export async function loadAccount(c: Contracts, account: string, historyWeeks: number): Promise<AccountState> {
  const { distributor, token } = c;
  const [activeRaw, pendingRaw, claimed, balance, latest, vehicles] = await Promise.all([
    distributor.activeRoot(),
    distributor.pendingRoot(),
    distributor.claimed(account),
    token.balanceOf(account),
    distributor.runner!.provider!.getBlock("latest"),
    vehiclesOf(c, account),
  ]);
  const activeRoot = rootOf(activeRaw);
  const pendingRoot = rootOf(pendingRaw);
  const state: AccountState = {
    account,
    chainTime: latest!.timestamp,
    balance,
    claimed,
    claimable: 0n,
    history: [],
    olderWeeks: 0,
    vehicles,
  };
  if (activeRoot) {
    const file = await loadWeek(activeRoot.week, activeRoot.root, activeRoot.contentHash);
    const entry = await accountWeek(file, account);
    state.active = { ...activeRoot, file, entry };
    if (entry && entry.cumulativeWei > claimed) state.claimable = entry.cumulativeWei - claimed;
    const h = await history(c, account, activeRoot, file, claimed, historyWeeks);
    state.history = h.rows;
    state.olderWeeks = h.older;
    const earned = new Map<string, bigint>();
    for (const v of entry?.vehicles ?? []) {
      const referral = v.referral?.amountWei ?? 0n;
      earned.set(v.vehicleId, (earned.get(v.vehicleId) ?? 0n) + v.core + v.green + referral);
    }
    for (const v of vehicles) v.lastWeekWei = earned.get(v.id.toString()) ?? 0n;
  }
  if (pendingRoot) {
    const file = await loadWeek(pendingRoot.week, pendingRoot.root, pendingRoot.contentHash);
    const entry = await accountWeek(file, account);
    state.pending = { ...pendingRoot, file, entry };
    if (entry && entry.weekWei > 0n)
      state.history.push({
        week: pendingRoot.week,
        earnedWei: entry.weekWei,
        cumulativeWei: entry.cumulativeWei,
        status: "pending",
        ...sourcesOf(file, entry),
      });
  }
  state.history.reverse();
  return state;
}

/** Blocks after which a log is taken as final and kept: younger ones are read again on the next refresh. */
const FINALITY_BLOCKS = 12;
const logCache = new Map<string, { upTo: number; logs: unknown[] }>();

/**
 * Events from block `from` to the latest, for a query named `key`: what was read before, up to the last block
 * taken as final, is kept, so a refresh reads only the new blocks.
 */
async function logsSince<T extends { blockNumber: number }>(
  c: Contracts,
  key: string,
  from: number,
  query: (from: number, to: number) => Promise<T[]>,
): Promise<T[]> {
  const cached = (logCache.get(key) as { upTo: number; logs: T[] } | undefined) ?? { upTo: from - 1, logs: [] };
  const latest = await c.distributor.runner!.provider!.getBlockNumber();
  const fresh = cached.upTo < latest ? await logsIn(cached.upTo + 1, latest, query) : [];
  const final = latest - FINALITY_BLOCKS;
  if (final > cached.upTo)
    logCache.set(key, { upTo: final, logs: [...cached.logs, ...fresh.filter((l) => l.blockNumber <= final)] });
  return [...cached.logs, ...fresh];
}

/**
 * Events of blocks `[from, to]`: the whole range in one query, else (public RPCs cap the block range of
 * `eth_getLogs`) in ranges of at most 10,000 blocks, halved whenever the RPC refuses one.
 */
export async function logsIn<T>(
  from: number,
  to: number,
  query: (from: number, to: number) => Promise<T[]>,
): Promise<T[]> {
  try {
    return await query(from, to);
  } catch (e) {
    if (to === from) throw e;
  }
  const out: T[] = [];
  let size = Math.min(10_000, to - from + 1);
  for (let start = from; start <= to;) {
    const end = Math.min(to, start + size - 1);
    try {
      out.push(...(await query(start, end)));
      start = end + 1;
    } catch (e) {
      if (size === 1) throw e;
      size = Math.ceil(size / 2);
    }
  }
  return out;
}

/** The latest `limit` weeks up to the active one, from the files whose roots were posted (`RootPublished`). */
async function history(
  c: Contracts,
  account: string,
  active: Root,
  activeFile: WeekFile,
  claimed: bigint,
  limit: number,
): Promise<{ rows: HistoryRow[]; older: number }> {
  const published = await logsSince(c, "RootPublished", c.record.contracts.RewardDistributor.blockNumber, (from, to) =>
    c.distributor.queryFilter(c.distributor.filters.RootPublished(), from, to),
  );
  // The last root published for a week is the one that stood (a revoked root is published again).
  const byWeek = new Map<number, { root: string; contentHash: string }>();
  for (const e of published) byWeek.set(Number(e.args.week), { root: e.args.root, contentHash: e.args.contentHash });
  const earlier = [...byWeek.keys()].filter((w) => w < active.week).sort((a, b) => a - b);
  const weeks = earlier.slice(Math.max(0, earlier.length - (limit - 1)));
  const files = await Promise.all(weeks.map((w) => loadWeek(w, byWeek.get(w)!.root, byWeek.get(w)!.contentHash)));
  files.push(activeFile);
  const entries = await Promise.all(files.map((f) => accountWeek(f, account)));
  const rows: HistoryRow[] = [];
  for (const [i, f] of files.entries()) {
    const entry = entries[i];
    if (!entry || entry.weekWei === 0n) continue;
    rows.push({
      week: f.week,
      earnedWei: entry.weekWei,
      cumulativeWei: entry.cumulativeWei,
      status: entry.cumulativeWei <= claimed ? "claimed" : "claimable",
      ...sourcesOf(f, entry),
    });
  }
  return { rows, older: earlier.length - weeks.length };
}

/**
 * The entry's earnings by source, or the reason they cannot be shown (a credit reason this page does not know):
 * the week's total is proven against the root either way, so the breakdown failing must not hide the claim.
 */
function sourcesOf(f: WeekFile, entry: AccountWeek): Pick<HistoryRow, "sources" | "sourcesError"> {
  try {
    return { sources: earningsBySource(entry, f.json.name) };
  } catch (e) {
    return { sourcesError: (e as Error).message };
  }
}

/** Vehicles the account owns now: every id ever transferred to it that it still owns. */
const labels = new Map<bigint, Promise<string>>(); // a vehicle's make, model and year never change

async function vehiclesOf(c: Contracts, account: string): Promise<VehicleRow[]> {
  const { registry } = c;
  const received = await logsSince(
    c,
    `Transfer to ${account.toLowerCase()}`,
    c.record.contracts.VehicleRegistry.blockNumber,
    (from, to) => registry.queryFilter(registry.filters.Transfer(undefined, account), from, to),
  );
  const ids = [...new Set(received.map((e) => e.args.id))].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  const owners = await Promise.all(ids.map((id) => registry.ownerOf(id)));
  const owned = ids.filter((_, i) => owners[i].toLowerCase() === account.toLowerCase());
  return Promise.all(
    owned.map(async (id) => {
      const label = await once(labels, id, () => registry.vehicle(id).then((v) => `${v.year} ${v.make} ${v.model}`));
      return { id, label, lastWeekWei: 0n };
    }),
  );
}
