/**
 * The page's data files: the deployment record and the published weekly distributions, each checked
 * against the chain before a number from it is shown or sent.
 *
 * A week's JSON file is opened with a Range request. A small file (up to `__DIMO_WHOLE_FILE_LIMIT__` bytes,
 * 1 MiB by default) is read whole and must hash (SHA-256 of its bytes) to the `contentHash` posted on chain
 * with the week's root. A large one (a million accounts is ~260 MB) is never downloaded: the account's line is
 * found by a binary search over byte ranges (`lib/rewards/lookup.ts`, about log2(accounts) requests of 4 KiB).
 * Either way the header's root must be the posted root, the cached layer must hash to it, and the account's
 * `(address, cumulative amount)` leaf must reach that layer through the siblings read from the `.tree` file
 * (32 bytes each): every amount shown is committed to by the chain, and the proof is ready for the claim.
 */
import { getAddress } from "ethers";
import { layerSizes, TREE_HEADER_BYTES } from "../../lib/rewards/proof";
import {
  cachedLayerRoot,
  findAccountLine,
  proveEntry,
  RangeFile,
  readPoints,
  readWeekHeader,
  type Fetched,
  type WeekHeader,
} from "../../lib/rewards/lookup";
import type { VehiclePointsBreakdown } from "../../lib/rewards/distribution";
import { once } from "./once";

export const NETWORK: string = __DIMO_NETWORK__;
const WHOLE_FILE_LIMIT: number = __DIMO_WHOLE_FILE_LIMIT__;
/** The first read of a week file: 64 KiB, or one block when files that small are to be read by ranges. */
const FIRST_READ = WHOLE_FILE_LIMIT >= 64 * 1024 ? 64 * 1024 : 4096;

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
  /** The vehicle's points: the earnings-by-source view splits `core` by them (lib/rewards/sources.ts). */
  points: VehiclePointsBreakdown;
  referral?: { role: "referrer" | "driver"; amountWei: bigint };
}

export interface ClaimArgs {
  cumulativeWei: bigint;
  /** `k + 1` for node `k` of the cached layer; 0 for a full proof to the root. */
  anchor: number;
  proof: string[];
}

export interface AccountWeek {
  account: string;
  index: number;
  cumulativeWei: bigint;
  weekWei: bigint;
  vehicles: VehicleEarning[];
  credits: { amountWei: bigint; reason: string }[];
  /** The proven claim arguments of this week's root. */
  claim: ClaimArgs;
}

export interface WeekFile {
  week: number;
  root: string;
  header: WeekHeader;
  json: RangeFile;
  tree: RangeFile;
  /** How the file was checked: its whole bytes against the content hash, or each account by its proof. */
  checkedBy: "content hash" | "proofs";
  /** Accounts already looked up and proven, by lowercase address (a published file never changes). */
  entries: Map<string, Promise<AccountWeek | undefined>>;
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

/** Bytes `[start, end)` of a data file; a server that ignores Range sends the whole file (status 200). */
async function fetchRange(file: string, start: number, end: number): Promise<Fetched> {
  const res = await fetchOk(file, { headers: { Range: `bytes=${start}-${end - 1}` } });
  const bytes = new Uint8Array(await res.arrayBuffer());
  if (res.status !== 206) return { offset: 0, bytes, size: bytes.length };
  const m = /^bytes (\d+)-\d+\/(\d+)$/.exec(res.headers.get("Content-Range") ?? "");
  if (!m) throw new DataError(file, "the server answered a range without a valid Content-Range");
  return { offset: Number(m[1]), bytes, size: Number(m[2]) };
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

async function sha256(bytes: Uint8Array): Promise<string> {
  const d = new Uint8Array(await crypto.subtle.digest("SHA-256", bytes as Uint8Array<ArrayBuffer>));
  return `0x${Array.from(d, (b) => b.toString(16).padStart(2, "0")).join("")}`;
}

/**
 * Week `week`'s distribution files, checked against the `root` and `contentHash` posted on chain with it.
 * Published files never change, so each (week, content hash) is opened once per page load.
 */
const weekCache = new Map<string, Promise<WeekFile>>();
export function loadWeek(week: number, root: string, contentHash: string): Promise<WeekFile> {
  return once(weekCache, `${week}:${contentHash}`, () => openWeek(week, root, contentHash));
}

async function openWeek(week: number, root: string, contentHash: string): Promise<WeekFile> {
  const file = `distributions/week-${week}.json`;
  const first = await fetchRange(file, 0, FIRST_READ);
  const size = first.size!;
  let json: RangeFile;
  let checkedBy: WeekFile["checkedBy"] = "proofs";
  if (first.bytes.length === size || size <= WHOLE_FILE_LIMIT) {
    const bytes = first.bytes.length === size ? first.bytes : new Uint8Array(await (await fetchOk(file)).arrayBuffer());
    const hash = await sha256(bytes);
    if (hash !== contentHash.toLowerCase())
      throw new DataError(file, `its SHA-256 ${hash} is not the content hash ${contentHash} published on chain`);
    json = RangeFile.of(file, bytes);
    checkedBy = "content hash";
  } else {
    json = new RangeFile(file, size, (start, end) => fetchRange(file, start, end));
    json.store(first);
  }
  let header: WeekHeader;
  try {
    header = await readWeekHeader(json);
  } catch (e) {
    throw new DataError(file, (e as Error).message);
  }
  if (header.week !== week) throw new DataError(file, `week: expected ${week}, got ${header.week}`);
  if (header.root !== root)
    throw new DataError(file, `root: ${header.root} is not the root ${root} published on chain`);
  if (header.cachedLayer.nodes.length > 0 && cachedLayerRoot(header.cachedLayer.nodes) !== root)
    throw new DataError(file, "cachedLayer: its nodes do not hash to the root published on chain");
  const treeFile = `distributions/${header.tree.file}`;
  const treeSize = TREE_HEADER_BYTES + 32 * layerSizes(header.tree.leafCount).reduce((a, b) => a + b, 0);
  const tree = new RangeFile(treeFile, treeSize, (start, end) => fetchRange(treeFile, start, end));
  return { week, root, header, json, tree, checkedBy, entries: new Map() };
}

/**
 * The account's entry of a week with its proven claim arguments, or undefined when the file has no line for
 * it (it earned nothing through that week). Looked up and proven once per file and account.
 */
export function accountWeek(w: WeekFile, account: string): Promise<AccountWeek | undefined> {
  return once(w.entries, account.toLowerCase(), () => lookUp(w, account));
}

async function lookUp(w: WeekFile, account: string): Promise<AccountWeek | undefined> {
  let a: Record<string, unknown> | undefined;
  try {
    a = await findAccountLine(w.json, w.header.accountsStart, account);
  } catch (e) {
    throw new DataError(w.json.name, (e as Error).message);
  }
  if (!a) return undefined;
  const where = `accounts[${String(a.index)}]`;
  let entry: Omit<AccountWeek, "claim">;
  try {
    const raw = a as unknown as {
      account: string;
      index: number;
      cumulativeWei: string;
      weekWei: string;
      vehicles: {
        vehicleId: string;
        core: string;
        green: string;
        points: unknown;
        referral?: { role: string; amountWei: string };
      }[];
      credits?: { amountWei: string; reason: string }[];
    };
    entry = {
      account: getAddress(raw.account),
      index: raw.index,
      cumulativeWei: BigInt(raw.cumulativeWei),
      weekWei: BigInt(raw.weekWei),
      vehicles: raw.vehicles.map((v, i) => ({
        vehicleId: v.vehicleId,
        core: BigInt(v.core),
        green: BigInt(v.green),
        points: readPoints(
          v.points,
          (k) =>
            new Error(
              `vehicles[${i}].points.${k}: expected a non-negative integer, got ${JSON.stringify((v.points as Record<string, unknown> | undefined)?.[k])}`,
            ),
        ),
        referral: v.referral && {
          role: v.referral.role as "referrer" | "driver",
          amountWei: BigInt(v.referral.amountWei),
        },
      })),
      credits: (raw.credits ?? []).map((c) => ({ amountWei: BigInt(c.amountWei), reason: c.reason })),
    };
  } catch (e) {
    throw new DataError(w.json.name, `${where}: ${(e as Error).message}`);
  }
  let claim: ClaimArgs;
  try {
    const p = await proveEntry(w.tree, w.header, entry.account, entry.cumulativeWei, entry.index);
    claim = { cumulativeWei: entry.cumulativeWei, ...p };
  } catch (e) {
    throw new DataError(
      w.json.name,
      `${where} is not committed to by the root published on chain (${(e as Error).message})`,
    );
  }
  return { ...entry, claim };
}
