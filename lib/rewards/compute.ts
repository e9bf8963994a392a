/**
 * The whole weekly rewards pipeline as one function over parsed inputs: streaks → points → pool allocation
 * → referrals → credits → cumulative per-account amounts → Merkle tree. `computeAmounts` and `computeWeek`
 * do no I/O: the caller reads the inputs (registry snapshot, activity CSV, policy, previous distribution,
 * referral budget, credits) and writes the result with `writeDistribution`. `computeAndWriteWeek` is the
 * same computation for big weeks: it hashes the tree in a worker thread while this thread streams the JSON
 * (a million vehicles: about 6 s and 0.8 GB instead of 8 s), with byte-identical files.
 *
 * Week N's inputs:
 *  - the registry snapshot at the end of week N (one row per vehicle: owner, powertrain, connections);
 *  - the activity rows of week N (every row's vehicle must be in the snapshot; a snapshot vehicle without
 *    a row, a vehicle only known from earlier weeks, or a vehicle without a connection in the snapshot
 *    (no paired device, no integration) had an inactive week — docs/rewards-spec.md, "Eligibility");
 *  - the policy; the previous distribution (week N − 1, same chain and network; none for week 0);
 *  - `referralBudgetWei`: all DIMO the DAO has funded for referrals so far;
 *  - optional extra credits `{account, amountWei, reason}` (e.g. slashing compensation), added as they are.
 *
 * Amounts (see allocation.ts, referrals.ts, points.ts for the rules):
 *  - issuance(N) = `amountOfWeek(schedule, N)` split into the core and green pools; each pool is paid pro rata
 *    to points with its remainder carried to next week, so per pool `Σ paid + carryOut == share + carryIn`;
 *  - each earning vehicle's amounts go to its end-of-week owner; referral payouts come from the referral
 *    budget, not from issuance; credits come from wherever the caller funded them;
 *  - per account `cumulativeWei = previous cumulativeWei + weekWei`; every account of the previous file stays
 *    (amounts only grow), so `cumulativeTotal(N) = cumulativeTotal(N − 1) + Σ weekWei`.
 * Vehicles listed under an account are those with points this week (plus referral-only entries). An
 * account is spelled as in the previous file, else as its first contribution this week (snapshot owners are
 * checksummed by the snapshot parser; only the 0x-hex format is re-checked here, a checksum per owner would
 * cost seconds at a million vehicles); accounts are keyed and ordered by lowercase address.
 * Determinism: everything is ordered by vehicle id or lowercase address, never by Map insertion order of
 * unordered input, and the output holds no time or path.
 *
 * Implementation notes for a million vehicles: the snapshot, the activity rows and the previous vehicle
 * states are merge-joined in id order (no per-vehicle map); accounts are grouped by sorting every
 * contribution's address prefix in one Float64Array (`addressOrder`), not through a map of strings; points
 * breakdowns are interned (a few thousand distinct ones); arrays are pushed, never `new Array(n)`.
 */
import { InputError } from "../errors";
import { amountOfWeek } from "../issuance";
import {
  canonicalVehicleId,
  compareVehicleIds,
  isAddressFormat,
  parseAddress,
  type ActivityRow,
  type SnapshotVehicle,
} from "./activity";
import { allocatePool, splitIssuance } from "./allocation";
import {
  DISTRIBUTION_SCHEMA,
  withTree,
  writeDistributionWhileHashing,
  type AccountEntry,
  type Distribution,
  type InputFileHash,
  type VehicleEarning,
  type VehiclePointsBreakdown,
  type VehicleState,
  type WeekAmounts,
} from "./distribution";
import { buildTree, buildTreeInWorker, type MerkleLayers } from "./merkle";
import { advanceStreak, NEW_STREAK, vehiclePoints } from "./points";
import { policyHash, POWERTRAINS, type RewardsPolicy } from "./policy";
import {
  payReferrals,
  recordReferral,
  type ReferralPayout,
  type RejectedReferral,
  type VehicleReferral,
} from "./referrals";

export interface Credit {
  account: string;
  amountWei: bigint;
  reason: string;
}

export interface WeekInputs {
  chainId: number;
  network: string;
  week: number;
  policy: RewardsPolicy;
  snapshot: readonly SnapshotVehicle[];
  activity: readonly ActivityRow[];
  previous: Distribution | null;
  referralBudgetWei: bigint;
  credits?: readonly Credit[];
  /** SHA-256 of each input file, recorded in the output (names of your choice, e.g. "activity"). */
  inputFiles?: Record<string, InputFileHash>;
  /** Names of the inputs for error messages. */
  sources?: { snapshot?: string; activity?: string; previous?: string; credits?: string; budget?: string };
}

export interface WeekResult {
  distribution: Distribution;
  tree: MerkleLayers;
}

const NETWORK_RE = /^[A-Za-z0-9_-]+$/;
const POWERTRAIN_SET: ReadonlySet<string> = new Set(POWERTRAINS);
const ZERO_POINTS: VehiclePointsBreakdown = Object.freeze({ connection: 0, streak: 0, dataTypes: 0, green: 0 });

export { withTree, type WeekAmounts };

/** Computes week `inputs.week`'s distribution and its tree (in memory). */
export async function computeWeek(inputs: WeekInputs): Promise<WeekResult> {
  const amounts = computeAmounts(inputs);
  const tree = await buildTree(amounts.accounts);
  return { distribution: withTree(amounts, tree), tree };
}

/**
 * Computes week `inputs.week` and writes its files into `dir`, hashing the tree in a worker thread while
 * this thread writes the JSON (same bytes as `computeWeek` + `writeDistribution`). Small trees (under
 * `workerFrom` accounts, default 50,000) are hashed on this thread.
 */
export async function computeAndWriteWeek(
  inputs: WeekInputs,
  dir: string,
  options: { workerFrom?: number; onStage?: (stage: "amounts" | "files") => void } = {},
): Promise<WeekResult & { jsonPath: string; treePath: string; contentHash: string }> {
  const amounts = computeAmounts(inputs);
  options.onStage?.("amounts");
  const tree =
    amounts.accounts.length >= (options.workerFrom ?? 50_000)
      ? buildTreeInWorker(amounts.accounts)
      : buildTree(amounts.accounts);
  const written = await writeDistributionWhileHashing(dir, amounts, tree);
  options.onStage?.("files");
  return written;
}

/**
 * The amounts of week `inputs.week` (every step but the tree): accounts sorted by lowercase address with
 * their cumulative amounts, vehicle states, pools, referrals, credits and totals.
 */
export function computeAmounts(inputs: WeekInputs): WeekAmounts {
  const { chainId, network, week, policy, previous } = inputs;
  const src = {
    snapshot: inputs.sources?.snapshot ?? "snapshot",
    activity: inputs.sources?.activity ?? "activity",
    previous: inputs.sources?.previous ?? previous?.source ?? "previous distribution",
    credits: inputs.sources?.credits ?? "credits",
    budget: inputs.sources?.budget ?? "referral budget",
  };
  if (!Number.isSafeInteger(chainId) || chainId <= 0) throw new RangeError(`bad chain id ${chainId}`);
  if (!NETWORK_RE.test(network)) throw new RangeError(`bad network name "${network}"`);
  if (!Number.isSafeInteger(week) || week < 0) throw new RangeError(`bad week ${week}`);
  checkPrevious(previous, { chainId, network, week }, src.previous);

  // 1. Snapshot, in vehicle-id order.
  const snapshot = inputs.snapshot;
  // (arrays are pushed, never `new Array(n)`: V8 makes a large one a slow dictionary-mode array)
  const ids: string[] = [];
  for (let i = 0; i < snapshot.length; i++) {
    const v = snapshot[i];
    const id = canonicalVehicleId(v.vehicleId);
    if (id === null)
      throw new InputError(src.snapshot, `vehicles[${i}].vehicleId`, `not a positive integer: ${v.vehicleId}`);
    if (!isAddressFormat(v.owner))
      throw new InputError(src.snapshot, `vehicles[${i}].owner`, `not a 0x address: "${v.owner}"`);
    if (!POWERTRAIN_SET.has(v.powertrain))
      throw new InputError(src.snapshot, `vehicles[${i}].powertrain`, `unknown powertrain "${v.powertrain}"`);
    ids.push(id);
  }
  const sortedSnapshot = sortedOrder(ids.length, (i) => ids[i]);
  const order = (k: number) => (sortedSnapshot ? sortedSnapshot[k] : k);
  for (let k = 1; k < ids.length; k++) {
    if (ids[order(k)] === ids[order(k - 1)])
      throw new InputError(src.snapshot, `vehicles[${order(k)}].vehicleId`, `duplicate vehicle ${ids[order(k)]}`);
  }

  // 2. Activity rows in vehicle-id order (merge-joined with the snapshot below: no per-vehicle map).
  const activity = inputs.activity;
  const sortedRows = sortedOrder(activity.length, (i) => activity[i].vehicleId);
  const rowOrder = (k: number) => (sortedRows ? sortedRows[k] : k);
  for (let k = 1; k < activity.length; k++) {
    const r = activity[rowOrder(k)];
    if (r.vehicleId === activity[rowOrder(k - 1)].vehicleId)
      throw new InputError(src.activity, "vehicle_id", `duplicate row for vehicle ${r.vehicleId}`, r.line);
  }

  // 3. Every vehicle (snapshot ∪ previous), in id order: streaks, points, referral records.
  const required = policy.referral.requiredStreak;
  const prevVehicles = previous?.vehicles ?? [];
  const states: VehicleState[] = [];
  const earnSnap = new Int32Array(snapshot.length); // snapshot index of each earning vehicle
  const earnPoints: VehiclePointsBreakdown[] = [];
  const corePoints = new Float64Array(snapshot.length);
  const greenPoints = new Float64Array(snapshot.length);
  const pointsCache: PointsCache = new Map();
  let earnCount = 0;
  const rejected: RejectedReferral[] = [];
  const due: ReferralPayout[] = [];
  let a = 0; // position in `order` (snapshot)
  let b = 0; // position in `prevVehicles`
  let r = 0; // position in `rowOrder` (activity)
  while (a < ids.length || b < prevVehicles.length) {
    const c =
      a >= ids.length ? 1 : b >= prevVehicles.length ? -1 : compareVehicleIds(ids[order(a)], prevVehicles[b].vehicleId);
    const si = c <= 0 ? order(a++) : -1;
    const prev = c >= 0 ? prevVehicles[b++] : undefined;
    const vehicleId = si >= 0 ? ids[si] : prev!.vehicleId;
    let row: ActivityRow | undefined;
    if (si >= 0 && r < activity.length) {
      const next = activity[rowOrder(r)];
      const cmp = compareVehicleIds(next.vehicleId, vehicleId);
      if (cmp < 0) throw unknownVehicle(next, src.activity);
      if (cmp === 0) {
        row = next;
        r++;
      }
    }
    const snap = si >= 0 ? snapshot[si] : undefined;
    const before = prev ?? NEW_STREAK;
    let referral: VehicleReferral | undefined = prev?.referral;
    if (row?.referralCode && snap) {
      const rec = recordReferral(
        referral,
        { vehicleId, referrer: row.referralCode, owner: snap.owner, bestStreakBefore: before.best, week },
        required,
      );
      referral = rec.referral;
      if (rec.rejected) rejected.push(rec.rejected);
    }
    // Eligibility: only a vehicle with a connection at the snapshot (a paired device, or a connection of an
    // integration holding its role) can have an active week; an `active` row without one counts as inactive.
    const active = snap !== undefined && row !== undefined && row.active && isConnected(snap);
    const st = advanceStreak(before, active, policy);
    if (active) {
      const p = vehiclePoints(snap, row, st.streak, policy);
      if (p.core > 0 || p.green > 0) {
        const shared = internPoints(pointsCache, p.connection, p.streak, p.dataTypes, p.green);
        earnSnap[earnCount] = si;
        earnPoints.push(shared);
        corePoints[earnCount] = p.core;
        greenPoints[earnCount] = p.green;
        earnCount++;
      }
      if (referral?.status === "recorded" && st.streak >= required) {
        if (referral.referrer.toLowerCase() === snap.owner.toLowerCase()) {
          referral = { ...referral, status: "rejected", reason: "self-referral" };
          rejected.push({ vehicleId, referrer: referral.referrer, owner: snap.owner, reason: "self-referral" });
        } else {
          referral = { ...referral, status: "pending" };
          due.push({
            vehicleId,
            referrer: referral.referrer,
            driver: snap.owner,
            amountPerSideWei: policy.referral.rewardPerSideWei,
            dueWeek: week,
          });
        }
      }
    }
    const state: VehicleState = { vehicleId, streak: st.streak, missed: st.missed, best: st.best };
    if (referral) state.referral = referral;
    states.push(state);
  }
  if (r < activity.length) throw unknownVehicle(activity[rowOrder(r)], src.activity);

  // 4. Pools.
  const issuanceWei = amountOfWeek(policy.schedule, week);
  const { coreWei, greenWei } = splitIssuance(issuanceWei, policy.coreBps);
  const core = allocatePool(coreWei, previous?.pools.core.carryOutWei ?? 0n, corePoints.subarray(0, earnCount));
  const green = allocatePool(greenWei, previous?.pools.green.carryOutWei ?? 0n, greenPoints.subarray(0, earnCount));

  // 5. Referral payouts from the budget.
  const pay = payReferrals({
    pending: previous?.referrals.pending ?? [],
    due,
    budgetWei: inputs.referralBudgetWei,
    paidTotalBeforeWei: previous?.referrals.paidTotalWei ?? 0n,
    budgetSource: src.budget,
  });
  for (const p of pay.paid) {
    const s = states[findState(states, p.vehicleId)];
    s.referral = { ...s.referral!, status: "paid" };
  }

  // 6. Accounts. Every "contribution" to an account — a previous account (its cumulative amount), an
  //    earning vehicle, a referral payout side, a credit — is sorted by lowercase address (ties in
  //    contribution order, so vehicles stay in id order); each run of one address becomes one account,
  //    created in file order. No map from address to account, and no string sort.
  const prevAccounts = previous?.accounts ?? [];
  const credits = inputs.credits ?? [];
  const creditAccounts = credits.map((c, i) => {
    const account = typeof c.account === "string" ? parseAddress(c.account) : null;
    if (account === null)
      throw new InputError(src.credits, `credits[${i}].account`, `not a 0x address: "${c.account}"`);
    if (typeof c.amountWei !== "bigint" || c.amountWei <= 0n)
      throw new InputError(src.credits, `credits[${i}].amountWei`, `must be a positive amount, got ${c.amountWei}`);
    if (typeof c.reason !== "string" || c.reason.trim() === "" || c.reason.length > 200)
      throw new InputError(src.credits, `credits[${i}].reason`, "must be a non-empty text of at most 200 characters");
    return account;
  });
  const firstEarner = prevAccounts.length;
  const firstReferral = firstEarner + earnCount;
  const firstCredit = firstReferral + 2 * pay.paid.length;
  const addressOfContribution: string[] = [];
  for (const a of prevAccounts) addressOfContribution.push(a.account);
  for (let k = 0; k < earnCount; k++) addressOfContribution.push(snapshot[earnSnap[k]].owner);
  for (const p of pay.paid) addressOfContribution.push(p.referrer, p.driver);
  for (const a of creditAccounts) addressOfContribution.push(a);
  const byAddress = addressOrder(addressOfContribution);

  const sorted: AccountEntry[] = [];
  const scratch: VehicleEarning[] = [];
  const EMPTY: VehicleEarning[] = [];
  let weekTotal = 0n;
  let cumulativeTotal = 0n;
  let creditsWei = 0n;
  let earningVehicles = 0;
  for (let start = 0; start < byAddress.length;) {
    let end = start + 1;
    while (end < byAddress.length && sameAddress(addressOfContribution, byAddress[end - 1], byAddress[end])) end++;
    const first = byAddress[start];
    const vehicles = scratch;
    vehicles.length = 0;
    const entry: AccountEntry = {
      account: addressOfContribution[first],
      index: sorted.length,
      cumulativeWei: first < firstEarner ? prevAccounts[first].cumulativeWei : 0n,
      weekWei: 0n,
      vehicles: EMPTY, // replaced below by an exactly sized copy of `scratch`
    };
    if (start + 1 < end && byAddress[start + 1] < firstEarner)
      throw new InputError(src.previous, "accounts", `lists ${entry.account} twice`);
    let weekWei = 0n;
    for (let j = start; j < end; j++) {
      const c = byAddress[j];
      if (c < firstEarner) continue;
      if (c < firstReferral) {
        const k = c - firstEarner;
        const coreAmount = core.amounts[k];
        const greenAmount = green.amounts[k];
        vehicles.push({ vehicleId: ids[earnSnap[k]], core: coreAmount, green: greenAmount, points: earnPoints[k] });
        weekWei += coreAmount + greenAmount;
        if (coreAmount !== 0n || greenAmount !== 0n) earningVehicles++;
      } else if (c < firstCredit) {
        const p = pay.paid[(c - firstReferral) >> 1];
        const role = (c - firstReferral) & 1 ? "driver" : "referrer";
        let v = vehicles.find((x) => x.vehicleId === p.vehicleId);
        if (!v) {
          v = { vehicleId: p.vehicleId, core: 0n, green: 0n, points: ZERO_POINTS };
          vehicles.push(v);
          if (p.amountPerSideWei !== 0n) earningVehicles++;
        }
        v.referral = { role, amountWei: p.amountPerSideWei };
        weekWei += p.amountPerSideWei;
      } else {
        const credit = credits[c - firstCredit];
        (entry.credits ??= []).push({ amountWei: credit.amountWei, reason: credit.reason });
        weekWei += credit.amountWei;
        creditsWei += credit.amountWei;
      }
    }
    if (vehicles.length > 1 && !isSortedById(vehicles))
      vehicles.sort((x, y) => compareVehicleIds(x.vehicleId, y.vehicleId));
    entry.vehicles = vehicles.length === 0 ? [] : vehicles.slice(); // a pushed array keeps 16+ spare slots
    entry.weekWei = weekWei;
    if (weekWei !== 0n) entry.cumulativeWei = entry.cumulativeWei === 0n ? weekWei : entry.cumulativeWei + weekWei;
    weekTotal += weekWei;
    cumulativeTotal += entry.cumulativeWei;
    sorted.push(entry);
    start = end;
  }
  if (sorted.length === 0) {
    throw new InputError(
      src.activity,
      "(rows)",
      `week ${week} has no account to pay (no vehicle earned points and no previous file)`,
    );
  }

  // The books must balance, to the wei.
  const expectedWeek = core.totals.paidWei + green.totals.paidWei + pay.paidThisWeekWei + creditsWei;
  const previousTotal = previous?.cumulativeTotalWei ?? 0n;
  if (weekTotal !== expectedWeek || cumulativeTotal !== previousTotal + weekTotal)
    throw new Error(`internal error: totals do not balance (${weekTotal} vs ${expectedWeek})`);

  return {
    schema: DISTRIBUTION_SCHEMA,
    chainId,
    network,
    week,
    cumulativeTotalWei: cumulativeTotal,
    policyHash: policyHash(policy),
    inputs: { ...(inputs.inputFiles ?? {}) },
    previous: previous && { week: previous.week, root: previous.root, cumulativeTotalWei: previous.cumulativeTotalWei },
    issuance: { weekWei: issuanceWei, coreWei, greenWei },
    pools: { core: core.totals, green: green.totals },
    referrals: {
      budgetWei: inputs.referralBudgetWei,
      paidTotalWei: pay.paidTotalWei,
      paidThisWeekWei: pay.paidThisWeekWei,
      paid: pay.paid,
      pending: pay.pending,
      rejected,
    },
    credits: { count: inputs.credits?.length ?? 0, totalWei: creditsWei },
    totals: { weekWei: weekTotal, accounts: sorted.length, vehicles: states.length, earningVehicles },
    accounts: sorted,
    vehicles: states,
  };
}

/** Refuses a previous distribution that is not week N − 1 of the same chain and network. */
export function checkPrevious(
  previous: Distribution | null,
  run: { chainId: number; network: string; week: number },
  source: string,
): void {
  if (previous === null) {
    if (run.week !== 0)
      throw new InputError(
        source,
        "week",
        `week ${run.week} needs the distribution of week ${run.week - 1} (none given)`,
      );
    return;
  }
  if (previous.chainId !== run.chainId)
    throw new InputError(source, "chainId", `is ${previous.chainId} but this run is for chain ${run.chainId}`);
  if (previous.network !== run.network)
    throw new InputError(source, "network", `is "${previous.network}" but this run is for "${run.network}"`);
  if (previous.week !== run.week - 1)
    throw new InputError(
      source,
      "week",
      run.week === 0
        ? `week 0 has no previous week, got week ${previous.week}`
        : `is ${previous.week}, expected ${run.week - 1}`,
    );
}

/** Indices in ascending id order of `n` items, or null when they already are in order (the common case). */
function sortedOrder(n: number, idAt: (i: number) => string): Uint32Array | null {
  let sorted = true;
  for (let i = 1; i < n && sorted; i++) if (compareVehicleIds(idAt(i - 1), idAt(i)) > 0) sorted = false;
  if (sorted) return null;
  const order = Array.from({ length: n }, (_, i) => i);
  order.sort((x, y) => compareVehicleIds(idAt(x), idAt(y)) || x - y);
  return Uint32Array.from(order);
}

function findState(states: readonly VehicleState[], vehicleId: string): number {
  let lo = 0;
  let hi = states.length - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    const c = compareVehicleIds(states[mid].vehicleId, vehicleId);
    if (c === 0) return mid;
    if (c < 0) lo = mid + 1;
    else hi = mid - 1;
  }
  throw new Error(`internal error: no state for vehicle ${vehicleId}`);
}

function isSortedById(list: readonly VehicleEarning[]): boolean {
  for (let i = 1; i < list.length; i++)
    if (compareVehicleIds(list[i - 1].vehicleId, list[i].vehicleId) >= 0) return false;
  return true;
}

/** Whether the vehicle had a connection at the snapshot: a paired device or at least one integration's. */
export function isConnected(v: Pick<SnapshotVehicle, "pairedDevice" | "connectionKinds">): boolean {
  return v.pairedDevice !== null || v.connectionKinds.length > 0;
}

function unknownVehicle(row: ActivityRow, source: string): InputError {
  return new InputError(source, "vehicle_id", `vehicle ${row.vehicleId} is not in the registry snapshot`, row.line);
}

const HEX_DIGIT = new Int8Array(128).fill(-1);
for (let c = 0; c < 16; c++)
  HEX_DIGIT["0123456789abcdef".charCodeAt(c)] = HEX_DIGIT["0123456789ABCDEF".charCodeAt(c)] = c;

/**
 * Indices of `addresses` (0x addresses, any case) in ascending lowercase-address order, ties in index order.
 * Sorts one Float64Array of `prefix × 2^bits + index` (the address's leading bits and the index, exact in
 * 53 bits) natively, then orders the rare runs of equal prefixes by the full lowercase address.
 */
export function addressOrder(addresses: readonly string[]): Uint32Array {
  const n = addresses.length;
  const indexBits = Math.max(1, Math.ceil(Math.log2(n + 1)));
  if (indexBits > 31) throw new RangeError("too many addresses");
  const prefixBits = Math.min(32, 53 - indexBits);
  const scale = 2 ** indexBits;
  const keys = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const a = addresses[i];
    let prefix = 0;
    for (let k = 2; k < 10; k++) {
      const d = HEX_DIGIT[a.charCodeAt(k) & 127];
      if (d < 0 || a.charCodeAt(k) > 127) throw new Error(`not a 0x address: "${a}"`);
      prefix = prefix * 16 + d;
    }
    keys[i] = Math.floor(prefix / 2 ** (32 - prefixBits)) * scale + i;
  }
  keys.sort();
  const order = new Uint32Array(n);
  for (let i = 0; i < n; i++) order[i] = keys[i] % scale;
  for (let start = 0; start < n;) {
    const prefix = Math.floor(keys[start] / scale);
    let end = start + 1;
    while (end < n && Math.floor(keys[end] / scale) === prefix) end++;
    if (end - start > 1) {
      const run = Array.from(order.subarray(start, end));
      const lower = run.map((i) => addresses[i].toLowerCase());
      if (lower.some((l) => l !== lower[0])) {
        const byIndex = new Map(run.map((i, k) => [i, lower[k]]));
        run.sort((x, y) => {
          const a = byIndex.get(x)!;
          const b = byIndex.get(y)!;
          return a < b ? -1 : a > b ? 1 : x - y;
        });
        order.set(run, start);
      }
    }
    start = end;
  }
  return order;
}

/** Whether contributions `i` and `j` name the same address (any case). */
function sameAddress(addresses: readonly string[], i: number, j: number): boolean {
  const a = addresses[i];
  const b = addresses[j];
  return a === b || ((a.charCodeAt(2) | 32) === (b.charCodeAt(2) | 32) && a.toLowerCase() === b.toLowerCase());
}

type PointsCache = Map<number, Map<number, Map<number, Map<number, VehiclePointsBreakdown>>>>;

/** One shared frozen breakdown per distinct points tuple (a few thousand at most instead of one per vehicle). */
function internPoints(cache: PointsCache, connection: number, streak: number, dataTypes: number, green: number) {
  let a = cache.get(connection);
  if (!a) cache.set(connection, (a = new Map()));
  let b = a.get(streak);
  if (!b) a.set(streak, (b = new Map()));
  let c = b.get(dataTypes);
  if (!c) b.set(dataTypes, (c = new Map()));
  let p = c.get(green);
  if (!p) c.set(green, (p = Object.freeze({ connection, streak, dataTypes, green })));
  return p;
}
