/**
 * The page's data files: the deployment record and the published weekly distributions, each checked
 * against the chain before a number from it is shown or sent.
 *
 * A week's JSON file must hash (SHA-256 of its bytes) to the `contentHash` the publisher posted on chain with
 * that week's root, and its `root` must be the posted root; a claim proof must reach the cached layer node (or
 * the root) before the page offers to send it. Proof nodes below the cached layer are read from the week's
 * `.tree` file with HTTP Range requests (32 bytes each), so the page never downloads a whole tree.
 */
import { getAddress } from "ethers";
import { accountIndex, leafOf, processProofSync, siblingPositions, treeNodeOffset } from "../../lib/rewards/proof";

export const NETWORK: string = __DIMO_NETWORK__;

export interface ContractRecord {
  address: string;
  blockNumber: number;
}

export interface DeploymentRecord {
  network: string;
  chainId: number;
  contracts: Record<"DimoToken" | "RewardDistributor" | "VehicleRegistry", ContractRecord> &
    Record<string, ContractRecord>;
}

export interface VehicleEarning {
  vehicleId: string;
  core: bigint;
  green: bigint;
  referral?: { role: "referrer" | "driver"; amountWei: bigint };
}

export interface AccountWeek {
  account: string;
  index: number;
  cumulativeWei: bigint;
  weekWei: bigint;
  vehicles: VehicleEarning[];
  credits: { amountWei: bigint; reason: string }[];
}

export interface WeekFile {
  week: number;
  root: string;
  leafCount: number;
  treeFile: string;
  cachedLayer: { layer: number; nodes: string[] };
  /** As in the file: sorted by lowercase address, amounts as decimal strings. */
  accounts: RawAccount[];
}

interface RawAccount {
  account: string;
  index: number;
  cumulativeWei: string;
  weekWei: string;
  vehicles: { vehicleId: string; core: string; green: string; referral?: { role: string; amountWei: string } }[];
  credits?: { amountWei: string; reason: string }[];
}

/** A data file is missing, malformed, or does not match what the chain says. */
export class DataError extends Error {
  constructor(
    readonly file: string,
    message: string,
  ) {
    super(`${file}: ${message}`);
    this.name = "DataError";
  }
}

const dataUrl = (p: string) => new URL(`data/${p}`, document.baseURI).toString();

async function fetchOk(file: string, init?: RequestInit): Promise<Response> {
  let res: Response;
  try {
    res = await fetch(dataUrl(file), { cache: "no-store", ...init });
  } catch (e) {
    throw new DataError(file, `could not be fetched (${(e as Error).message})`);
  }
  if (!res.ok) throw new DataError(file, `could not be fetched (HTTP ${res.status})`);
  return res;
}

const isHex = (v: unknown, bytes: number) =>
  typeof v === "string" && v.length === 2 + bytes * 2 && /^0x[0-9a-fA-F]*$/.test(v);

/** `deployments/<network>.json`, checked for the three contracts the page uses. */
export async function loadRecord(): Promise<DeploymentRecord> {
  const file = `deployments/${NETWORK}.json`;
  const res = await fetchOk(file);
  let r: DeploymentRecord;
  try {
    r = (await res.json()) as DeploymentRecord;
  } catch {
    throw new DataError(file, "is not JSON");
  }
  if (!Number.isSafeInteger(r.chainId)) throw new DataError(file, "chainId: missing");
  for (const name of ["DimoToken", "RewardDistributor", "VehicleRegistry"] as const) {
    const c = r.contracts?.[name];
    if (!c || !isHex(c.address, 20)) throw new DataError(file, `contracts.${name}.address: missing`);
  }
  return r;
}

async function sha256(bytes: ArrayBuffer): Promise<string> {
  const d = new Uint8Array(await crypto.subtle.digest("SHA-256", bytes));
  return `0x${Array.from(d, (b) => b.toString(16).padStart(2, "0")).join("")}`;
}

/**
 * Week `week`'s distribution file, checked against the on-chain `root` and `contentHash` posted with it.
 * Files are immutable once published, so each (week, hash) is fetched once per page load.
 */
const weekCache = new Map<string, Promise<WeekFile>>();
export function loadWeek(week: number, root: string, contentHash: string): Promise<WeekFile> {
  const key = `${week}:${contentHash}`;
  let p = weekCache.get(key);
  if (!p) {
    p = fetchWeek(week, root, contentHash);
    p.catch(() => weekCache.delete(key));
    weekCache.set(key, p);
  }
  return p;
}

async function fetchWeek(week: number, root: string, contentHash: string): Promise<WeekFile> {
  const file = `distributions/week-${week}.json`;
  const bytes = await (await fetchOk(file)).arrayBuffer();
  const hash = await sha256(bytes);
  if (hash !== contentHash.toLowerCase())
    throw new DataError(file, `its SHA-256 ${hash} is not the content hash ${contentHash} published on chain`);
  let d: {
    week: number;
    root: string;
    tree: { file: string; leafCount: number };
    cachedLayer: { layer: number; nodes: string[] };
    accounts: RawAccount[];
  };
  try {
    d = JSON.parse(new TextDecoder().decode(bytes));
  } catch {
    throw new DataError(file, "is not JSON");
  }
  if (d.week !== week) throw new DataError(file, `week: expected ${week}, got ${d.week}`);
  if (d.root !== root) throw new DataError(file, `root: ${d.root} is not the root ${root} published on chain`);
  return {
    week,
    root: d.root,
    leafCount: d.tree.leafCount,
    treeFile: `distributions/${d.tree.file}`,
    cachedLayer: d.cachedLayer,
    accounts: d.accounts,
  };
}

/** The account's entry of a week, or undefined when it earned nothing so far. */
export function accountWeek(w: WeekFile, account: string): AccountWeek | undefined {
  const i = accountIndex(w.accounts, account);
  if (i < 0) return undefined;
  const a = w.accounts[i];
  return {
    account: getAddress(a.account),
    index: a.index,
    cumulativeWei: BigInt(a.cumulativeWei),
    weekWei: BigInt(a.weekWei),
    vehicles: a.vehicles.map((v) => ({
      vehicleId: v.vehicleId,
      core: BigInt(v.core),
      green: BigInt(v.green),
      referral: v.referral && {
        role: v.referral.role as "referrer" | "driver",
        amountWei: BigInt(v.referral.amountWei),
      },
    })),
    credits: (a.credits ?? []).map((c) => ({ amountWei: BigInt(c.amountWei), reason: c.reason })),
  };
}

export interface ClaimArgs {
  cumulativeWei: bigint;
  /** `k + 1` for node `k` of the cached layer; 0 for a full proof to the root. */
  anchor: number;
  proof: string[];
}

/** Reads 32-byte nodes of a `.tree` file with Range requests (the whole file if the server ignores ranges). */
async function treeNodes(w: WeekFile, positions: [number, number][]): Promise<string[]> {
  const out: string[] = [];
  let whole: Uint8Array | undefined;
  for (const [layer, index] of positions) {
    const at = treeNodeOffset(w.leafCount, layer, index);
    let bytes: Uint8Array;
    if (whole) bytes = whole.subarray(at, at + 32);
    else {
      const res = await fetchOk(w.treeFile, { headers: { Range: `bytes=${at}-${at + 31}` } });
      const body = new Uint8Array(await res.arrayBuffer());
      if (res.status === 206) bytes = body;
      else {
        whole = body;
        bytes = body.subarray(at, at + 32);
      }
    }
    if (bytes.length !== 32) throw new DataError(w.treeFile, `node ${index} of layer ${layer} is missing`);
    out.push(`0x${Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("")}`);
  }
  return out;
}

/**
 * The cheapest claim arguments of `entry` under `w`: the proof up to the cached layer with its anchor, checked
 * to reach that node (the contract checks the layer against the root); a full proof when none is cached.
 */
export async function claimArgs(w: WeekFile, entry: AccountWeek): Promise<ClaimArgs> {
  const leaf = leafOf(entry.account, entry.cumulativeWei);
  const L = w.cachedLayer.nodes.length > 0 ? w.cachedLayer.layer : undefined;
  const proof = await treeNodes(w, siblingPositions(w.leafCount, entry.index, L));
  const reached = processProofSync(proof, leaf);
  if (L === undefined) {
    if (reached !== w.root) throw new DataError(w.treeFile, "the proof does not reach the root");
    return { cumulativeWei: entry.cumulativeWei, anchor: 0, proof };
  }
  const anchor = (entry.index >> L) + 1;
  if (reached !== w.cachedLayer.nodes[anchor - 1])
    throw new DataError(w.treeFile, `the proof does not reach node ${anchor - 1} of the cached layer`);
  return { cumulativeWei: entry.cumulativeWei, anchor, proof };
}
