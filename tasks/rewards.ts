/**
 * Weekly rewards tasks (thin: parsing and validation live in lib/rewards, chain I/O here):
 *   rewards:compute  inputs → distributions/<network>/week-<N>.json (+ .tree)
 *   rewards:verify   recompute from the same inputs and compare, byte for byte
 *   rewards:publish  post the root (dry run unless --yes)
 *   rewards:activate make a root claimable once its challenge window has passed
 *   rewards:claim    claim an account's rewards from a distribution file
 *   rewards:status   the distributor's state
 * Any bad input: one error line naming the file/argument, line and field; exit code 1; nothing written or sent.
 */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { Presets, SingleBar } from "cli-progress";
import { task, types } from "hardhat/config";
import { cli as kitCli, say, sent, table } from "./kit";
import type { HardhatRuntimeEnvironment } from "hardhat/types";
import { InputError } from "../lib/errors";
import { type DeploymentRecordMessages, loadDeploymentRecord } from "../scripts/registry-context";
import { formatDimoRounded } from "../lib/units";
import type { Distribution, TelemetryCommitment } from "../lib/rewards/distribution";
import type { Difference } from "../lib/rewards/verify";
import { summarizeDataUseFees, type DataUseFees, type DataUseFile } from "../lib/rewards/data-use";
import type { DimoToken, IssuanceVault, RewardDistributor } from "../typechain-types";

const PLUGIN = "dimo-rewards";

export interface RewardsContext {
  network: string;
  chainId: number;
  distributor: RewardDistributor;
  vault: IssuanceVault;
  token: DimoToken;
  distributorDeployBlock: number;
  /** The deployment's DataCredits (the data-use fees), when its record names one. */
  dataCredits?: { address: string; blockNumber: number };
}

/** The rewards tasks' error rule (see `cli` in ./kit). */
function cli<A extends object, R>(fn: (args: A, hre: HardhatRuntimeEnvironment) => Promise<R>) {
  return kitCli(PLUGIN, fn, [RewardsStateError]);
}

/** The chain is not in the state a step needs; the message says what must happen first. */
export class RewardsStateError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "RewardsStateError";
  }
}

/** The rewards tasks' own wording of the record's problems (the record is named by its file name). */
const REWARDS_RECORD_MESSAGES: DeploymentRecordMessages = {
  missing: (r) => `no ${path.basename(r.file)} record: run \`${r.deployCmd}\` first`,
  wrongChain: (r, recordChainId, chainId) => `${path.basename(r.file)} is for chain ${recordChainId}, not ${chainId}`,
  noContract: (r, name) => `${path.basename(r.file)} has no ${name}: run \`${r.deployCmd}\``,
  noCode: (r, name, address) => `no code at the ${name} ${address}: run \`${r.deployCmd} --reset\``,
};

export async function loadRewardsContext(hre: HardhatRuntimeEnvironment): Promise<RewardsContext> {
  const { record, chainId } = await loadDeploymentRecord(hre, ["RewardDistributor"], {
    messages: REWARDS_RECORD_MESSAGES,
  });
  const d = record.contracts.RewardDistributor;
  return {
    network: hre.network.name,
    chainId: Number(chainId),
    distributor: await hre.ethers.getContractAt("RewardDistributor", d.address),
    vault: await hre.ethers.getContractAt("IssuanceVault", record.contracts.IssuanceVault.address),
    token: await hre.ethers.getContractAt("DimoToken", record.contracts.DimoToken.address),
    distributorDeployBlock: d.blockNumber,
    dataCredits: record.contracts.DataCredits,
  };
}

function dimo(wei: bigint): string {
  return `${formatDimoRounded(wei, 6)} DIMO`;
}

function positiveWeek(value: string, field = "--week"): number {
  if (!/^\d+$/.test(value)) throw new InputError("rewards", field, `expected a week number (0, 1, …), got "${value}"`);
  return Number(value);
}

function existing(file: string, field: string): string {
  if (!fs.existsSync(file)) throw new InputError("rewards", field, `file not found: ${file}`);
  return file;
}

// ------------------------------------------------------------------------------------------- compute

/**
 * A credit reason (e.g. `slash:3`) is paid once: refuse credits whose reason an earlier week of the same
 * distributions directory already paid. Only run when credits are given (they are rare).
 */
async function refusePaidCredits(credits: readonly { reason: string }[], out: string, week: number): Promise<void> {
  const { readDistribution } = await import("../lib/rewards/distribution");
  const reasons = new Set(credits.map((c) => c.reason));
  const dir = path.dirname(out);
  for (let w = 0; w < week; w++) {
    const file = path.join(dir, `week-${w}.json`);
    if (!fs.existsSync(file)) continue;
    for (const a of readDistribution(file).accounts) {
      for (const c of a.credits ?? []) {
        if (reasons.has(c.reason)) {
          throw new InputError("rewards:compute", "--credits", `"${c.reason}" was already paid in week ${w} (${file})`);
        }
      }
    }
  }
}

/**
 * The chain's word on a computed week: its issuance must be what the vault releases for it, and a file whose root
 * is on chain (published and not revoked) is never overwritten — claims and the claim page's hash check depend on
 * its bytes. Returns the rewards context it read the chain through.
 */
async function refuseAgainstChain(
  hre: HardhatRuntimeEnvironment,
  d: { week: number; issuance: { weekWei: bigint } },
  out: string,
  write: boolean,
): Promise<RewardsContext> {
  const ctx = await loadRewardsContext(hre);
  const issued = await ctx.vault.amountOfWeeks(d.week, d.week + 1);
  if (d.issuance.weekWei !== issued) {
    throw new InputError(
      "rewards:compute",
      "--policy",
      `week ${d.week}'s issuance would be ${d.issuance.weekWei} wei but the vault releases ${issued} wei for it: the policy's issuance schedule is not the vault's`,
    );
  }
  if (!write || !fs.existsSync(out)) return ctx;
  const { readDistribution } = await import("../lib/rewards/distribution");
  const old = readDistribution(out, { keepEarnings: false });
  const published = await ctx.distributor.queryFilter(
    ctx.distributor.filters.RootPublished(old.week, old.root),
    ctx.distributorDeployBlock,
  );
  if (published.length === 0) return ctx;
  const revoked = await ctx.distributor.queryFilter(
    ctx.distributor.filters.RootRevoked(old.week, old.root),
    ctx.distributorDeployBlock,
  );
  if (revoked.length >= published.length) return ctx;
  throw new InputError(
    "rewards:compute",
    "--out",
    `${out} holds week ${old.week}'s root ${old.root}, which is published on chain: a published week is never overwritten (write elsewhere with --out)`,
  );
}

interface ComputeArgs {
  week: string;
  activity: string;
  snapshot: string;
  previous?: string;
  policy: string;
  credits?: string;
  /** Data-use files, comma-separated (`rewards:data-use`). */
  dataUse?: string;
  referralBudget: string;
  out?: string;
  chainId?: string;
  /** The activity's telemetry summary (default: `telemetry-week-<N>.json` beside `activity-week-<N>.csv`, if any). */
  telemetry?: string;
}

/**
 * The telemetry summary of the activity file: `--telemetry`, else `telemetry-week-<N>.json` beside an activity file
 * named `activity-week-<N>.csv` (what `rewards:activity` writes) when it exists, else none.
 */
function telemetrySummaryOf(args: Pick<ComputeArgs, "activity" | "telemetry">): string | undefined {
  if (args.telemetry !== undefined) return existing(args.telemetry, "--telemetry");
  const n = /^activity-week-(\d+)\.csv$/.exec(path.basename(args.activity))?.[1];
  if (n === undefined) return undefined;
  const beside = path.join(path.dirname(args.activity), `telemetry-week-${n}.json`);
  return fs.existsSync(beside) ? beside : undefined;
}

/**
 * The header's telemetry commitment from the activity's summary (lib/rewards/telemetry-backing.ts): the summary must
 * be week `week`'s over the vault's time range, and must hash the activity file given.
 */
async function telemetryOfActivity(
  ctx: RewardsContext,
  week: number,
  activity: string,
  summaryFile: string,
): Promise<TelemetryCommitment> {
  const { parseTelemetrySummary, telemetryCommitment } = await import("../lib/rewards/telemetry-backing");
  const { fileSha256 } = await import("../lib/rewards/distribution");
  const source = path.basename(summaryFile);
  const summary = parseTelemetrySummary(fs.readFileSync(summaryFile, "utf8"), source);
  const [weekStart, weekEnd] = await Promise.all([ctx.vault.weekStart(week), ctx.vault.weekStart(week + 1)]);
  return telemetryCommitment(
    summary,
    source,
    { week, weekStart: Number(weekStart), weekEnd: Number(weekEnd) },
    { name: path.basename(activity), sha256: fileSha256(activity) },
  );
}

/**
 * Reads the inputs, computes the week and writes the distribution files; returns their paths. `telemetry: "skip"`
 * (rewards:verify) leaves the header's telemetry to the caller, which checks the published one itself.
 */
export async function computeTask(
  args: ComputeArgs,
  hre: HardhatRuntimeEnvironment,
  write = true,
  opts: { telemetry?: "find" | "skip" } = {},
) {
  const { readWeekInputs } = await import("../lib/rewards/inputs");
  const { computeWeek } = await import("../lib/rewards/compute");
  const { writeDistribution } = await import("../lib/rewards/distribution");
  const week = positiveWeek(args.week);
  const root = hre.config.paths.root;
  const out = args.out ?? path.join(root, "distributions", hre.network.name, `week-${week}.json`);
  if (path.basename(out) !== `week-${week}.json`) {
    throw new InputError(
      "rewards:compute",
      "--out",
      `must be a file named week-${week}.json (the .tree goes beside it)`,
    );
  }
  const chainId = args.chainId ? Number(args.chainId) : Number((await hre.ethers.provider.getNetwork()).chainId);
  const started = Date.now();
  // Progress over the pipeline's steps (shown only on a terminal).
  const bar = process.stdout.isTTY
    ? new SingleBar({ format: "  {bar} {value}/{total} {step}", clearOnComplete: true }, Presets.shades_classic)
    : undefined;
  bar?.start(3, 0, { step: "reading and validating the inputs" });
  let inputs;
  try {
    inputs = readWeekInputs(
      {
        week,
        snapshot: existing(args.snapshot, "--snapshot"),
        activity: existing(args.activity, "--activity"),
        policy: existing(args.policy, "--policy"),
        previous: args.previous ? existing(args.previous, "--previous") : undefined,
        credits: args.credits ? existing(args.credits, "--credits") : undefined,
        dataUse: dataUseFiles(args.dataUse).map((f) => existing(f, "--data-use")),
        referralBudget: args.referralBudget,
      },
      { chainId, network: hre.network.name },
    );
  } catch (e) {
    bar?.stop();
    throw e;
  }
  if (inputs.credits && inputs.credits.length > 0) await refusePaidCredits(inputs.credits, out, week);
  if (inputs.dataUse.length > 0) {
    const differences = await checkDataUseAgainstChain(hre, inputs.dataUse);
    if (differences.length > 0) {
      const { formatDifference } = await import("../lib/rewards/verify");
      throw new InputError(
        "rewards:compute",
        "--data-use",
        `not what the chain says: ${formatDifference(differences[0])}`,
      );
    }
  }
  bar?.update(1, { step: "points, allocation, Merkle tree" });
  let result;
  try {
    result = await computeWeek(inputs);
  } catch (e) {
    bar?.stop();
    throw e;
  }
  const { distribution, tree } = result;
  try {
    const ctx = await refuseAgainstChain(hre, distribution, out, write);
    const block = await snapshotBlockOfWeek(hre, ctx, week);
    if (block !== null) distribution.snapshotBlock = block;
    const summary = opts.telemetry === "skip" ? undefined : telemetrySummaryOf(args);
    if (summary !== undefined) distribution.telemetry = await telemetryOfActivity(ctx, week, args.activity, summary);
  } catch (e) {
    bar?.stop();
    throw e;
  }
  if (!write) {
    bar?.stop();
    return { distribution, tree, jsonPath: out, contentHash: "" };
  }
  bar?.update(2, { step: "writing the distribution files" });
  const written = writeDistribution(path.dirname(out), distribution, tree);
  bar?.update(3, { step: "done" });
  bar?.stop();
  const d = distribution;
  say(`Week ${week} on ${hre.network.name} (chain ${chainId}) in ${((Date.now() - started) / 1000).toFixed(2)} s`);
  table([
    ["root", d.root],
    ["issuance this week", dimo(d.issuance.weekWei)],
    ["core pool paid / carried", `${dimo(d.pools.core.paidWei)} / ${dimo(d.pools.core.carryOutWei)}`],
    ["green pool paid / carried", `${dimo(d.pools.green.paidWei)} / ${dimo(d.pools.green.carryOutWei)}`],
    ["referrals paid this week", dimo(d.referrals.paidThisWeekWei)],
    ["credits", `${d.credits.count} (${dimo(d.credits.totalWei)})`],
    ["this week's total", dimo(d.totals.weekWei)],
    ["cumulative total", `${dimo(d.cumulativeTotalWei)} (${d.cumulativeTotalWei} wei)`],
    ["accounts / earning vehicles", `${d.totals.accounts} / ${d.totals.earningVehicles} of ${d.totals.vehicles}`],
    ["cached layer", `layer ${d.cachedLayer.layer}, ${d.cachedLayer.nodes.length} nodes`],
    [
      "telemetry",
      d.telemetry
        ? `${d.telemetry.batches} signed batches, commitment ${d.telemetry.commitmentRoot}`
        : "none (the activity file is not backed by a telemetry summary)",
    ],
    ["file", `${path.relative(process.cwd(), written.jsonPath)} (sha256 ${written.contentHash})`],
  ]);
  return { distribution, tree, jsonPath: written.jsonPath, contentHash: written.contentHash };
}

task("rewards:compute", "Computes week N's rewards and writes distributions/<network>/week-<N>.json and .tree")
  .addParam("week", "Week number")
  .addParam("activity", "Weekly activity CSV (vehicle_id,active,km_driven,data_types,referral_code)")
  .addParam("snapshot", "Registry snapshot CSV from registry:snapshot at the end of the week")
  .addOptionalParam("previous", "Previous week's distribution file (required after week 0)")
  .addOptionalParam("policy", "Rewards policy JSON", "config/rewards-policy.json")
  .addOptionalParam("credits", "Credits CSV (account,amount_wei,reason), e.g. slashing compensation")
  .addOptionalParam("dataUse", "Data-use files of settled weeks (rewards:data-use), comma-separated")
  .addOptionalParam("referralBudget", "Total DIMO the DAO funded for referrals so far", "0")
  .addOptionalParam("out", "Output file (default distributions/<network>/week-<N>.json)")
  .addOptionalParam("chainId", "Chain id to record (default: the network's)")
  .addOptionalParam(
    "telemetry",
    "The activity's telemetry summary (default: telemetry-week-<N>.json beside activity-week-<N>.csv, if any)",
  )
  .setAction(cli(async (args: ComputeArgs, hre) => (await computeTask(args, hre)).jsonPath));

// ------------------------------------------------------------------------------------------- verify

interface VerifyArgs extends Omit<ComputeArgs, "week" | "out" | "chainId" | "telemetry"> {
  file: string;
  /** Where the published batch file is (default: beside the distribution file). */
  telemetryDir?: string;
  /** Refuse a week whose header commits to no signed batches (its activity rests on the oracle's word alone). */
  requireTelemetry?: boolean;
}

/** The contentHash posted with `root` for `week` (the latest RootPublished of that week with that root), or null. */
async function publishedContentHash(ctx: RewardsContext, week: number, root: string): Promise<string | null> {
  const events = await ctx.distributor.queryFilter(
    ctx.distributor.filters.RootPublished(week, root),
    ctx.distributorDeployBlock,
  );
  return events.length === 0 ? null : events[events.length - 1].args.contentHash;
}

/**
 * The block week `week`'s registry snapshot is taken at (the last block before the week's end, recorded in the
 * distribution file as `snapshotBlock`), or null while the week has not ended on this chain.
 */
async function snapshotBlockOfWeek(
  hre: HardhatRuntimeEnvironment,
  ctx: RewardsContext,
  week: number,
): Promise<number | null> {
  const end = await ctx.vault.weekStart(week + 1);
  const now = BigInt((await hre.ethers.provider.getBlock("latest"))!.timestamp);
  if (now < end) return null;
  return lastBlockBefore(hre, end);
}

/** The last block whose timestamp is before `end` (binary search over block numbers), or null when none is. */
async function lastBlockBefore(hre: HardhatRuntimeEnvironment, end: bigint): Promise<number | null> {
  const stamp = async (n: number) => BigInt((await hre.ethers.provider.getBlock(n))!.timestamp);
  let hi = await hre.ethers.provider.getBlockNumber();
  if ((await stamp(0)) >= end) return null;
  if ((await stamp(hi)) < end) return hi;
  let lo = 0; // stamp(lo) < end <= stamp(hi)
  while (hi - lo > 1) {
    const mid = (lo + hi) >> 1;
    if ((await stamp(mid)) < end) lo = mid;
    else hi = mid;
  }
  return lo;
}

/**
 * The registry snapshot of week `week` is the registry at the last block before the week's end (docs/rewards-spec.md
 * §1): rebuilt at that block (`block`, the `snapshotBlock` the recomputation derived from the chain; the published
 * file's own `snapshotBlock` is compared with it field by field) and compared byte for byte with the one given.
 */
async function checkSnapshotAtWeekEnd(
  hre: HardhatRuntimeEnvironment,
  ctx: RewardsContext,
  week: number,
  snapshot: string,
  block: number | undefined,
): Promise<Difference[]> {
  const { firstDifferentByte } = await import("../lib/rewards/verify");
  const end = await ctx.vault.weekStart(week + 1);
  const now = BigInt((await hre.ethers.provider.getBlock("latest"))!.timestamp);
  const where = path.basename(snapshot);
  if (now < end) {
    return [
      {
        where,
        field: "(week)",
        expected: `week ${week} ended (at ${new Date(Number(end) * 1000).toISOString()})`,
        found: "not ended yet",
        hint: "a week is computed only after it ended",
      },
    ];
  }
  if (block === undefined) return [];
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "dimo-verify-snapshot-"));
  const log = console.log;
  try {
    const rebuilt = path.join(tmp, "snapshot.csv");
    console.log = () => undefined;
    try {
      await hre.run("registry:snapshot", { out: rebuilt, block: String(block) });
    } finally {
      console.log = log;
    }
    const at = firstDifferentByte(fs.readFileSync(rebuilt), fs.readFileSync(snapshot));
    if (at < 0) return [];
    return [
      {
        where,
        field: "(bytes)",
        expected: `the registry at block ${block} (the last before week ${week}'s end)`,
        found: `a difference at byte ${at}`,
        hint: "the snapshot is not the registry at the week's end",
      },
    ];
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
}

/** `Funded` reason of the referral budget (docs/rewards-spec.md §2). */
export const REFERRAL_FUNDING_REASON = "referrals";

/**
 * The referral budget the week used must be what was funded for referrals up to the week's end (Σ `Funded` with
 * reason keccak256("referrals")); the policy hash must be the distributor's governed `policyHash()` once the
 * distributor has one (called by ABI: older distributors have none, and then only the file's own hash is checked).
 */
function dataUseFiles(list: string | undefined): string[] {
  return (list ?? "")
    .split(",")
    .map((f) => f.trim())
    .filter((f) => f !== "");
}

/**
 * A data-use file's settlement and receipts must be the chain's: `WeekSettled` of its week, and every
 * `ReceiptRedeemed` of that week (with the channel's sequence before it), none more, none less. Its allocation was
 * re-derived from them and its disclosed access logs when it was read (lib/rewards/data-use.ts).
 */
async function checkDataUseAgainstChain(
  hre: HardhatRuntimeEnvironment,
  files: readonly DataUseFile[],
): Promise<Difference[]> {
  const { readDataUseChain } = await import("./credits");
  const out: Difference[] = [];
  for (const f of files) {
    const where = `data-use week ${f.week}`;
    const chain = await readDataUseChain(hre, f.week);
    if (chain.dataCredits.toLowerCase() !== f.dataCredits.toLowerCase()) {
      out.push({ where, field: "dataCredits", expected: chain.dataCredits, found: f.dataCredits });
      continue;
    }
    if (chain.settlement === null) {
      out.push({ where, field: "settlement", expected: "(not settled on chain)", found: f.settlement.txHash });
      continue;
    }
    const s = chain.settlement;
    for (const k of ["charged", "burned", "toTreasury", "toDrivers", "block", "txHash"] as const) {
      if (String(s[k]) !== String(f.settlement[k])) {
        out.push({ where, field: `settlement.${k}`, expected: String(s[k]), found: String(f.settlement[k]) });
      }
    }
    const n = Math.max(chain.receipts.length, f.receipts.length);
    for (let i = 0; i < n; i++) {
      const c = chain.receipts[i];
      const r = f.receipts[i];
      const text = (x: typeof c | undefined) =>
        x === undefined
          ? "(absent)"
          : `${x.consumer}→${x.node} seq ${x.previousSequence}→${x.sequence} cumulative ${x.cumulativeCredits} credits ${x.credits} × ${x.pricePerCredit} = ${x.charge} (block ${x.block} log ${x.logIndex} tx ${x.txHash})`;
      if (text(c) !== text(r)) {
        out.push({
          where,
          field: `receipts[${i}]`,
          expected: text(c),
          found: text(r),
          hint: "the receipts of the week are DataCredits' ReceiptRedeemed logs",
        });
      }
    }
  }
  return out;
}

/**
 * Every credit of the week must come from the chain: a `slash:<id>` credit is rebuilt from that slash's `Slashed`
 * event and the grants, pairings and connections at its as-of block (the rule of `staking:compensation`), and must
 * match account by account; a credit reason with no on-chain source is a difference. So an oracle that invents
 * both a credits file and the week computed from it is caught, not only one that changes one of the two.
 */
async function checkCreditsAgainstChain(
  hre: HardhatRuntimeEnvironment,
  d: { accounts: readonly { account: string; credits?: readonly { amountWei: bigint; reason: string }[] }[] },
  dataUse: readonly DataUseFile[] = [],
): Promise<Difference[]> {
  type Amounts = Map<string, { account: string; wei: bigint }>; // by lowercase account
  const add = (m: Amounts, account: string, wei: bigint) => {
    const key = account.toLowerCase();
    m.set(key, { account: m.get(key)?.account ?? account, wei: (m.get(key)?.wei ?? 0n) + wei });
  };
  const found = new Map<string, Amounts>(); // by credit reason
  for (const a of d.accounts) {
    for (const c of a.credits ?? []) {
      if (!found.has(c.reason)) found.set(c.reason, new Map());
      add(found.get(c.reason)!, a.account, c.amountWei);
    }
  }
  if (found.size === 0) return [];
  const { slashCredits } = await import("./compensation");
  const { dataUseWeekOf } = await import("../lib/rewards/data-use");
  const out: Difference[] = [];
  // The data-use files must be the chain's before their allocations are taken as the expected credits.
  const chainOk = new Set<number>();
  for (const f of dataUse) {
    const diffs = await checkDataUseAgainstChain(hre, [f]);
    out.push(...diffs);
    if (diffs.length === 0) chainOk.add(f.week);
  }
  for (const [reason, byAccount] of [...found.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
    const slash = /^slash:([1-9]\d*)$/.exec(reason);
    const useWeek = dataUseWeekOf(reason);
    const rebuilt = slash ? await slashCredits(hre, BigInt(slash[1])) : undefined;
    const file = useWeek === undefined ? undefined : dataUse.find((f) => f.week === useWeek);
    const expected: Amounts = new Map();
    for (const c of rebuilt?.credits ?? []) add(expected, c.account, c.amountWei);
    if (file !== undefined && chainOk.has(file.week))
      for (const a of file.allocations) add(expected, a.account, a.amountWei);
    const hint =
      useWeek !== undefined
        ? file === undefined
          ? `no data-use file for settlement week ${useWeek} was given (--data-use data-use-week-${useWeek}.json)`
          : chainOk.has(useWeek)
            ? `not what settlement week ${useWeek}'s receipts and access logs pay (data-use-week-${useWeek}.json)`
            : `the data-use file of week ${useWeek} is not the chain's (see above)`
        : rebuilt !== undefined
          ? `not what slash ${slash![1]} pays on chain (as of block ${rebuilt.block}: the vehicles its consumer could read)`
          : slash
            ? `no slash ${slash[1]} on chain: the credit has no on-chain source`
            : "a credit reason with no on-chain source (credits are slashing compensation slash:<id> and data use data-use:<week>)";
    for (const key of [...new Set([...expected.keys(), ...byAccount.keys()])].sort()) {
      const e = expected.get(key);
      const f = byAccount.get(key);
      if (e?.wei === f?.wei) continue;
      out.push({
        where: (f ?? e)!.account,
        field: `credits[${reason}]`,
        expected: e === undefined ? "(absent)" : e.wei.toString(),
        found: f === undefined ? "(absent)" : f.wei.toString(),
        hint,
      });
    }
  }
  return out;
}

async function checkAgainstChainPolicyAndBudget(
  hre: HardhatRuntimeEnvironment,
  ctx: RewardsContext,
  d: { week: number; policyHash: string; referrals: { budgetWei: bigint } },
): Promise<Difference[]> {
  const out: Difference[] = [];
  const end = await ctx.vault.weekStart(d.week + 1);
  const block = await lastBlockBefore(hre, end);
  let funded = 0n;
  if (block !== null && block >= ctx.distributorDeployBlock) {
    const reason = hre.ethers.id(REFERRAL_FUNDING_REASON);
    for (const e of await ctx.distributor.queryFilter(
      ctx.distributor.filters.Funded(undefined, undefined, reason),
      ctx.distributorDeployBlock,
      block,
    ))
      funded += e.args.amount;
  }
  if (d.referrals.budgetWei !== funded) {
    out.push({
      where: "header",
      field: "referrals.budgetWei",
      expected: `${funded} (Funded for "${REFERRAL_FUNDING_REASON}" up to block ${block})`,
      found: d.referrals.budgetWei.toString(),
      hint: "the referral budget is not what was funded on chain",
    });
  }
  const governed = new hre.ethers.Contract(
    await ctx.distributor.getAddress(),
    ["function policyHash() view returns (bytes32)"],
    hre.ethers.provider,
  );
  let onChain: string | null = null;
  try {
    onChain = await governed.policyHash();
  } catch {
    onChain = null; // a distributor without a governed policy hash
  }
  if (onChain !== null && onChain !== d.policyHash) {
    out.push({
      where: "header",
      field: "policyHash",
      expected: `${onChain} (the distributor's policyHash())`,
      found: d.policyHash,
      hint: "the policy used is not the governed one",
    });
  }
  return out;
}

/**
 * The activity the week was computed from, re-derived from the published signed batches (lib/rewards/
 * telemetry-backing.ts): the batch file named by the header's `telemetry.batchesFile` (beside the distribution file,
 * or in `--telemetry-dir`), every batch's signature and signer binding checked against the registry events up to the
 * week's snapshot block (`snapshotBlock`, as the recomputation derived it from the chain; none while the week has not
 * ended, which is a difference of its own), and the activity compared row by row.
 */
async function checkTelemetryBacking(
  hre: HardhatRuntimeEnvironment,
  ctx: RewardsContext,
  published: Distribution,
  snapshotBlock: number | undefined,
  args: VerifyArgs,
): Promise<Difference[]> {
  const t = published.telemetry!;
  if (snapshotBlock === undefined) return [];
  const { checkPublishedBatches } = await import("../lib/rewards/telemetry-backing");
  const { fileSha256 } = await import("../lib/rewards/distribution");
  const { readSnapshotFile } = await import("../lib/rewards/inputs");
  const { readActivityFile } = await import("../lib/rewards/activity");
  const { RegistryBindings } = await import("../lib/telemetry/bindings");
  const { readBindingEvents } = await import("../node/registry-index");
  const { NODE_DEFAULTS } = await import("../lib/telemetry/settings");
  const dir = args.telemetryDir ?? path.dirname(args.file);
  const batchesFile = path.join(dir, t.batchesFile.name);
  if (!fs.existsSync(batchesFile))
    throw new InputError(
      t.batchesFile.name,
      "(file)",
      `the week's published batches are not in ${dir} (the header's telemetry.batchesFile; --telemetry-dir)`,
    );
  const { record } = await loadDeploymentRecord(hre, ["VehicleRegistry", "DeviceRegistry"], {
    messages: REWARDS_RECORD_MESSAGES,
  });
  const vehicles = record.contracts.VehicleRegistry;
  const devices = record.contracts.DeviceRegistry;
  const bindings = new RegistryBindings();
  const page = NODE_DEFAULTS.logPageBlocks;
  for (let from = Math.min(vehicles.blockNumber, devices.blockNumber); from <= snapshotBlock; from += page) {
    const to = Math.min(snapshotBlock, from + page - 1);
    const events = await readBindingEvents(
      hre.ethers.provider,
      { vehicleRegistry: vehicles.address, deviceRegistry: devices.address },
      from,
      to,
    );
    for (const e of events) bindings.apply(e);
  }
  const snapshotIds = new Set(readSnapshotFile(args.snapshot).map((v) => String(v.vehicleId)));
  const [weekStart, weekEnd] = await Promise.all([
    ctx.vault.weekStart(published.week),
    ctx.vault.weekStart(published.week + 1),
  ]);
  return checkPublishedBatches({
    week: published.week,
    weekStart: Number(weekStart),
    weekEnd: Number(weekEnd),
    chainId: published.chainId,
    registry: vehicles.address,
    telemetry: t,
    batches: { source: path.basename(batchesFile), bytes: fs.readFileSync(batchesFile) },
    activity: {
      source: path.basename(args.activity),
      sha256: fileSha256(args.activity),
      rows: readActivityFile(args.activity, snapshotIds),
    },
    snapshotVehicleIds: snapshotIds,
    bindings,
  });
}

/**
 * Re-derives a published week and reports every difference. Checks: the file's own tree; the previous week's file
 * (its tree, and its content hash against the one posted on chain with its root); the week recomputed from the
 * inputs compared field by field and then byte for byte (JSON and .tree); the invariants (Σ leaves = the declared
 * total, no account's cumulative amount below the previous root's); the issuance against the vault; the file's
 * own content hash against the chain when its root is published. Returns the differences (empty: verified).
 */
export async function verifyTask(args: VerifyArgs, hre: HardhatRuntimeEnvironment) {
  const { readDistribution, verifyDistribution, writeDistribution, fileSha256 } =
    await import("../lib/rewards/distribution");
  const { checkInvariants, diffDistributions, firstDifferentByte } = await import("../lib/rewards/verify");
  const file = existing(args.file, "--file");
  const src = path.basename(file);
  const published = readDistribution(file);
  await verifyDistribution(published);
  const ctx = await loadRewardsContext(hre);
  const differences: Difference[] = [];
  let previous = null;
  if (args.previous) {
    const prevFile = existing(args.previous, "--previous");
    previous = readDistribution(prevFile);
    await verifyDistribution(previous);
    const posted = await publishedContentHash(ctx, previous.week, previous.root);
    const actual = fileSha256(prevFile);
    if (posted === null) {
      differences.push({
        where: path.basename(prevFile),
        field: "root",
        expected: "a root published on chain",
        found: previous.root,
        hint: "the previous week's root was never published",
      });
    } else if (posted !== actual) {
      differences.push({
        where: path.basename(prevFile),
        field: "contentHash",
        expected: posted,
        found: actual,
        hint: "the previous week's file is not the one published on chain",
      });
    }
  }
  // The inputs are recomputed into the file's own directory's context (credits already paid are looked up beside
  // the file, not in the network's default directory).
  const { distribution, tree } = await computeTask(
    { ...args, week: String(published.week), chainId: String(published.chainId), out: file },
    hre,
    false,
    { telemetry: "skip" },
  );
  // The header's telemetry commitment is checked against the published batches themselves, not a summary file.
  if (published.telemetry) {
    distribution.telemetry = published.telemetry;
    differences.push(...(await checkTelemetryBacking(hre, ctx, published, distribution.snapshotBlock, args)));
  } else if (args.requireTelemetry) {
    differences.push({
      where: "header",
      field: "telemetry",
      expected: "a commitment to the signed batches the activity comes from (rewards:activity)",
      found: "none",
      hint: "the week's activity file is not backed by signed telemetry: nobody can re-check it",
    });
  }
  differences.push(...diffDistributions(distribution, published));
  differences.push(...checkInvariants(published, previous));
  const issued = await ctx.vault.amountOfWeeks(published.week, published.week + 1);
  if (published.issuance.weekWei !== issued) {
    differences.push({
      where: "header",
      field: "issuance.weekWei",
      expected: `${issued} (the vault's week ${published.week})`,
      found: published.issuance.weekWei.toString(),
      hint: "the week's issuance differs from what the vault releases for it",
    });
  }
  differences.push(
    ...(await checkSnapshotAtWeekEnd(hre, ctx, published.week, args.snapshot, distribution.snapshotBlock)),
  );
  differences.push(...(await checkAgainstChainPolicyAndBudget(hre, ctx, published)));
  const { parseDataUseFile } = await import("../lib/rewards/data-use");
  const dataUse = dataUseFiles(args.dataUse).map((f) =>
    parseDataUseFile(fs.readFileSync(existing(f, "--data-use"), "utf8"), path.basename(f)),
  );
  differences.push(...(await checkCreditsAgainstChain(hre, published, dataUse)));
  if (differences.length === 0) {
    // Field by field equal: the bytes must be equal too (layout, order, escaping).
    const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "dimo-verify-"));
    try {
      const rebuilt = writeDistribution(tmp, distribution, tree);
      for (const [mine, theirs] of [
        [rebuilt.jsonPath, file],
        [rebuilt.treePath, path.join(path.dirname(file), published.tree.file)],
      ]) {
        const at = firstDifferentByte(fs.readFileSync(mine), fs.readFileSync(theirs));
        if (at >= 0) {
          differences.push({
            where: "file",
            field: path.basename(theirs),
            expected: `the recomputed bytes`,
            found: `a difference at byte ${at}`,
          });
        }
      }
    } finally {
      fs.rmSync(tmp, { recursive: true, force: true });
    }
  }
  const posted = await publishedContentHash(ctx, published.week, published.root);
  if (posted !== null && posted !== fileSha256(file)) {
    differences.push({
      where: src,
      field: "contentHash",
      expected: posted,
      found: fileSha256(file),
      hint: "the file is not the one published on chain with its root",
    });
  }
  return { published, differences };
}

task("rewards:verify", "Re-derives a published week from its inputs and the chain; prints every difference, exit 1")
  .addParam("file", "The distribution file to check")
  .addParam("activity", "Weekly activity CSV")
  .addParam("snapshot", "Registry snapshot CSV")
  .addOptionalParam("previous", "Previous week's distribution file")
  .addOptionalParam("policy", "Rewards policy JSON", "config/rewards-policy.json")
  .addOptionalParam("credits", "Credits CSV")
  .addOptionalParam("dataUse", "The data-use files the week paid (rewards:data-use), comma-separated")
  .addOptionalParam("referralBudget", "Total DIMO the DAO funded for referrals so far", "0")
  .addOptionalParam(
    "telemetryDir",
    "Folder of the published batch file the header's telemetry names (default: beside --file)",
  )
  .addFlag("requireTelemetry", "Refuse a week whose header commits to no signed batches (activity taken as given)")
  .setAction(
    cli(async (args: VerifyArgs, hre) => {
      const { formatDifference } = await import("../lib/rewards/verify");
      const { published, differences } = await verifyTask(args, hre);
      const src = path.basename(args.file);
      if (differences.length > 0) {
        for (const d of differences) say(`  ${formatDifference(d)}`);
        throw new InputError(
          src,
          differences[0].field,
          `${differences.length} difference(s) from what the inputs and the chain give; first: ${formatDifference(differences[0])}`,
        );
      }
      say(`OK: ${src} (week ${published.week}) matches its inputs and the chain; root ${published.root}`);
      say(
        published.telemetry
          ? `    its activity is what the ${published.telemetry.batches} published signed batches give (commitment ${published.telemetry.commitmentRoot})`
          : "    its header records no telemetry commitment: the activity file was taken as given (--require-telemetry refuses such a week)",
      );
      return true;
    }),
  );

// ------------------------------------------------------------------------------------------- publish

task("rewards:publish", "Publishes week N's root from its distribution file (dry run unless --yes)")
  .addParam("week", "Week number")
  .addParam("file", "The distribution file")
  .addOptionalParam(
    "layer",
    "Post the cached layer: always, never, or auto (when the expected claims pay for it)",
    "auto",
  )
  .addFlag("yes", "Send the transactions (otherwise only check and print)")
  .setAction(
    cli(async (args: { week: string; file: string; layer: string; yes: boolean }, hre) => {
      const { readDistribution, verifyDistribution } = await import("../lib/rewards/distribution");
      const { chooseLayer, claimsPerWeek, layerGasModel, parseLayerMode } = await import("../lib/rewards/layer-choice");
      const layerMode = parseLayerMode(args.layer);
      const week = positiveWeek(args.week);
      const d = readDistribution(existing(args.file, "--file"));
      const src = path.basename(args.file);
      await verifyDistribution(d);
      const ctx = await loadRewardsContext(hre);
      if (d.chainId !== ctx.chainId || d.network !== ctx.network) {
        throw new InputError(
          src,
          "chainId",
          `file is for ${d.network} (chain ${d.chainId}), not ${ctx.network} (chain ${ctx.chainId})`,
        );
      }
      if (d.week !== week) throw new InputError(src, "week", `file is week ${d.week}, not --week ${week}`);
      const next = Number(await ctx.distributor.nextWeek());
      if (week < next) throw new RewardsStateError(`week ${week} is already published (next is ${next})`);
      if (week > next) throw new RewardsStateError(`week ${next} must be published before week ${week}`);
      const pending = await ctx.distributor.pendingRoot();
      const now = (await hre.ethers.provider.getBlock("latest"))!.timestamp;
      const endsAt = await ctx.vault.weekStart(week + 1);
      if (BigInt(now) < endsAt) {
        throw new RewardsStateError(
          `week ${week} has not ended: it ends at ${new Date(Number(endsAt) * 1000).toISOString()} (vault clock)`,
        );
      }
      if (pending.root !== hre.ethers.ZeroHash && BigInt(now) < pending.activatesAt) {
        throw new RewardsStateError(
          `week ${pending.week}'s root is still in its challenge window until ${new Date(Number(pending.activatesAt) * 1000).toISOString()}`,
        );
      }
      const dispute = await ctx.distributor.pendingDispute();
      if (dispute.disputer !== hre.ethers.ZeroAddress && BigInt(now) < dispute.resolvesBy) {
        throw new RewardsStateError(
          `week ${pending.week}'s root is disputed by ${dispute.disputer} until ${new Date(Number(dispute.resolvesBy) * 1000).toISOString()} (or until it is resolved)`,
        );
      }
      const onChainPolicy = await ctx.distributor.policyHash();
      if (d.policyHash !== onChainPolicy) {
        throw new InputError(
          src,
          "policyHash",
          `is ${d.policyHash} but the distributor's policy hash is ${onChainPolicy}`,
        );
      }
      const onChainPrevious = pending.root !== hre.ethers.ZeroHash ? pending : await ctx.distributor.activeRoot();
      const expectedPrevRoot = d.previous?.root ?? hre.ethers.ZeroHash;
      if (onChainPrevious.root !== expectedPrevRoot) {
        throw new InputError(
          src,
          "previous.root",
          `is ${expectedPrevRoot} but the chain's latest root is ${onChainPrevious.root}`,
        );
      }
      if (d.previous && onChainPrevious.cumulativeTotal !== d.previous.cumulativeTotalWei) {
        throw new InputError(
          src,
          "previous.cumulativeTotalWei",
          `is ${d.previous.cumulativeTotalWei} but the chain says ${onChainPrevious.cumulativeTotal}`,
        );
      }
      let funded = await ctx.distributor.totalFunded();
      const [, , releasable] = await ctx.vault.releasable();
      if (d.cumulativeTotalWei > funded + releasable) {
        throw new InputError(
          src,
          "cumulativeTotalWei",
          `${d.cumulativeTotalWei} exceeds what the distributor holds and can pull (${funded + releasable} wei)`,
        );
      }
      // The layer pays only when enough claims use it: expected claims = recent weeks' claims per week.
      const snapshotFile = path.join(hre.config.paths.root, "gas-snapshot.json");
      const model = layerGasModel(JSON.parse(fs.readFileSync(snapshotFile, "utf8")), path.basename(snapshotFile));
      const activations = await ctx.distributor.queryFilter(ctx.distributor.filters.RootActivated());
      const claimEvents = [
        ...(await ctx.distributor.queryFilter(ctx.distributor.filters.Claimed())),
        ...(await ctx.distributor.queryFilter(ctx.distributor.filters.ClaimedTo())),
      ];
      const choice = chooseLayer(
        layerMode,
        model,
        { nodes: d.cachedLayer.nodes.length, levelsSkipped: d.tree.layerCount - 1 - d.cachedLayer.layer },
        claimsPerWeek(
          activations.map((e) => e.blockNumber),
          claimEvents.map((e) => e.blockNumber),
        ),
      );
      const layer = choice.useLayer ? hre.ethers.concat(d.cachedLayer.nodes) : "0x";
      const contentHash = d.contentHash;
      table([
        ["network", `${ctx.network} (chain ${ctx.chainId})`],
        ["week", String(week)],
        ["root", d.root],
        ["cumulative total", `${dimo(d.cumulativeTotalWei)} (${d.cumulativeTotalWei} wei)`],
        ["content hash (sha256)", contentHash],
        [
          "cached layer",
          `${choice.useLayer ? "posted" : "not posted"} (--layer ${choice.mode}): ${d.cachedLayer.nodes.length} nodes, ` +
            `+${choice.publishExtraGas} gas to publish, -${choice.savingPerClaimGas} gas a claim, ` +
            `pays above ${choice.breakEvenClaims} claims; expected ${choice.expectedClaims} (recent weeks' average)`,
        ],
        ["funded / pullable", `${dimo(funded)} / ${dimo(releasable)}`],
      ]);
      if (!args.yes) {
        say("Dry run: nothing was sent. Re-run with --yes to publish.");
        return undefined;
      }
      const role = await ctx.distributor.PUBLISHER_ROLE();
      let signer;
      for (const s of await hre.ethers.getSigners()) {
        if (await ctx.distributor.hasRole(role, s.address)) {
          signer = s;
          break;
        }
      }
      if (!signer) {
        throw new RewardsStateError(`no local account holds PUBLISHER_ROLE on ${await ctx.distributor.getAddress()}`);
      }
      if (d.cumulativeTotalWei > funded) {
        await sent("pullIssuance", ctx.distributor.pullIssuance());
        funded = await ctx.distributor.totalFunded();
      }
      const receipt = await sent(
        "publishRoot",
        ctx.distributor
          .connect(signer)
          .publishRoot(week, d.root, d.cumulativeTotalWei, contentHash, d.policyHash, layer),
      );
      const p = await ctx.distributor.pendingRoot();
      say(
        `Published week ${week}; claimable after ${new Date(Number(p.activatesAt) * 1000).toISOString()} (rewards:activate)`,
      );
      return receipt.hash;
    }),
  );

task("rewards:activate", "Makes the pending root claimable once its challenge window has passed").setAction(
  cli(async (_args: object, hre) => {
    const ctx = await loadRewardsContext(hre);
    const p = await ctx.distributor.pendingRoot();
    if (p.root === hre.ethers.ZeroHash)
      throw new RewardsStateError("no pending root: publish one first (rewards:publish)");
    const now = (await hre.ethers.provider.getBlock("latest"))!.timestamp;
    if (BigInt(now) < p.activatesAt) {
      throw new RewardsStateError(
        `week ${p.week}'s challenge window ends at ${new Date(Number(p.activatesAt) * 1000).toISOString()}`,
      );
    }
    await sent("activateRoot", ctx.distributor.activateRoot());
    say(`Week ${p.week}'s root ${p.root} is now claimable`);
    return p.week;
  }),
);

// ------------------------------------------------------------------------------------------- claim

task("rewards:claim", "Claims an account's rewards from a distribution file (paid to the account, or --to)")
  .addParam("file", "The distribution file of the active root")
  .addParam("account", "The account to claim for")
  .addOptionalParam("to", "Recipient (the account itself must sign: it must be a local account)")
  .addOptionalParam("from", "Local account index that sends the transaction", 0, types.int)
  .setAction(
    cli(async (args: { file: string; account: string; to?: string; from: number }, hre) => {
      const { readDistribution, proofFor } = await import("../lib/rewards/distribution");
      const { ethers } = hre;
      if (!ethers.isAddress(args.account))
        throw new InputError("rewards:claim", "--account", `not an address: "${args.account}"`);
      if (args.to !== undefined && !ethers.isAddress(args.to))
        throw new InputError("rewards:claim", "--to", `not an address: "${args.to}"`);
      const d = readDistribution(existing(args.file, "--file"));
      const ctx = await loadRewardsContext(hre);
      const active = await ctx.distributor.activeRoot();
      if (active.root !== d.root) {
        const pending = await ctx.distributor.pendingRoot();
        if (pending.root === d.root) {
          throw new RewardsStateError(
            `week ${d.week}'s root is still in its challenge window until ${new Date(Number(pending.activatesAt) * 1000).toISOString()}`,
          );
        }
        throw new RewardsStateError(
          `week ${d.week}'s root is not the active one (active: week ${active.week}); use that week's file`,
        );
      }
      const { claimProof } = await import("../lib/rewards/layer-choice");
      const [firstStore] = await ctx.distributor.cachedLayerStores(d.root);
      const p = proofFor(d, args.account);
      const { anchor, proof } = claimProof(p, (await ethers.provider.getCode(firstStore)) !== "0x");
      const already = await ctx.distributor.claimed(p.account);
      if (p.cumulativeWei <= already) {
        say(`Nothing to claim: ${p.account} already claimed ${dimo(already)} of ${dimo(p.cumulativeWei)}`);
        return 0n;
      }
      const signers = await ethers.getSigners();
      let receipt;
      if (args.to !== undefined) {
        const owner = signers.find((s) => s.address.toLowerCase() === p.account.toLowerCase());
        if (!owner)
          throw new InputError(
            "rewards:claim",
            "--to",
            `claiming to another address must be sent by ${p.account}, which is not a local account`,
          );
        receipt = await sent(
          "claimTo",
          ctx.distributor.connect(owner).claimTo(p.cumulativeWei, anchor, proof, args.to),
        );
      } else {
        const sender = signers[args.from];
        if (!sender) throw new InputError("rewards:claim", "--from", `no local account ${args.from}`);
        receipt = await sent("claim", ctx.distributor.connect(sender).claim(p.account, p.cumulativeWei, anchor, proof));
      }
      const paid = p.cumulativeWei - already;
      say(
        `Paid ${dimo(paid)} to ${args.to ?? p.account} (cumulative ${dimo(p.cumulativeWei)}, gas ${receipt.gasUsed})`,
      );
      return paid;
    }),
  );

// ------------------------------------------------------------------------------------------- status

/** Sum of all Claimed and ClaimedTo amounts (the distributor keeps no running total on purpose). */
export async function totalClaimed(ctx: RewardsContext, hre: HardhatRuntimeEnvironment): Promise<bigint> {
  const latest = await hre.ethers.provider.getBlockNumber();
  let total = 0n;
  const PAGE = 50_000;
  for (let from = ctx.distributorDeployBlock; from <= latest; from += PAGE) {
    const to = Math.min(latest, from + PAGE - 1);
    for (const e of await ctx.distributor.queryFilter(ctx.distributor.filters.Claimed(), from, to))
      total += e.args.amount;
    for (const e of await ctx.distributor.queryFilter(ctx.distributor.filters.ClaimedTo(), from, to))
      total += e.args.amount;
  }
  return total;
}

task(
  "rewards:status",
  "Shows the distributor (next week, active and pending roots, funded, claimed) and the data-use fees (settled weeks: burned, treasury, drivers; charged not settled)",
).setAction(
  cli(async (_args: object, hre) => {
    const ctx = await loadRewardsContext(hre);
    const [next, active, pending, funded, balance, window, releasable] = await Promise.all([
      ctx.distributor.nextWeek(),
      ctx.distributor.activeRoot(),
      ctx.distributor.pendingRoot(),
      ctx.distributor.totalFunded(),
      ctx.token.balanceOf(await ctx.distributor.getAddress()),
      ctx.distributor.challengeWindow(),
      ctx.vault.releasable(),
    ]);
    const claimed = await totalClaimed(ctx, hre);
    const dataUse = await dataUseFeesOf(hre, ctx);
    const none = hre.ethers.ZeroHash;
    const feeRows: [string, string][] = dataUse
      ? [
          [
            "data-use fees",
            `charged ${dimo(dataUse.charged)} = burned ${dimo(dataUse.burned)} + treasury ${dimo(dataUse.toTreasury)} + drivers ${dimo(dataUse.toDrivers)}`,
          ],
          ...dataUse.weeks.map((w): [string, string] => [
            `  settled week ${w.week}`,
            `charged ${dimo(w.charged)}: burned ${dimo(w.burned)}, treasury ${dimo(w.toTreasury)}, drivers ${dimo(w.toDrivers)}`,
          ]),
          ["  charged, not settled", dimo(dataUse.unsettled)],
        ]
      : [["data-use fees", "no DataCredits in the deployment record"]];
    table([
      ["network", `${ctx.network} (chain ${ctx.chainId})`],
      ["next week to publish", String(next)],
      [
        "active root",
        active.root === none
          ? "none"
          : `week ${active.week}: ${active.root} (cumulative ${dimo(active.cumulativeTotal)})`,
      ],
      [
        "pending root",
        pending.root === none
          ? "none"
          : `week ${pending.week}: ${pending.root}, claimable from ${new Date(Number(pending.activatesAt) * 1000).toISOString()}`,
      ],
      ["challenge window", `${Number(window) / 3600} h`],
      ["funded", dimo(funded)],
      ["claimed", dimo(claimed)],
      ["balance", dimo(balance)],
      ["vault: releasable now", `weeks ${releasable[0]}..${releasable[1]}: ${dimo(releasable[2])}`],
      ...feeRows,
    ]);
    return { next, funded, claimed, balance, dataUse };
  }),
);

/**
 * The data-use fees (issue 15): every week DataCredits settled (its WeekSettled events: charged, burned, to the
 * treasury, to the drivers through the distributor) and what is charged but not settled yet; undefined for a
 * deployment without DataCredits.
 */
async function dataUseFeesOf(hre: HardhatRuntimeEnvironment, ctx: RewardsContext): Promise<DataUseFees | undefined> {
  const c = ctx.dataCredits;
  if (!c) return undefined;
  const credits = await hre.ethers.getContractAt("DataCredits", c.address);
  const [events, unsettled] = await Promise.all([
    credits.queryFilter(credits.filters.WeekSettled(), c.blockNumber),
    credits.totalUnsettled(),
  ]);
  return summarizeDataUseFees(
    events.map((e) => ({
      week: Number(e.args.week),
      charged: e.args.charged,
      burned: e.args.burned,
      toTreasury: e.args.toTreasury,
      toDrivers: e.args.toDrivers,
    })),
    unsettled,
  );
}

// ------------------------------------------------------------------------------------------- watch

/** Env var holding the guardian's private key (revokes a bad pending root). */
export const GUARDIAN_KEY_ENV = "DIMO_GUARDIAN_KEY";
/** Env var holding a disputer's private key (holds DIMO for the bond; used when no guardian key is given). */
export const DISPUTER_KEY_ENV = "DIMO_DISPUTER_KEY";

/** The decided dispute interface (RULES.md), called by ABI so that this task works before and after it ships. */
const DISPUTE_ABI = [
  "function disputeBond() view returns (uint256)",
  "function disputePendingRoot(bytes32 evidenceHash)",
];

/** Networks whose accounts are the local node's (where --guardian-account may be used). */
const LOCAL_NETWORKS = new Set(["hardhat", "localhost"]);

interface WatchArgs {
  guardianAccount?: string;
  files: string;
  once: boolean;
  interval: string;
  state?: string;
  policy: string;
  requireTelemetry: boolean;
}

/** Result of checking one pending root. */
interface Checked {
  ok: boolean;
  problems: string[];
}

/** Fetches the pending week's published files and re-derives it; every problem as one line. */
async function checkPending(
  hre: HardhatRuntimeEnvironment,
  ctx: RewardsContext,
  pending: { week: bigint; root: string; cumulativeTotal: bigint },
  args: WatchArgs,
): Promise<Checked> {
  const { fetchPublishedWeek } = await import("../lib/rewards/published");
  const { formatDifference } = await import("../lib/rewards/verify");
  const { fileSha256, readDistribution } = await import("../lib/rewards/distribution");
  const week = Number(pending.week);
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "dimo-watch-"));
  try {
    let files;
    try {
      files = await fetchPublishedWeek(args.files, week, tmp);
    } catch (e) {
      if (e instanceof InputError) return { ok: false, problems: [e.message] };
      throw e; // transport: retried by the loop
    }
    const d = readDistribution(files.file);
    const problems: string[] = [];
    const posted = await publishedContentHash(ctx, week, pending.root);
    if (d.root !== pending.root) problems.push(`week-${week}.json root: on chain ${pending.root}, file ${d.root}`);
    if (d.cumulativeTotalWei !== pending.cumulativeTotal)
      problems.push(
        `week-${week}.json cumulativeTotalWei: on chain ${pending.cumulativeTotal}, file ${d.cumulativeTotalWei}`,
      );
    if (posted !== null && posted !== fileSha256(files.file))
      problems.push(`week-${week}.json contentHash: on chain ${posted}, file ${fileSha256(files.file)}`);
    try {
      const { differences } = await verifyTask(
        {
          file: files.file,
          activity: files.activity,
          snapshot: files.snapshot,
          previous: files.previous,
          credits: files.credits,
          dataUse: files.dataUse,
          policy: files.policy ?? args.policy,
          referralBudget: files.referralBudget,
          telemetryDir: files.telemetryDir,
          requireTelemetry: args.requireTelemetry,
        },
        hre,
      );
      problems.push(...differences.map(formatDifference));
    } catch (e) {
      if (!(e instanceof InputError)) throw e;
      problems.push(e.message);
    }
    return { ok: problems.length === 0, problems };
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
}

/** Acts on a bad pending root: revoke (guardian key), else dispute with a bond (disputer key), else alert. */
async function actOnBadRoot(
  hre: HardhatRuntimeEnvironment,
  ctx: RewardsContext,
  pending: { week: bigint; root: string },
  problems: string[],
  guardianAccount: number | undefined,
): Promise<"revoked" | "disputed" | "alerted"> {
  const guardianKey = process.env[GUARDIAN_KEY_ENV];
  const disputerKey = process.env[DISPUTER_KEY_ENV];
  if (guardianKey || guardianAccount !== undefined) {
    const guardian =
      guardianAccount !== undefined
        ? (await hre.ethers.getSigners())[guardianAccount]
        : new hre.ethers.Wallet(guardianKey!, hre.ethers.provider);
    await sent("revokePendingRoot", ctx.distributor.connect(guardian).revokePendingRoot());
    return "revoked";
  }
  if (disputerKey) {
    const disputer = new hre.ethers.Wallet(disputerKey, hre.ethers.provider);
    const disputable = new hre.ethers.Contract(await ctx.distributor.getAddress(), DISPUTE_ABI, disputer);
    const bond: bigint = await disputable.disputeBond();
    const evidence = hre.ethers.id(problems.join("\n"));
    await sent("approve bond", ctx.token.connect(disputer).approve(await ctx.distributor.getAddress(), bond));
    await sent("disputePendingRoot", disputable.disputePendingRoot(evidence));
    return "disputed";
  }
  void pending;
  return "alerted";
}

task("rewards:watch", "Follows RootPublished, verifies each pending root from its published files, stops a bad one")
  .addParam("files", "Where the weeks are published: a folder or an HTTP(S) base URL (week-<N>.json, week-<N>/…)")
  .addFlag("once", "Check the current pending root once and exit (exit 1 when it is bad and was not stopped)")
  .addOptionalParam("interval", "Seconds between polls", "15")
  .addOptionalParam("state", "JSON file recording what was handled (a restart never acts twice)")
  .addOptionalParam("policy", "Policy when the base has no policy.json", "config/rewards-policy.json")
  .addFlag("requireTelemetry", "A pending week whose header commits to no signed batches is bad (see rewards:verify)")
  .addOptionalParam(
    "guardianAccount",
    `Local networks only: the guardian's local account index (else ${GUARDIAN_KEY_ENV})`,
  )
  .setAction(
    cli(async (args: WatchArgs, hre) => {
      const { WatchState } = await import("../lib/rewards/published");
      if (!/^[1-9]\d*$/.test(args.interval))
        throw new InputError("rewards:watch", "--interval", `expected whole seconds, got "${args.interval}"`);
      let guardianAccount: number | undefined;
      if (args.guardianAccount !== undefined) {
        if (!LOCAL_NETWORKS.has(hre.network.name))
          throw new InputError("rewards:watch", "--guardian-account", `local networks only: use ${GUARDIAN_KEY_ENV}`);
        const count = (await hre.ethers.getSigners()).length;
        if (!/^\d+$/.test(args.guardianAccount) || Number(args.guardianAccount) >= count)
          throw new InputError("rewards:watch", "--guardian-account", `expected a local account index below ${count}`);
        guardianAccount = Number(args.guardianAccount);
      }
      const ctx = await loadRewardsContext(hre);
      const state = new WatchState(args.state);
      const none = hre.ethers.ZeroHash;
      const results: string[] = [];
      for (;;) {
        try {
          const pending = await ctx.distributor.pendingRoot();
          const week = Number(pending.week);
          const done = pending.root === none ? undefined : state.handled(week, pending.root);
          if (pending.root !== none && !done) {
            const now = (await hre.ethers.provider.getBlock("latest"))!.timestamp;
            const { ok, problems } = await checkPending(hre, ctx, pending, args);
            if (ok) {
              say(`Week ${week}: root ${pending.root} verified`);
              state.record({ week, root: pending.root, action: "verified", at: new Date().toISOString() });
              results.push("verified");
            } else {
              say(`ALERT: week ${week}'s pending root ${pending.root} does not verify:`);
              for (const p of problems) say(`  ${p}`);
              // Re-read: another watcher may have acted meanwhile; never act twice, never after the window.
              const again = await ctx.distributor.pendingRoot();
              let action: "revoked" | "disputed" | "alerted" = "alerted";
              if (again.root === pending.root && BigInt(now) < pending.activatesAt) {
                action = await actOnBadRoot(hre, ctx, pending, problems, guardianAccount);
              }
              say(`Week ${week}: ${action}`);
              state.record({
                week,
                root: pending.root,
                action,
                at: new Date().toISOString(),
                detail: problems[0],
              });
              results.push(action);
              if (action === "alerted") {
                throw new RewardsStateError(
                  `week ${week}'s pending root ${pending.root} does not verify and no ${GUARDIAN_KEY_ENV} or ${DISPUTER_KEY_ENV} was given to stop it`,
                );
              }
            }
          }
        } catch (e) {
          if (e instanceof RewardsStateError || e instanceof InputError || args.once) throw e;
          say(`rewards:watch: ${(e as Error).message.split("\n")[0]} (retrying in ${args.interval} s)`);
        }
        if (args.once) return results;
        await new Promise((r) => setTimeout(r, Number(args.interval) * 1000));
      }
    }),
  );
