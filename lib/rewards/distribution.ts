/**
 * The weekly distribution files: writing, reading, verifying, and serving proofs.
 *
 * Week N of a network is two files, `distributions/<network>/week-<N>.json` and `week-<N>.tree`:
 *
 * `week-<N>.tree` (binary): a 32-byte header — ASCII "DIMOTREE", version (uint32 big-endian, 1), leaf count
 * (uint32 BE), layer count (uint32 BE), 12 zero bytes — then every layer's 32-byte nodes back to back, the
 * leaves (layer 0) first and the root last. Layer `l` starts at `32 + 32 × Σ_{k<l} ⌈n / 2^k⌉`.
 *
 * `week-<N>.json`: one JSON document in a fixed layout (what `writeDistribution` emits, byte for byte):
 * the header fields pretty-printed with 2 spaces (keys in a fixed order, amounts as decimal wei strings),
 * then `"accounts": [` with one account per line, then `"vehicles": [` with one vehicle state per line.
 * The reader requires that layout (so errors can name the line of any account) — the file is published
 * as bytes, and any reformatting would change its content hash anyway. No timestamps, no absolute paths:
 * the same inputs give the same bytes on any machine.
 *  - `accounts`: every account that ever earned, ascending by lowercase address; `index` is its leaf index;
 *    `cumulativeWei` (what the leaf commits to) = previous cumulative + `weekWei`; `weekWei` = Σ of the
 *    account's `vehicles[].core + green + referral.amountWei` + Σ `credits[].amountWei`.
 *  - `vehicles`: every vehicle ever seen, ascending by id, with the state the next week needs.
 *
 * Content hash (posted on chain with the root): the SHA-256 of the JSON file's bytes (`contentHash`).
 * The JSON holds the tree file's SHA-256, so the content hash covers the tree as well.
 *
 * Files are written with a streaming writer (1 MB chunks encoded into one reused buffer and written to a
 * file descriptor, never one giant string) to a temporary name in the same directory, fsynced, then
 * renamed, so a reader never sees half a file; the `.tree` file is renamed into place before the JSON.
 * `writeDistributionWhileHashing` writes the body first (the header's length is known before the tree's
 * hashes are) so that the tree can be hashed in a worker thread meanwhile. The reader streams too (4 MiB
 * chunks) and can keep just the accounts' totals (`keepEarnings: false`) when it only needs the state.
 *
 * Proofs: `proofFor` binary-searches the account, then reads only the sibling nodes (one `readSync` of 32
 * bytes each) from the `.tree` file: about 1 ms at a million vehicles. `verifyDistribution` recomputes all.
 */
import { createHash } from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import { z } from "zod";
import { InputError } from "../errors";
import { parseJsonFile } from "../json-file";
import { compareVehicleIds, isAddressFormat } from "./activity";
import type { PoolTotals } from "./allocation";
import {
  buildLayers,
  cachedLayerIndex,
  keccakHasher,
  layerSizes,
  MAX_CACHED_NODES,
  type MerkleLayers,
  siblingPositions,
  toHex,
  writeLeaf,
} from "./merkle";
import { accountIndex as indexIn, leafOf, processProofSync, TREE_HEADER_BYTES, treeNodeOffset } from "./proof";
import { readPoints } from "./lookup";

export { leafOf, processProofSync, TREE_HEADER_BYTES, treeNodeOffset };

/** Index of `account` (any case) in the distribution's sorted accounts, or -1. */
export function accountIndex(d: Pick<Distribution, "accounts">, account: string): number {
  return indexIn(d.accounts, account);
}
import type { ReferralPayout, RejectedReferral, RejectReason, VehicleReferral } from "./referrals";

export const DISTRIBUTION_SCHEMA = "dimo-rewards-distribution/1";
export const TREE_MAGIC = "DIMOTREE";
export const TREE_VERSION = 1;
const NODE = 32;

export interface VehiclePointsBreakdown {
  connection: number;
  streak: number;
  dataTypes: number;
  green: number;
}

/** What one vehicle brought one account this week. */
export interface VehicleEarning {
  vehicleId: string;
  core: bigint;
  green: bigint;
  points: VehiclePointsBreakdown;
  /** A referral payout for this vehicle to this account (as its referrer or its driver). */
  referral?: { role: "referrer" | "driver"; amountWei: bigint };
}

export interface CreditEntry {
  amountWei: bigint;
  reason: string;
}

export interface AccountEntry {
  account: string;
  index: number;
  cumulativeWei: bigint;
  weekWei: bigint;
  vehicles: VehicleEarning[];
  credits?: CreditEntry[];
}

export interface VehicleState {
  vehicleId: string;
  streak: number;
  missed: number;
  /** Longest streak ever. */
  best: number;
  referral?: VehicleReferral;
}

export interface InputFileHash {
  file: string;
  sha256: string;
}

/**
 * The signed telemetry the week's activity was derived from (docs/telemetry.md, "Activity derivation"), as
 * `rewards:activity` published it beside the activity file: the commitment root over the counted batches
 * (`batchCommitmentRoot`, lib/telemetry/activity.ts), their count, and the SHA-256 (0x hex) of the published batch
 * file (`telemetry-week-<N>.jsonl`) and of the activity file derived from it. Recorded in the header, so under the
 * content hash posted on chain; `rewards:verify` re-derives the activity from those batches.
 */
export interface TelemetryCommitment {
  commitmentRoot: string;
  batches: number;
  batchesFile: { name: string; sha256: string };
  activityFile: { name: string; sha256: string };
}

export interface DistributionHeader {
  schema: typeof DISTRIBUTION_SCHEMA;
  chainId: number;
  network: string;
  week: number;
  root: string;
  /** Σ cumulativeWei of all accounts: the `cumulativeTotal` posted with the root. */
  cumulativeTotalWei: bigint;
  tree: { file: string; sha256: string; leafCount: number; layerCount: number };
  cachedLayer: { layer: number; nodes: string[] };
  policyHash: string;
  /**
   * The block the registry snapshot was taken at: the last block before the week's end (docs/rewards-spec.md §1).
   * Set by `rewards:compute` against a chain once the week has ended; absent in a file computed offline, which
   * `rewards:verify` therefore refuses for a published week.
   */
  snapshotBlock?: number;
  /** SHA-256 of each input file's bytes, by input name (sorted). */
  inputs: Record<string, InputFileHash>;
  /** Set when the activity came with its telemetry summary (`rewards:activity`); absent otherwise. */
  telemetry?: TelemetryCommitment;
  previous: { week: number; root: string; cumulativeTotalWei: bigint } | null;
  issuance: { weekWei: bigint; coreWei: bigint; greenWei: bigint };
  pools: { core: PoolTotals; green: PoolTotals };
  referrals: {
    budgetWei: bigint;
    paidTotalWei: bigint;
    paidThisWeekWei: bigint;
    paid: ReferralPayout[];
    pending: ReferralPayout[];
    rejected: RejectedReferral[];
  };
  credits: { count: number; totalWei: bigint };
  totals: { weekWei: bigint; accounts: number; vehicles: number; earningVehicles: number };
}

export interface Distribution extends DistributionHeader {
  accounts: AccountEntry[];
  vehicles: VehicleState[];
  /** Runtime only (never written): where the `.tree` file is, set by `readDistribution`/`writeDistribution`. */
  treePath?: string;
  /** Runtime only: the file name used in error messages. */
  source?: string;
}

// ---------------------------------------------------------------------------------------------------------
// Paths and hashes

/** `<root>/<network>/week-<week>.json` (and `.tree` beside it). */
export function distributionPaths(root: string, network: string, week: number): { json: string; tree: string } {
  const dir = path.join(root, network);
  return { json: path.join(dir, `week-${week}.json`), tree: path.join(dir, `week-${week}.tree`) };
}

export function sha256Hex(data: Uint8Array | string): string {
  return `0x${createHash("sha256").update(data).digest("hex")}`;
}

/** SHA-256 of a file's bytes, `0x`-hex (streamed in 4 MiB chunks). */
export function fileSha256(file: string): string {
  const h = createHash("sha256");
  const fd = fs.openSync(file, "r");
  try {
    const buf = Buffer.allocUnsafe(4 << 20);
    for (;;) {
      const n = fs.readSync(fd, buf, 0, buf.length, null);
      if (n === 0) break;
      h.update(buf.subarray(0, n));
    }
  } finally {
    fs.closeSync(fd);
  }
  return `0x${h.digest("hex")}`;
}

/** A file-hash entry for `inputs`: the base name (never a path) and the SHA-256 of its bytes. */
export function inputFileHash(file: string): InputFileHash {
  return { file: path.basename(file), sha256: fileSha256(file) };
}

// ---------------------------------------------------------------------------------------------------------
// Tree file

export function treeHeader(leafCount: number, layerCount: number): Buffer {
  const h = Buffer.alloc(TREE_HEADER_BYTES);
  h.write(TREE_MAGIC, 0, "ascii");
  h.writeUInt32BE(TREE_VERSION, 8);
  h.writeUInt32BE(leafCount, 12);
  h.writeUInt32BE(layerCount, 16);
  return h;
}

/** SHA-256 of the tree file's bytes for `tree` (without writing it). */
export function treeSha256(tree: MerkleLayers): string {
  const h = createHash("sha256").update(treeHeader(tree.leafCount, tree.layers.length));
  for (const layer of tree.layers) h.update(layer);
  return `0x${h.digest("hex")}`;
}

// ---------------------------------------------------------------------------------------------------------
// Writing

const w = (x: bigint) => x.toString();

function poolJson(p: PoolTotals) {
  return {
    shareWei: w(p.shareWei),
    carryInWei: w(p.carryInWei),
    availableWei: w(p.availableWei),
    points: w(p.points),
    paidWei: w(p.paidWei),
    carryOutWei: w(p.carryOutWei),
  };
}

function payoutJson(p: ReferralPayout) {
  return {
    vehicleId: p.vehicleId,
    referrer: p.referrer,
    driver: p.driver,
    amountPerSideWei: w(p.amountPerSideWei),
    dueWeek: p.dueWeek,
  };
}

/** The header as plain JSON values, keys in the file's order. */
export function headerJson(d: DistributionHeader): Record<string, unknown> {
  return {
    schema: d.schema,
    chainId: d.chainId,
    network: d.network,
    week: d.week,
    root: d.root,
    cumulativeTotalWei: w(d.cumulativeTotalWei),
    tree: { file: d.tree.file, sha256: d.tree.sha256, leafCount: d.tree.leafCount, layerCount: d.tree.layerCount },
    cachedLayer: { layer: d.cachedLayer.layer, nodes: d.cachedLayer.nodes },
    policyHash: d.policyHash,
    ...(d.snapshotBlock === undefined ? {} : { snapshotBlock: d.snapshotBlock }),
    inputs: Object.fromEntries(
      Object.keys(d.inputs)
        .sort()
        .map((k) => [k, { file: d.inputs[k].file, sha256: d.inputs[k].sha256 }]),
    ),
    ...(d.telemetry === undefined
      ? {}
      : {
          telemetry: {
            commitmentRoot: d.telemetry.commitmentRoot,
            batches: d.telemetry.batches,
            batchesFile: { name: d.telemetry.batchesFile.name, sha256: d.telemetry.batchesFile.sha256 },
            activityFile: { name: d.telemetry.activityFile.name, sha256: d.telemetry.activityFile.sha256 },
          },
        }),
    previous: d.previous && {
      week: d.previous.week,
      root: d.previous.root,
      cumulativeTotalWei: w(d.previous.cumulativeTotalWei),
    },
    issuance: { weekWei: w(d.issuance.weekWei), coreWei: w(d.issuance.coreWei), greenWei: w(d.issuance.greenWei) },
    pools: { core: poolJson(d.pools.core), green: poolJson(d.pools.green) },
    referrals: {
      budgetWei: w(d.referrals.budgetWei),
      paidTotalWei: w(d.referrals.paidTotalWei),
      paidThisWeekWei: w(d.referrals.paidThisWeekWei),
      paid: d.referrals.paid.map(payoutJson),
      pending: d.referrals.pending.map(payoutJson),
      rejected: d.referrals.rejected.map((r) => ({
        vehicleId: r.vehicleId,
        referrer: r.referrer,
        owner: r.owner,
        reason: r.reason,
      })),
    },
    credits: { count: d.credits.count, totalWei: w(d.credits.totalWei) },
    totals: {
      weekWei: w(d.totals.weekWei),
      accounts: d.totals.accounts,
      vehicles: d.totals.vehicles,
      earningVehicles: d.totals.earningVehicles,
    },
  };
}

/** One account as its line in the file (without indentation or trailing comma). */
export function accountLine(a: AccountEntry): string {
  // decimal conversions are the costly part: reuse equal amounts' (`===` compares bigints by value)
  const cumulative = a.cumulativeWei.toString();
  const week = a.weekWei === a.cumulativeWei ? cumulative : a.weekWei.toString();
  let s = `{"account":"${a.account}","index":${a.index},"cumulativeWei":"${cumulative}","weekWei":"${week}","vehicles":[`;
  for (let i = 0; i < a.vehicles.length; i++) {
    const v = a.vehicles[i];
    const p = v.points;
    if (i > 0) s += ",";
    const core = v.core === a.weekWei ? week : v.core === 0n ? "0" : v.core.toString();
    const green = v.green === 0n ? "0" : v.green === a.weekWei ? week : v.green.toString();
    s += `{"vehicleId":"${v.vehicleId}","core":"${core}","green":"${green}","points":{"connection":${p.connection},"streak":${p.streak},"dataTypes":${p.dataTypes},"green":${p.green}}`;
    if (v.referral) s += `,"referral":{"role":"${v.referral.role}","amountWei":"${v.referral.amountWei}"}`;
    s += "}";
  }
  s += "]";
  if (a.credits) {
    s += `,"credits":[${a.credits.map((c) => `{"amountWei":"${c.amountWei}","reason":${JSON.stringify(c.reason)}}`).join(",")}]`;
  }
  return s + "}";
}

/** One vehicle state as its line in the file. */
export function vehicleLine(v: VehicleState): string {
  let s = `{"vehicleId":"${v.vehicleId}","streak":${v.streak},"missed":${v.missed},"best":${v.best}`;
  if (v.referral) {
    const r = v.referral;
    s += `,"referral":{"referrer":"${r.referrer}","status":"${r.status}","week":${r.week}`;
    if (r.reason) s += `,"reason":"${r.reason}"`;
    s += "}";
  }
  return s + "}";
}

/** Buffered writer to a file descriptor (from `position` on) that hashes what it writes, if asked to. */
class ChunkWriter {
  private parts: string[] = [];
  private size = 0;
  private readonly hash;
  private readonly buffer: Buffer;

  constructor(
    private readonly fd: number,
    private position: number,
    hashing: boolean,
    private readonly chunk = 1 << 20,
  ) {
    this.hash = hashing ? createHash("sha256") : undefined;
    this.buffer = Buffer.allocUnsafe(3 * chunk + 3 * 4096);
  }

  write(s: string): void {
    this.parts.push(s);
    this.size += s.length;
    if (this.size >= this.chunk) this.flush();
  }

  flush(): void {
    if (this.parts.length === 0) return;
    const text = this.parts.join("");
    this.parts = [];
    this.size = 0;
    // Encode into one reused buffer (no per-chunk allocation); text is ASCII but for credit reasons.
    const bytes =
      text.length * 3 <= this.buffer.length
        ? this.buffer.subarray(0, this.buffer.write(text, "utf8"))
        : Buffer.from(text);
    this.hash?.update(bytes);
    writeFully(this.fd, bytes, this.position);
    this.position += bytes.length;
  }

  digest(): string {
    this.flush();
    if (!this.hash) throw new Error("not hashing");
    return `0x${this.hash.digest("hex")}`;
  }
}

function writeFully(fd: number, buf: Uint8Array, position: number): void {
  let off = 0;
  while (off < buf.length) off += fs.writeSync(fd, buf, off, buf.length - off, position + off);
}

/** Writes `file` atomically: `produce` writes into a temporary file that is fsynced and renamed. */
function writeAtomically<T>(file: string, produce: (fd: number) => T): T {
  const tmp = `${file}.tmp-${process.pid}`;
  const fd = fs.openSync(tmp, "w");
  try {
    const result = produce(fd);
    fs.fsyncSync(fd);
    fs.closeSync(fd);
    fs.renameSync(tmp, file);
    return result;
  } catch (e) {
    try {
      fs.closeSync(fd);
    } catch {
      // already closed
    }
    fs.rmSync(tmp, { force: true });
    throw e;
  }
}

/** Writes the `.tree` file; returns its SHA-256. */
export function writeTreeFile(file: string, tree: MerkleLayers): string {
  return writeAtomically(file, (fd) => {
    const h = createHash("sha256");
    const header = treeHeader(tree.leafCount, tree.layers.length);
    h.update(header);
    writeFully(fd, header, 0);
    let position = header.length;
    for (const layer of tree.layers) {
      h.update(layer);
      writeFully(fd, layer, position);
      position += layer.length;
    }
    return `0x${h.digest("hex")}`;
  });
}

const ACCOUNTS_OPEN = '  "accounts": [';
const VEHICLES_OPEN = '  "vehicles": [';

/** The file's text up to and including the `"accounts": [` line. */
function headerText(d: DistributionHeader): string {
  return `${JSON.stringify(headerJson(d), null, 2).slice(0, -2)},\n${ACCOUNTS_OPEN}\n`;
}

/** Streams the accounts, the vehicles and the closing lines (none of it depends on the tree). */
function writeBody(out: ChunkWriter, d: Pick<Distribution, "accounts" | "vehicles">): void {
  const last = d.accounts.length - 1;
  for (let i = 0; i <= last; i++) out.write(`    ${accountLine(d.accounts[i])}${i < last ? ",\n" : "\n"}`);
  out.write(`  ],\n${VEHICLES_OPEN}\n`);
  const lastV = d.vehicles.length - 1;
  for (let i = 0; i <= lastV; i++) out.write(`    ${vehicleLine(d.vehicles[i])}${i < lastV ? ",\n" : "\n"}`);
  out.write("  ]\n}\n");
  out.flush();
}

/**
 * Writes `week-<N>.tree` and `week-<N>.json` of `d` into `dir` (created if needed). The tree must be the one
 * the distribution was computed with (its SHA-256 must match `d.tree.sha256`). Returns the paths and the
 * content hash (SHA-256 of the JSON bytes). Sets `d.treePath`.
 */
export function writeDistribution(
  dir: string,
  d: Distribution,
  tree: MerkleLayers,
): { jsonPath: string; treePath: string; contentHash: string } {
  fs.mkdirSync(dir, { recursive: true });
  const jsonPath = path.join(dir, `week-${d.week}.json`);
  const treePath = path.join(dir, d.tree.file);
  if (tree.root() !== d.root || tree.leafCount !== d.accounts.length)
    throw new Error("writeDistribution: the tree is not the distribution's");
  const sha = writeTreeFile(treePath, tree);
  if (sha !== d.tree.sha256) throw new Error(`writeDistribution: tree sha256 ${sha} != ${d.tree.sha256}`);
  const contentHash = writeAtomically(jsonPath, (fd) => {
    const out = new ChunkWriter(fd, 0, true);
    out.write(headerText(d));
    writeBody(out, d);
    return out.digest();
  });
  d.treePath = treePath;
  return { jsonPath, treePath, contentHash };
}

/** Everything of a week's distribution but the tree (root, tree file hash, cached layer). */
export type WeekAmounts = Omit<Distribution, "root" | "tree" | "cachedLayer">;

/** The distribution of `amounts` with its tree's root, tree file hash and cached layer. */
export function withTree(amounts: WeekAmounts, tree: MerkleLayers): Distribution {
  const cached = tree.cachedLayer(MAX_CACHED_NODES);
  const nodes: string[] = [];
  for (let k = 0; k < cached.nodes.length / NODE; k++) nodes.push(toHex(cached.nodes, k * NODE, NODE));
  return assemble(amounts, {
    root: tree.root(),
    sha256: treeSha256(tree),
    layerCount: tree.layers.length,
    cachedLayer: { layer: cached.layer, nodes },
  });
}

function assemble(
  amounts: WeekAmounts,
  t: { root: string; sha256: string; layerCount: number; cachedLayer: Distribution["cachedLayer"] },
): Distribution {
  const { schema, chainId, network, week, cumulativeTotalWei, ...rest } = amounts;
  return {
    schema,
    chainId,
    network,
    week,
    root: t.root,
    cumulativeTotalWei,
    tree: { file: `week-${week}.tree`, sha256: t.sha256, leafCount: amounts.accounts.length, layerCount: t.layerCount },
    cachedLayer: t.cachedLayer,
    ...rest,
  };
}

/**
 * Writes week N's files while its tree is still being hashed (`tree`, e.g. from `buildTreeInWorker`): the
 * accounts and vehicles are streamed first, after room for the header, whose length does not depend on the
 * tree's hashes; then the header is written in front, the tree file beside it, and the content hash is
 * computed by reading the finished JSON back. Same bytes as `writeDistribution(dir, withTree(amounts, tree))`.
 */
export async function writeDistributionWhileHashing(
  dir: string,
  amounts: WeekAmounts,
  tree: Promise<MerkleLayers>,
): Promise<{
  distribution: Distribution;
  tree: MerkleLayers;
  jsonPath: string;
  treePath: string;
  contentHash: string;
}> {
  fs.mkdirSync(dir, { recursive: true });
  const jsonPath = path.join(dir, `week-${amounts.week}.json`);
  const tmp = `${jsonPath}.tmp-${process.pid}`;
  const n = amounts.accounts.length;
  const sizes = layerSizes(n);
  const cachedIndex = cachedLayerIndex(n);
  const zero = `0x${"0".repeat(64)}`;
  const placeholder = assemble(amounts, {
    root: zero,
    sha256: zero,
    layerCount: sizes.length,
    cachedLayer: { layer: cachedIndex, nodes: new Array<string>(sizes[cachedIndex]).fill(zero) },
  });
  const headerBytes = Buffer.byteLength(headerText(placeholder));
  const fd = fs.openSync(tmp, "w");
  try {
    writeBody(new ChunkWriter(fd, headerBytes, false), amounts);
    const layers = await tree;
    const d = withTree(amounts, layers);
    const header = Buffer.from(headerText(d), "utf8");
    if (header.length !== headerBytes) throw new Error("internal error: the header length depends on the tree");
    writeFully(fd, header, 0);
    const treePath = path.join(dir, d.tree.file);
    const sha = writeTreeFile(treePath, layers);
    if (sha !== d.tree.sha256) throw new Error(`tree sha256 ${sha} != ${d.tree.sha256}`);
    fs.fsyncSync(fd);
    fs.closeSync(fd);
    const contentHash = fileSha256(tmp);
    fs.renameSync(tmp, jsonPath);
    d.treePath = treePath;
    return { distribution: d, tree: layers, jsonPath, treePath, contentHash };
  } catch (e) {
    try {
      fs.closeSync(fd);
    } catch {
      // already closed
    }
    fs.rmSync(tmp, { force: true });
    throw e;
  }
}

// ---------------------------------------------------------------------------------------------------------
// Reading

const weiString = z.string().regex(/^(0|[1-9]\d*)$/, "expected a decimal wei amount as a string");
const hex32 = z.string().regex(/^0x[0-9a-f]{64}$/, "expected 0x and 64 lowercase hex digits");
const address = z.string().regex(/^0x[0-9a-fA-F]{40}$/, "expected a 0x address");
const vehicleIdString = z.string().regex(/^[1-9]\d*$/, "expected a vehicle id as a decimal string");
const count = z.number().int().min(0);
/** A base name (no directory part), as published files are named. */
const plainFileName = z
  .string()
  .regex(/^[A-Za-z0-9._-]+$/, "expected a plain file name")
  .refine((n) => !/^\.+$/.test(n), "expected a plain file name");
const pool = z
  .object({
    shareWei: weiString,
    carryInWei: weiString,
    availableWei: weiString,
    points: weiString,
    paidWei: weiString,
    carryOutWei: weiString,
  })
  .strict();
const payout = z
  .object({
    vehicleId: vehicleIdString,
    referrer: address,
    driver: address,
    amountPerSideWei: weiString,
    dueWeek: count,
  })
  .strict();

const headerSchema = z
  .object({
    schema: z.literal(DISTRIBUTION_SCHEMA),
    chainId: z.number().int().positive(),
    network: z.string().regex(/^[A-Za-z0-9_-]+$/),
    week: count,
    root: hex32,
    cumulativeTotalWei: weiString,
    tree: z
      .object({
        file: z.string().regex(/^week-\d+\.tree$/),
        sha256: hex32,
        leafCount: count,
        layerCount: count,
      })
      .strict(),
    cachedLayer: z.object({ layer: count, nodes: z.array(hex32) }).strict(),
    policyHash: hex32,
    snapshotBlock: count.optional(),
    inputs: z.record(z.object({ file: z.string(), sha256: hex32 }).strict()),
    telemetry: z
      .object({
        commitmentRoot: hex32,
        batches: count,
        batchesFile: z.object({ name: plainFileName, sha256: hex32 }).strict(),
        activityFile: z.object({ name: plainFileName, sha256: hex32 }).strict(),
      })
      .strict()
      .optional(),
    previous: z.object({ week: count, root: hex32, cumulativeTotalWei: weiString }).strict().nullable(),
    issuance: z.object({ weekWei: weiString, coreWei: weiString, greenWei: weiString }).strict(),
    pools: z.object({ core: pool, green: pool }).strict(),
    referrals: z
      .object({
        budgetWei: weiString,
        paidTotalWei: weiString,
        paidThisWeekWei: weiString,
        paid: z.array(payout),
        pending: z.array(payout),
        rejected: z.array(
          z
            .object({
              vehicleId: vehicleIdString,
              referrer: address,
              owner: address,
              reason: z.enum(["self-referral", "already-qualified"]),
            })
            .strict(),
        ),
      })
      .strict(),
    credits: z.object({ count, totalWei: weiString }).strict(),
    totals: z.object({ weekWei: weiString, accounts: count, vehicles: count, earningVehicles: count }).strict(),
    accounts: z.array(z.unknown()).max(0),
    vehicles: z.array(z.unknown()).max(0),
  })
  .strict();

const DEC_RE = /^(0|[1-9]\d*)$/;
const ADDRESS_RE = /^0x[0-9a-fA-F]{40}$/;
const ID_RE = /^[1-9]\d*$/;
const STATUSES = new Set(["recorded", "pending", "paid", "rejected"]);
const REASONS = new Set(["self-referral", "already-qualified"]);

/** Line-by-line reader over a file, in 4 MiB chunks, hashing the bytes it reads. */
class LineReader {
  line = 0;
  private buf = Buffer.allocUnsafe(4 << 20);
  private start = 0;
  private end = 0;
  private eof = false;
  private readonly hash = createHash("sha256");

  constructor(private readonly fd: number) {}

  next(): string | null {
    for (;;) {
      const nl = this.buf.indexOf(10, this.start);
      if (nl >= 0 && nl < this.end) {
        const s = this.buf.toString("utf8", this.start, nl);
        this.start = nl + 1;
        this.line++;
        return s;
      }
      if (this.eof) {
        if (this.start >= this.end) return null;
        const s = this.buf.toString("utf8", this.start, this.end);
        this.start = this.end;
        this.line++;
        return s;
      }
      // keep the partial line, make room (grow for a line longer than the buffer), read more
      this.buf.copy(this.buf, 0, this.start, this.end);
      this.end -= this.start;
      this.start = 0;
      if (this.end === this.buf.length) {
        const bigger = Buffer.allocUnsafe(2 * this.buf.length);
        this.buf.copy(bigger, 0, 0, this.end);
        this.buf = bigger;
      }
      const n = fs.readSync(this.fd, this.buf, this.end, this.buf.length - this.end, null);
      this.hash.update(this.buf.subarray(this.end, this.end + n));
      this.end += n;
      if (n === 0) this.eof = true;
    }
  }

  /** SHA-256 of everything read (call after the last line). */
  digest(): string {
    return `0x${this.hash.digest("hex")}`;
  }
}

/**
 * Reads and checks a distribution file and its `.tree` file (same directory), streaming the JSON (it is
 * never held whole in memory). Refuses (InputError naming the file, line and field) a file not in the
 * canonical layout, any malformed value, accounts or vehicles out of order, amounts that do not add up
 * (week totals, cumulative total, pools), and a tree file whose SHA-256, size, root or cached layer differs
 * from the JSON. It does not recompute the tree from the accounts: `verifyDistribution` does.
 *
 * `keepEarnings: false` checks every account's vehicles and credits but keeps only their totals (the
 * lists come back empty): enough to be next week's `previous`, to serve proofs or to verify, in far less
 * memory at a million vehicles. Such an object must not be written back.
 */
export function readDistribution(
  jsonPath: string,
  options: { keepEarnings?: boolean } = {},
): Distribution & { contentHash: string } {
  const keepEarnings = options.keepEarnings ?? true;
  const source = path.basename(jsonPath);
  const fd = fs.openSync(jsonPath, "r");
  try {
    return readFrom(new LineReader(fd), jsonPath, source, keepEarnings);
  } finally {
    fs.closeSync(fd);
  }
}

type ItemError = (field: string, problem: string) => InputError;

/**
 * The next line of a one-item-per-line section (`accounts` or `vehicles`) parsed, with an error maker naming
 * `<section>[<index>]<field>` and the line; null at the section's `closing` line.
 */
function nextItem(
  lines: LineReader,
  err: (field: string, problem: string, line?: number) => InputError,
  section: string,
  closing: string,
  index: number,
  what: string,
): { o: Record<string, unknown>; f: ItemError } | null {
  const text = lines.next();
  if (text === null) throw err(section, "unexpected end of file", lines.line);
  if (text === closing) return null;
  const line = lines.line;
  const f: ItemError = (field, problem) => err(`${section}[${index}]${field}`, problem, line);
  try {
    if (!text.startsWith("    ")) throw new Error("bad indentation");
    return { o: JSON.parse(text.endsWith(",") ? text.slice(0, -1) : text) as Record<string, unknown>, f };
  } catch (e) {
    throw f("", `not one ${what} per line in the canonical layout (${(e as Error).message})`);
  }
}

function readFrom(
  lines: LineReader,
  jsonPath: string,
  source: string,
  keepEarnings: boolean,
): Distribution & { contentHash: string } {
  const err = (field: string, problem: string, line?: number) => new InputError(source, field, problem, line);

  // Header: every line up to `  "accounts": [`, validated as a document of its own (same line numbers).
  const headerLines: string[] = [];
  let found = false;
  for (let l = lines.next(); l !== null; l = lines.next()) {
    if (l === ACCOUNTS_OPEN) {
      found = true;
      break;
    }
    headerLines.push(l);
  }
  if (!found) throw err("accounts", `not a distribution file: no line '${ACCOUNTS_OPEN}'`, lines.line);
  const headerText = `${headerLines.join("\n")}\n`;
  const h = parseJsonFile(`${headerText}  "accounts": [],\n  "vehicles": []\n}\n`, source, headerSchema);

  // Accounts, one per line.
  const accounts: AccountEntry[] = [];
  let prevLower = "";
  let sumCumulative = 0n;
  let sumWeek = 0n;
  let sumCore = 0n;
  let sumGreen = 0n;
  let sumReferrals = 0n;
  let sumCredits = 0n;
  let earning = 0;
  for (;;) {
    const i = accounts.length;
    const item = nextItem(lines, err, "accounts", "  ],", i, "account");
    if (!item) break;
    const { o, f } = item;
    const account = o.account;
    if (typeof account !== "string" || !isAddressFormat(account)) throw f(".account", "expected a 0x address");
    const lower = account.toLowerCase();
    if (i > 0 && !(prevLower < lower))
      throw f(".account", "accounts must be in strictly ascending lowercase-address order");
    prevLower = lower;
    if (o.index !== i) throw f(".index", `expected ${i}, got ${JSON.stringify(o.index)}`);
    const cumulativeWei = dec(o.cumulativeWei, () => f(".cumulativeWei", "expected a decimal wei string"));
    const weekWei = dec(o.weekWei, () => f(".weekWei", "expected a decimal wei string"));
    if (!Array.isArray(o.vehicles)) throw f(".vehicles", "expected an array");
    let sum = 0n;
    const vehicles: VehicleEarning[] = o.vehicles.map((v: Record<string, unknown>, j: number) => {
      const g = (field: string, problem: string) => f(`.vehicles[${j}]${field}`, problem);
      if (typeof v !== "object" || v === null) throw g("", "expected an object");
      if (typeof v.vehicleId !== "string" || !ID_RE.test(v.vehicleId)) throw g(".vehicleId", "expected a vehicle id");
      const core = dec(v.core, () => g(".core", "expected a decimal wei string"));
      const green = dec(v.green, () => g(".green", "expected a decimal wei string"));
      const e: VehicleEarning = {
        vehicleId: v.vehicleId,
        core,
        green,
        points: readPoints(v.points, (k) => g(`.points.${k}`, "expected a non-negative integer")),
      };
      sum += core + green;
      sumCore += core;
      sumGreen += green;
      if (core !== 0n || green !== 0n) earning++;
      if (v.referral !== undefined) {
        const r = v.referral as Record<string, unknown>;
        if (r.role !== "referrer" && r.role !== "driver") throw g(".referral.role", 'expected "referrer" or "driver"');
        const amountWei = dec(r.amountWei, () => g(".referral.amountWei", "expected a decimal wei string"));
        e.referral = { role: r.role, amountWei };
        if (core === 0n && green === 0n && amountWei !== 0n) earning++;
        sum += amountWei;
        sumReferrals += amountWei;
      }
      return e;
    });
    const entry: AccountEntry = { account, index: i, cumulativeWei, weekWei, vehicles: keepEarnings ? vehicles : [] };
    if (o.credits !== undefined) {
      if (!Array.isArray(o.credits)) throw f(".credits", "expected an array");
      const credits = o.credits.map((c: Record<string, unknown>, j: number) => {
        const amountWei = dec(c?.amountWei, () => f(`.credits[${j}].amountWei`, "expected a decimal wei string"));
        if (typeof c.reason !== "string") throw f(`.credits[${j}].reason`, "expected a string");
        sum += amountWei;
        sumCredits += amountWei;
        return { amountWei, reason: c.reason };
      });
      if (keepEarnings) entry.credits = credits;
    }
    if (sum !== weekWei) throw f(".weekWei", `is ${weekWei} but the account's vehicles and credits sum to ${sum}`);
    sumCumulative += cumulativeWei;
    sumWeek += weekWei;
    accounts.push(entry);
  }

  // Vehicles, one per line.
  if (lines.next() !== VEHICLES_OPEN) throw err("vehicles", `expected the line '${VEHICLES_OPEN}'`, lines.line);
  const vehicles: VehicleState[] = [];
  let prevId = "";
  for (;;) {
    const i = vehicles.length;
    const item = nextItem(lines, err, "vehicles", "  ]", i, "vehicle");
    if (!item) break;
    const { o, f } = item;
    if (typeof o.vehicleId !== "string" || !ID_RE.test(o.vehicleId)) throw f(".vehicleId", "expected a vehicle id");
    if (i > 0 && compareVehicleIds(prevId, o.vehicleId) >= 0)
      throw f(".vehicleId", "vehicles must be in strictly ascending id order");
    prevId = o.vehicleId;
    const int = (k: string) => {
      const x = o[k];
      if (!Number.isSafeInteger(x) || (x as number) < 0) throw f(`.${k}`, "expected a non-negative integer");
      return x as number;
    };
    const state: VehicleState = {
      vehicleId: o.vehicleId,
      streak: int("streak"),
      missed: int("missed"),
      best: int("best"),
    };
    if (o.referral !== undefined) {
      const r = o.referral as Record<string, unknown>;
      if (typeof r?.referrer !== "string" || !ADDRESS_RE.test(r.referrer))
        throw f(".referral.referrer", "expected a 0x address");
      if (typeof r.status !== "string" || !STATUSES.has(r.status)) throw f(".referral.status", "unknown status");
      if (!Number.isSafeInteger(r.week) || (r.week as number) < 0) throw f(".referral.week", "expected a week");
      if (r.reason !== undefined && !REASONS.has(r.reason as string)) throw f(".referral.reason", "unknown reason");
      state.referral = {
        referrer: r.referrer,
        status: r.status as VehicleReferral["status"],
        week: r.week as number,
        ...(r.reason === undefined ? {} : { reason: r.reason as RejectReason }),
      };
    }
    vehicles.push(state);
  }
  if (lines.next() !== "}" || lines.next() !== null)
    throw err("(root)", "unexpected content after the vehicles (expected a final '}' line)", lines.line);
  const contentHash = lines.digest();

  // Header ⇄ body consistency.
  const big = (s: string) => BigInt(s);
  const toPool = (p: z.infer<typeof pool>): PoolTotals => ({
    shareWei: big(p.shareWei),
    carryInWei: big(p.carryInWei),
    availableWei: big(p.availableWei),
    points: big(p.points),
    paidWei: big(p.paidWei),
    carryOutWei: big(p.carryOutWei),
  });
  const toPayout = (p: z.infer<typeof payout>): ReferralPayout => ({ ...p, amountPerSideWei: big(p.amountPerSideWei) });
  const d: Distribution & { contentHash: string } = {
    schema: h.schema,
    chainId: h.chainId,
    network: h.network,
    week: h.week,
    root: h.root,
    cumulativeTotalWei: big(h.cumulativeTotalWei),
    tree: h.tree,
    cachedLayer: h.cachedLayer,
    policyHash: h.policyHash,
    ...(h.snapshotBlock === undefined ? {} : { snapshotBlock: h.snapshotBlock }),
    inputs: h.inputs,
    ...(h.telemetry === undefined ? {} : { telemetry: h.telemetry }),
    previous: h.previous && { ...h.previous, cumulativeTotalWei: big(h.previous.cumulativeTotalWei) },
    issuance: {
      weekWei: big(h.issuance.weekWei),
      coreWei: big(h.issuance.coreWei),
      greenWei: big(h.issuance.greenWei),
    },
    pools: { core: toPool(h.pools.core), green: toPool(h.pools.green) },
    referrals: {
      budgetWei: big(h.referrals.budgetWei),
      paidTotalWei: big(h.referrals.paidTotalWei),
      paidThisWeekWei: big(h.referrals.paidThisWeekWei),
      paid: h.referrals.paid.map(toPayout),
      pending: h.referrals.pending.map(toPayout),
      rejected: h.referrals.rejected,
    },
    credits: { count: h.credits.count, totalWei: big(h.credits.totalWei) },
    totals: { ...h.totals, weekWei: big(h.totals.weekWei) },
    accounts,
    vehicles,
    treePath: path.join(path.dirname(jsonPath), h.tree.file),
    source,
    contentHash,
  };
  const check = (ok: boolean, field: string, problem: string) => {
    if (!ok) throw err(field, problem);
  };
  check(
    d.cumulativeTotalWei === sumCumulative,
    "cumulativeTotalWei",
    `is ${d.cumulativeTotalWei} but the accounts' cumulative amounts sum to ${sumCumulative}`,
  );
  check(
    d.totals.weekWei === sumWeek,
    "totals.weekWei",
    `is ${d.totals.weekWei} but the accounts' week amounts sum to ${sumWeek}`,
  );
  check(
    d.totals.accounts === accounts.length,
    "totals.accounts",
    `is ${d.totals.accounts} but the file lists ${accounts.length} accounts`,
  );
  check(
    d.totals.vehicles === vehicles.length,
    "totals.vehicles",
    `is ${d.totals.vehicles} but the file lists ${vehicles.length} vehicles`,
  );
  check(
    d.totals.earningVehicles === earning,
    "totals.earningVehicles",
    `is ${d.totals.earningVehicles} but ${earning} vehicle entries earned`,
  );
  for (const [name, p, paid] of [
    ["core", d.pools.core, sumCore],
    ["green", d.pools.green, sumGreen],
  ] as const) {
    check(
      p.paidWei === paid,
      `pools.${name}.paidWei`,
      `is ${p.paidWei} but the vehicles' ${name} amounts sum to ${paid}`,
    );
    check(p.availableWei === p.shareWei + p.carryInWei, `pools.${name}.availableWei`, "is not shareWei + carryInWei");
    check(
      p.paidWei + p.carryOutWei === p.availableWei,
      `pools.${name}.carryOutWei`,
      "paidWei + carryOutWei is not availableWei",
    );
  }
  check(
    d.pools.core.shareWei === d.issuance.coreWei && d.pools.green.shareWei === d.issuance.greenWei,
    "pools",
    "pool shares differ from the issuance split",
  );
  check(
    d.issuance.coreWei + d.issuance.greenWei === d.issuance.weekWei,
    "issuance",
    "coreWei + greenWei is not weekWei",
  );
  check(
    d.referrals.paidThisWeekWei === sumReferrals,
    "referrals.paidThisWeekWei",
    `is ${d.referrals.paidThisWeekWei} but the referral entries sum to ${sumReferrals}`,
  );
  check(
    d.credits.totalWei === sumCredits,
    "credits.totalWei",
    `is ${d.credits.totalWei} but the credit entries sum to ${sumCredits}`,
  );
  check(
    d.totals.weekWei === sumCore + sumGreen + sumReferrals + sumCredits,
    "totals.weekWei",
    "is not pools + referrals + credits",
  );
  check(d.week > 0 || d.previous === null, "previous", "week 0 has no previous week");
  if (d.previous) {
    check(d.previous.week + 1 === d.week, "previous.week", `must be ${d.week - 1}`);
    check(
      d.cumulativeTotalWei === d.previous.cumulativeTotalWei + d.totals.weekWei,
      "cumulativeTotalWei",
      "is not the previous total plus this week's total",
    );
  }
  check(h.tree.file === `week-${h.week}.tree`, "tree.file", `expected "week-${h.week}.tree"`);
  check(
    h.tree.leafCount === accounts.length,
    "tree.leafCount",
    `is ${h.tree.leafCount} but the file lists ${accounts.length} accounts`,
  );

  checkTreeFile(d, source);
  return d;
}

function dec(x: unknown, fail: () => Error): bigint {
  if (typeof x !== "string" || !DEC_RE.test(x)) throw fail();
  return BigInt(x);
}

/** Checks the `.tree` file against the header: SHA-256, size, header, root and cached layer. */
function checkTreeFile(d: Distribution, source: string): void {
  const treePath = d.treePath!;
  if (!fs.existsSync(treePath)) throw new InputError(source, "tree.file", `missing tree file ${d.tree.file}`);
  const n = d.tree.leafCount;
  if (n === 0) throw new InputError(source, "tree.leafCount", "a distribution needs at least one account");
  const sha = fileSha256(treePath);
  if (sha !== d.tree.sha256)
    throw new InputError(source, "tree.sha256", `${d.tree.file} has SHA-256 ${sha}, the file says ${d.tree.sha256}`);
  const sizes = layerSizes(n);
  if (d.tree.layerCount !== sizes.length)
    throw new InputError(
      source,
      "tree.layerCount",
      `a ${n}-leaf tree has ${sizes.length} layers, not ${d.tree.layerCount}`,
    );
  const fd = fs.openSync(treePath, "r");
  try {
    const expectedSize = treeNodeOffset(n, sizes.length - 1, 1);
    if (fs.fstatSync(fd).size !== expectedSize)
      throw new InputError(
        source,
        "tree.file",
        `${d.tree.file} is ${fs.fstatSync(fd).size} bytes, expected ${expectedSize}`,
      );
    const header = readAt(fd, 0, TREE_HEADER_BYTES);
    if (!header.equals(treeHeader(n, sizes.length)))
      throw new InputError(source, "tree.file", `${d.tree.file} has a bad header`);
    const root = toHex(readAt(fd, treeNodeOffset(n, sizes.length - 1, 0), NODE));
    if (root !== d.root) throw new InputError(source, "root", `is ${d.root} but ${d.tree.file} has root ${root}`);
    const L = d.cachedLayer.layer;
    if (L !== cachedLayerIndex(n))
      throw new InputError(
        source,
        "cachedLayer.layer",
        `must be ${cachedLayerIndex(n)} (the lowest layer of at most ${MAX_CACHED_NODES} nodes), not ${L}`,
      );
    if (sizes[L] !== d.cachedLayer.nodes.length)
      throw new InputError(
        source,
        "cachedLayer",
        `layer ${L} of a ${n}-leaf tree does not have ${d.cachedLayer.nodes.length} nodes`,
      );
    const layer = readAt(fd, treeNodeOffset(n, L, 0), sizes[L] * NODE);
    d.cachedLayer.nodes.forEach((node, k) => {
      if (toHex(layer, k * NODE, NODE) !== node)
        throw new InputError(
          source,
          `cachedLayer.nodes[${k}]`,
          `differs from node ${k} of layer ${L} in ${d.tree.file}`,
        );
    });
  } finally {
    fs.closeSync(fd);
  }
}

function readAt(fd: number, offset: number, length: number): Buffer {
  const buf = Buffer.alloc(length);
  let got = 0;
  while (got < length) {
    const n = fs.readSync(fd, buf, got, length - got, offset + got);
    if (n === 0) throw new Error(`unexpected end of tree file at ${offset + got}`);
    got += n;
  }
  return buf;
}

// ---------------------------------------------------------------------------------------------------------
// Proofs and verification

export interface ClaimProof {
  account: string;
  index: number;
  cumulativeWei: bigint;
  leaf: string;
  /** Full proof to the root (`anchor = 0`). */
  proof: string[];
  /** Short proof to the cached layer: pass `anchor` and `shortProof` to `claim`. */
  anchor: number;
  shortProof: string[];
}

/**
 * The claim proof of `account`, reading only the needed 32-byte nodes from the `.tree` file (one `readSync`
 * per sibling). Checks that the tree's leaf is the account's `(address, cumulativeWei)` and that the proof
 * reaches the root. Throws when the account is not in the distribution.
 */
export function proofFor(d: Distribution, account: string): ClaimProof {
  if (!d.treePath) throw new Error("proofFor: the distribution has no tree file (read or write it first)");
  const index = accountIndex(d, account);
  if (index < 0)
    throw new InputError(d.source ?? "distribution", "account", `${account} has no rewards in week ${d.week}`);
  const entry = d.accounts[index];
  const n = d.accounts.length;
  const fd = fs.openSync(d.treePath, "r");
  const node = (layer: number, i: number) => toHex(readAt(fd, treeNodeOffset(n, layer, i), NODE));
  try {
    const leaf = leafOf(entry.account, entry.cumulativeWei);
    if (node(0, index) !== leaf)
      throw new InputError(
        d.tree.file,
        `leaf ${index}`,
        `does not match ${entry.account}'s cumulative amount in the JSON`,
      );
    const positions = siblingPositions(n, index);
    const proof = positions.map(([l, p]) => node(l, p));
    if (processProofSync(proof, leaf) !== d.root)
      throw new InputError(d.tree.file, "nodes", "the proof does not reach the root");
    const L = d.cachedLayer.layer;
    const shortProof = proof.slice(0, positions.filter(([l]) => l < L).length);
    return {
      account: entry.account,
      index,
      cumulativeWei: entry.cumulativeWei,
      leaf,
      proof,
      anchor: (index >> L) + 1,
      shortProof,
    };
  } finally {
    fs.closeSync(fd);
  }
}

/**
 * Recomputes every leaf and layer from the accounts and compares them with the root, the cached layer and
 * the `.tree` file, byte for byte. Throws an InputError naming what differs; returns the root.
 */
export async function verifyDistribution(d: Distribution): Promise<string> {
  const source = d.source ?? "distribution";
  if (d.accounts.length === 0) throw new InputError(source, "accounts", "a distribution needs at least one account");
  const h = await keccakHasher();
  const leaves = new Uint8Array(d.accounts.length * NODE);
  const scratch = new Uint8Array(2 * NODE);
  d.accounts.forEach((a, i) => writeLeaf(h, a.account, a.cumulativeWei, leaves, i * NODE, scratch));
  const tree = buildLayers(h, leaves);
  if (tree.root() !== d.root)
    throw new InputError(source, "root", `is ${d.root} but the accounts' amounts give ${tree.root()}`);
  const cached = tree.layers[d.cachedLayer.layer];
  if (!cached || toHex(cached) !== `0x${d.cachedLayer.nodes.map((x) => x.slice(2)).join("")}`)
    throw new InputError(source, "cachedLayer", "differs from the recomputed tree");
  if (d.treePath) {
    const bytes = fs.readFileSync(d.treePath);
    const expected = Buffer.concat([treeHeader(tree.leafCount, tree.layers.length), ...tree.layers]);
    if (!bytes.equals(expected)) {
      let at = 0;
      while (at < bytes.length && bytes[at] === expected[at]) at++;
      throw new InputError(source, "tree.file", `${d.tree.file} differs from the recomputed tree at byte ${at}`);
    }
  }
  return tree.root();
}
