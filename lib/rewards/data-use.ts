/**
 * Data-use rewards (docs/rewards-spec.md §15): what consumers paid for their reads in settlement week `w`, split to
 * the drivers whose vehicles' data was read.
 *
 * On chain, DataCredits charges a redeemed receipt in the week of its redemption and `settle(w)` moves the week's
 * charges: a burn share, a treasury share and the drivers' share `toDrivers`, funded into the distributor. Off
 * chain, the node's access log says which vehicle every credit was read from: consumer C's k-th entry in node N's
 * log is read k of channel (C, N), and a receipt redeemed at sequence s after sequence p pays exactly C's entries
 * p+1 … s (their `resultSize`s sum to its credits). Each entry was served under a grant whose `owner` was the
 * vehicle's owner at the time of the read: that account earns the entry's charge.
 *
 * Allocation: owner o charged c_o (Σ c_o = charged) receives ⌊toDrivers · c_o / charged⌋, and the wei left over
 * (fewer than the number of owners) go one each to the owners with the largest remainders
 * (toDrivers · c_o mod charged), ties by ascending lower-case address. The allocations sum to `toDrivers` exactly.
 *
 * The published data-use file (`data-use-week-<w>.json`) holds everything a third party needs to re-derive the
 * allocation: the settlement, every receipt redeemed in the week (as DataCredits' `ReceiptRedeemed` logged it),
 * and per node a disclosure of its access log for the paying consumers (their entries in full, every entry's
 * content hash, the head). `rewards:verify` re-reads the settlement and the receipts from the chain.
 *
 * Pure: no I/O.
 */
import { getAddress } from "ethers";
import { z } from "zod";
import {
  ACCESS_LOG_ENTRY_SCHEMA,
  type AccessLogEntry,
  type Disclosure,
  exportDisclosure,
  type LogHead,
  verifyDisclosure,
} from "../consent/access-log";
import { ConsentError } from "../consent/errors";
import { InputError } from "../errors";
import type { Credit } from "./compute";

export const DATA_USE_KIND = "dimo-data-use" as const;

/** The credit reason of settlement week `w`'s data-use rewards (DataCredits' `fund` reason, as text). */
export function dataUseReason(week: number): string {
  return `data-use:${week}`;
}

/** `data-use:<w>` → w, or undefined for another reason. */
export function dataUseWeekOf(reason: string): number | undefined {
  const m = /^data-use:(0|[1-9]\d*)$/.exec(reason);
  return m === null ? undefined : Number(m[1]);
}

/** A week's `WeekSettled`. */
export interface Settlement {
  charged: bigint;
  burned: bigint;
  toTreasury: bigint;
  toDrivers: bigint;
  block: number;
  txHash: string;
}

/** One `ReceiptRedeemed` of the week, with the channel's sequence before it (0 for the channel's first redeem). */
export interface RedeemedReceipt {
  consumer: string;
  node: string;
  previousSequence: number;
  sequence: number;
  cumulativeCredits: bigint;
  credits: bigint;
  pricePerCredit: bigint;
  charge: bigint;
  block: number;
  logIndex: number;
  txHash: string;
}

export interface NodeDisclosure extends Disclosure {
  node: string;
}

export interface Allocation {
  account: string;
  /** What the reads of this owner's vehicles were charged, in wei. */
  chargedWei: bigint;
  /** Its share of `toDrivers`, in wei. */
  amountWei: bigint;
}

export interface DataUseFile {
  kind: typeof DATA_USE_KIND;
  version: 1;
  chainId: number;
  dataCredits: string;
  week: number;
  settlement: Settlement;
  /** By (block, logIndex). */
  receipts: RedeemedReceipt[];
  /** By ascending lower-case node address. */
  disclosures: NodeDisclosure[];
  /** By ascending lower-case account; Σ amountWei = settlement.toDrivers. */
  allocations: Allocation[];
}

/** A data-use file that does not hold together; `field` names where. */
export class DataUseError extends Error {
  constructor(
    readonly field: string,
    readonly problem: string,
  ) {
    super(`${field}: ${problem}`);
    this.name = "DataUseError";
  }
}

const byLower = (a: string, b: string) =>
  a.toLowerCase() < b.toLowerCase() ? -1 : a.toLowerCase() > b.toLowerCase() ? 1 : 0;

/** DataCredits.settle's split of a week's `charged` (burn and treasury floored, the drivers take the rest). */
export function settlementSplit(
  charged: bigint,
  burnBps: bigint,
  treasuryBps: bigint,
): { burned: bigint; toTreasury: bigint; toDrivers: bigint } {
  const burned = (charged * burnBps) / 10_000n;
  const toTreasury = (charged * treasuryBps) / 10_000n;
  return { burned, toTreasury, toDrivers: charged - burned - toTreasury };
}

/**
 * The drivers' share of `toDrivers` given each owner's charges (largest remainder, ties by lower-case address).
 * Owners with a zero share are left out. `charges` must sum to `charged`.
 */
export function allocateDataUse(toDrivers: bigint, charges: ReadonlyMap<string, bigint>): Allocation[] {
  const owners = [...charges.entries()].filter(([, c]) => c > 0n).sort(([a], [b]) => byLower(a, b));
  const charged = owners.reduce((s, [, c]) => s + c, 0n);
  if (charged === 0n) {
    if (toDrivers !== 0n) throw new DataUseError("settlement.toDrivers", `${toDrivers} wei to pay but no charge`);
    return [];
  }
  if (toDrivers > charged) {
    throw new DataUseError("settlement.toDrivers", `${toDrivers} wei is more than the ${charged} wei charged`);
  }
  const rows = owners.map(([account, c]) => ({
    account,
    chargedWei: c,
    amountWei: (toDrivers * c) / charged,
    rest: (toDrivers * c) % charged,
  }));
  let left = toDrivers - rows.reduce((s, r) => s + r.amountWei, 0n);
  const order = [...rows].sort((a, b) =>
    a.rest !== b.rest ? (a.rest > b.rest ? -1 : 1) : byLower(a.account, b.account),
  );
  for (const r of order) {
    if (left === 0n) break;
    r.amountWei += 1n;
    left -= 1n;
  }
  return rows
    .filter((r) => r.amountWei > 0n)
    .map(({ account, chargedWei, amountWei }) => ({ account, chargedWei, amountWei }));
}

/**
 * Re-derives the allocation from a data-use file's settlement, receipts and disclosures (not from its
 * `allocations`, which `checkDataUse` compares). Throws a DataUseError naming the field of the first problem.
 */
export function deriveDataUse(f: Omit<DataUseFile, "allocations">): Allocation[] {
  const s = f.settlement;
  if (s.burned + s.toTreasury + s.toDrivers !== s.charged) {
    throw new DataUseError("settlement", `burned + toTreasury + toDrivers is not charged (${s.charged} wei)`);
  }
  const disclosed = new Map<string, Map<string, AccessLogEntry[]>>(); // node → consumer → entries in log order
  f.disclosures.forEach((d, i) => {
    const node = d.node.toLowerCase();
    if (disclosed.has(node)) throw new DataUseError(`disclosures[${i}].node`, `${d.node} is disclosed twice`);
    try {
      verifyDisclosure(d);
    } catch (e) {
      if (e instanceof ConsentError) throw new DataUseError(`disclosures[${i}]`, e.message);
      throw e;
    }
    const byConsumer = new Map<string, AccessLogEntry[]>(d.consumers.map((c) => [c.toLowerCase(), []]));
    for (const e of d.entries) byConsumer.get(e.consumer.toLowerCase())!.push(e);
    disclosed.set(node, byConsumer);
  });
  const charges = new Map<string, bigint>();
  const lastSequence = new Map<string, { sequence: number; cumulative: bigint }>();
  let total = 0n;
  f.receipts.forEach((r, i) => {
    const at = `receipts[${i}]`;
    const entries = disclosed.get(r.node.toLowerCase())?.get(r.consumer.toLowerCase());
    if (entries === undefined) {
      throw new DataUseError(`${at}`, `no disclosure of node ${r.node}'s log for consumer ${r.consumer}`);
    }
    if (r.credits * r.pricePerCredit !== r.charge) {
      throw new DataUseError(`${at}.charge`, `${r.charge} wei is not credits × pricePerCredit`);
    }
    if (r.sequence <= r.previousSequence) {
      throw new DataUseError(`${at}.sequence`, `${r.sequence} is not above previousSequence ${r.previousSequence}`);
    }
    const channel = `${r.consumer.toLowerCase()}:${r.node.toLowerCase()}`;
    const before = lastSequence.get(channel);
    if (before !== undefined && before.sequence !== r.previousSequence) {
      throw new DataUseError(
        `${at}.previousSequence`,
        `${r.previousSequence}, but the channel's receipt before it in this file is at sequence ${before.sequence}`,
      );
    }
    if (entries.length < r.sequence) {
      throw new DataUseError(
        `${at}.sequence`,
        `read ${r.sequence} of ${r.consumer} is not in node ${r.node}'s disclosed log (${entries.length} reads)`,
      );
    }
    let prefix = 0n;
    for (let k = 0; k < r.previousSequence; k++) prefix += BigInt(entries[k].resultSize);
    if (prefix !== r.cumulativeCredits - r.credits) {
      throw new DataUseError(
        `${at}.credits`,
        `the reads before ${r.previousSequence + 1} make ${prefix} credits, the receipt starts after ${r.cumulativeCredits - r.credits}`,
      );
    }
    let paid = 0n;
    for (let k = r.previousSequence; k < r.sequence; k++) {
      const e = entries[k];
      const size = BigInt(e.resultSize);
      paid += size;
      if (size === 0n) continue;
      const owner = getAddress(e.grant.owner);
      charges.set(owner, (charges.get(owner) ?? 0n) + size * r.pricePerCredit);
    }
    if (paid !== r.credits) {
      throw new DataUseError(
        `${at}.credits`,
        `reads ${r.previousSequence + 1}…${r.sequence} of ${r.consumer} hold ${paid} credits, the receipt charges ${r.credits}`,
      );
    }
    lastSequence.set(channel, { sequence: r.sequence, cumulative: r.cumulativeCredits });
    total += r.charge;
  });
  if (total !== s.charged) {
    throw new DataUseError("settlement.charged", `${s.charged} wei, but the week's receipts charge ${total} wei`);
  }
  return allocateDataUse(s.toDrivers, charges);
}

/** A `ReceiptRedeemed` log of DataCredits, decoded, with where it is. */
export interface RedeemedLog {
  consumer: string;
  node: string;
  week: number;
  sequence: number;
  cumulativeCredits: bigint;
  credits: bigint;
  pricePerCredit: bigint;
  charge: bigint;
  block: number;
  logIndex: number;
  txHash: string;
}

/**
 * The receipts redeemed in settlement week `week`, from every `ReceiptRedeemed` up to then (any week, in chain
 * order): each with the sequence its channel had before it.
 */
export function receiptsOfWeek(logs: readonly RedeemedLog[], week: number): RedeemedReceipt[] {
  const sorted = [...logs].sort((a, b) => a.block - b.block || a.logIndex - b.logIndex);
  const last = new Map<string, number>();
  const out: RedeemedReceipt[] = [];
  for (const l of sorted) {
    const channel = `${l.consumer.toLowerCase()}:${l.node.toLowerCase()}`;
    const previousSequence = last.get(channel) ?? 0;
    last.set(channel, l.sequence);
    if (l.week !== week) continue;
    out.push({
      consumer: getAddress(l.consumer),
      node: getAddress(l.node),
      previousSequence,
      sequence: l.sequence,
      cumulativeCredits: l.cumulativeCredits,
      credits: l.credits,
      pricePerCredit: l.pricePerCredit,
      charge: l.charge,
      block: l.block,
      logIndex: l.logIndex,
      txHash: l.txHash,
    });
  }
  return out;
}

/**
 * Builds settlement week `week`'s data-use file: its receipts, the disclosure of each redeeming node's log (given
 * in `logs`, by node address; verified, and against `heads` when given) for the consumers it was paid by, and the
 * allocation they give. Throws a DataUseError when a node's log is missing or does not back its receipts.
 */
export function buildDataUseFile(args: {
  chainId: number;
  dataCredits: string;
  week: number;
  settlement: Settlement;
  receipts: readonly RedeemedReceipt[];
  logs: ReadonlyMap<string, readonly AccessLogEntry[]>;
  heads?: ReadonlyMap<string, LogHead>;
}): DataUseFile {
  const logs = new Map([...args.logs].map(([n, l]) => [n.toLowerCase(), l]));
  const heads = new Map([...(args.heads ?? new Map<string, LogHead>())].map(([n, h]) => [n.toLowerCase(), h]));
  const consumersOf = new Map<string, { node: string; consumers: Set<string> }>();
  for (const r of args.receipts) {
    const key = r.node.toLowerCase();
    if (!consumersOf.has(key)) consumersOf.set(key, { node: getAddress(r.node), consumers: new Set() });
    consumersOf.get(key)!.consumers.add(getAddress(r.consumer));
  }
  const disclosures: NodeDisclosure[] = [];
  for (const [key, { node, consumers }] of [...consumersOf].sort(([a], [b]) => byLower(a, b))) {
    const log = logs.get(key);
    if (log === undefined)
      throw new DataUseError("logs", `node ${node} redeemed receipts in week ${args.week}: its access log is needed`);
    try {
      disclosures.push({ node, ...exportDisclosure(log, [...consumers], heads.get(key)) });
    } catch (e) {
      if (e instanceof ConsentError) throw new DataUseError(`logs[${node}]`, e.message);
      throw e;
    }
  }
  const base = {
    kind: DATA_USE_KIND,
    version: 1 as const,
    chainId: args.chainId,
    dataCredits: getAddress(args.dataCredits),
    week: args.week,
    settlement: args.settlement,
    receipts: [...args.receipts],
    disclosures,
  };
  return { ...base, allocations: deriveDataUse(base) };
}

/** The allocations as credits of reason `data-use:<week>` (one per account). */
export function dataUseCredits(f: DataUseFile): Credit[] {
  return f.allocations.map((a) => ({ account: a.account, amountWei: a.amountWei, reason: dataUseReason(f.week) }));
}

// ------------------------------------------------------------------------------------------------- the file

const address = z.string().regex(/^0x[0-9a-fA-F]{40}$/, "not an address");
const hash = z.string().regex(/^0x[0-9a-f]{64}$/, "not a 0x-prefixed lower-case 32-byte hash");
const wei = z.string().regex(/^(0|[1-9][0-9]*)$/, "not a decimal integer (wei)");
const count = z.number().int().min(0).max(Number.MAX_SAFE_INTEGER);

const FILE_SCHEMA = z
  .object({
    kind: z.literal(DATA_USE_KIND),
    version: z.literal(1),
    chainId: count,
    dataCredits: address,
    week: count,
    settlement: z
      .object({ charged: wei, burned: wei, toTreasury: wei, toDrivers: wei, block: count, txHash: hash })
      .strict(),
    receipts: z.array(
      z
        .object({
          consumer: address,
          node: address,
          previousSequence: count,
          sequence: count,
          cumulativeCredits: wei,
          credits: wei,
          pricePerCredit: wei,
          charge: wei,
          block: count,
          logIndex: count,
          txHash: hash,
        })
        .strict(),
    ),
    disclosures: z.array(
      z
        .object({
          node: address,
          head: z.object({ count, hash }).strict(),
          consumers: z.array(address),
          entries: z.array(ACCESS_LOG_ENTRY_SCHEMA),
          contentHashes: z.array(hash),
        })
        .strict(),
    ),
    allocations: z.array(z.object({ account: address, chargedWei: wei, amountWei: wei }).strict()),
  })
  .strict();

/**
 * Parses a data-use file and checks that it holds together: its allocations are what its settlement, receipts
 * and disclosures give. Throws an InputError naming the file and the field.
 */
export function parseDataUseFile(text: string, source: string): DataUseFile {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    throw new InputError(source, "(json)", (e as Error).message);
  }
  const parsed = FILE_SCHEMA.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new InputError(source, issue.path.join(".") || "(file)", issue.message);
  }
  const j = parsed.data;
  const f: DataUseFile = {
    ...j,
    dataCredits: getAddress(j.dataCredits),
    settlement: {
      ...j.settlement,
      charged: BigInt(j.settlement.charged),
      burned: BigInt(j.settlement.burned),
      toTreasury: BigInt(j.settlement.toTreasury),
      toDrivers: BigInt(j.settlement.toDrivers),
    },
    receipts: j.receipts.map((r) => ({
      ...r,
      consumer: getAddress(r.consumer),
      node: getAddress(r.node),
      cumulativeCredits: BigInt(r.cumulativeCredits),
      credits: BigInt(r.credits),
      pricePerCredit: BigInt(r.pricePerCredit),
      charge: BigInt(r.charge),
    })),
    disclosures: j.disclosures.map((d) => ({
      ...d,
      node: getAddress(d.node),
      consumers: d.consumers.map((c) => getAddress(c)),
    })),
    allocations: j.allocations.map((a) => ({
      account: getAddress(a.account),
      chargedWei: BigInt(a.chargedWei),
      amountWei: BigInt(a.amountWei),
    })),
  };
  let derived: Allocation[];
  try {
    derived = deriveDataUse(f);
  } catch (e) {
    if (e instanceof DataUseError) throw new InputError(source, e.field, e.problem);
    throw e;
  }
  const problem = allocationDifference(derived, f.allocations);
  if (problem !== undefined) throw new InputError(source, problem.field, problem.problem);
  return f;
}

/** The first difference between derived and stated allocations, or undefined. */
export function allocationDifference(
  derived: readonly Allocation[],
  stated: readonly Allocation[],
): { field: string; problem: string } | undefined {
  const n = Math.max(derived.length, stated.length);
  for (let i = 0; i < n; i++) {
    const d = derived[i];
    const s = stated[i];
    if (d === undefined || s === undefined) {
      return {
        field: `allocations[${i}]`,
        problem: d === undefined ? `${s!.account} is paid but its reads give nothing` : `${d.account} is missing`,
      };
    }
    if (d.account !== s.account || d.chargedWei !== s.chargedWei || d.amountWei !== s.amountWei) {
      return {
        field: `allocations[${i}]`,
        problem: `${s.account} ${s.amountWei} wei (charged ${s.chargedWei}), the reads give ${d.account} ${d.amountWei} wei (charged ${d.chargedWei})`,
      };
    }
  }
  return undefined;
}

/** The file's bytes: fixed key order, amounts as decimal strings, two-space indent, final newline. */
export function formatDataUseFile(f: DataUseFile): string {
  const s = f.settlement;
  const out = {
    kind: DATA_USE_KIND,
    version: 1,
    chainId: f.chainId,
    dataCredits: f.dataCredits,
    week: f.week,
    settlement: {
      charged: s.charged.toString(),
      burned: s.burned.toString(),
      toTreasury: s.toTreasury.toString(),
      toDrivers: s.toDrivers.toString(),
      block: s.block,
      txHash: s.txHash,
    },
    receipts: f.receipts.map((r) => ({
      consumer: r.consumer,
      node: r.node,
      previousSequence: r.previousSequence,
      sequence: r.sequence,
      cumulativeCredits: r.cumulativeCredits.toString(),
      credits: r.credits.toString(),
      pricePerCredit: r.pricePerCredit.toString(),
      charge: r.charge.toString(),
      block: r.block,
      logIndex: r.logIndex,
      txHash: r.txHash,
    })),
    disclosures: f.disclosures.map((d) => ({
      node: d.node,
      head: { count: d.head.count, hash: d.head.hash },
      consumers: d.consumers,
      // Through the entry schema: its key order, whatever order the entries were built in.
      entries: d.entries.map((e) => ACCESS_LOG_ENTRY_SCHEMA.parse(e)),
      contentHashes: d.contentHashes,
    })),
    allocations: f.allocations.map((a) => ({
      account: a.account,
      chargedWei: a.chargedWei.toString(),
      amountWei: a.amountWei.toString(),
    })),
  };
  return `${JSON.stringify(out, null, 2)}\n`;
}

/** The file name `rewards:data-use` writes for settlement week `w`. */
export function dataUseFileName(week: number): string {
  return `data-use-week-${week}.json`;
}

/** A settled week as `rewards:status` shows it. */
export interface SettledWeek {
  week: number;
  charged: bigint;
  burned: bigint;
  toTreasury: bigint;
  toDrivers: bigint;
}

/** The data-use fees of a deployment: every settled week, their totals, and what is charged but not settled. */
export interface DataUseFees {
  weeks: SettledWeek[];
  charged: bigint;
  burned: bigint;
  toTreasury: bigint;
  toDrivers: bigint;
  unsettled: bigint;
}

/**
 * Sums the weeks settled on chain (`WeekSettled` events, any order) and checks each against the contract's own rule
 * (burned + treasury + drivers = charged, a week settled once), so a status line never shows fees that do not add up.
 */
export function summarizeDataUseFees(settled: readonly SettledWeek[], unsettled: bigint): DataUseFees {
  const weeks = [...settled].sort((a, b) => a.week - b.week);
  const out: DataUseFees = { weeks, charged: 0n, burned: 0n, toTreasury: 0n, toDrivers: 0n, unsettled };
  for (const [i, w] of weeks.entries()) {
    if (i > 0 && weeks[i - 1].week === w.week)
      throw new DataUseError("settlements", `week ${w.week} is settled twice on chain`);
    if (w.burned + w.toTreasury + w.toDrivers !== w.charged)
      throw new DataUseError(
        "settlements",
        `week ${w.week}: burned ${w.burned} + treasury ${w.toTreasury} + drivers ${w.toDrivers} is not the ${w.charged} charged`,
      );
    out.charged += w.charged;
    out.burned += w.burned;
    out.toTreasury += w.toTreasury;
    out.toDrivers += w.toDrivers;
  }
  return out;
}
