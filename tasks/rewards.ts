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
import path from "node:path";
import { Presets, SingleBar } from "cli-progress";
import { task, types } from "hardhat/config";
import { cli as kitCli, say, sent, table } from "./kit";
import type { HardhatRuntimeEnvironment } from "hardhat/types";
import { InputError } from "../lib/errors";
import { type DeploymentRecordMessages, loadDeploymentRecord } from "../scripts/registry-context";
import { formatDimoRounded } from "../lib/units";
import type { DimoToken, IssuanceVault, RewardDistributor } from "../typechain-types";

const PLUGIN = "dimo-rewards";

export interface RewardsContext {
  network: string;
  chainId: number;
  distributor: RewardDistributor;
  vault: IssuanceVault;
  token: DimoToken;
  distributorDeployBlock: number;
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

interface ComputeArgs {
  week: string;
  activity: string;
  snapshot: string;
  previous?: string;
  policy: string;
  credits?: string;
  referralBudget: string;
  out?: string;
  chainId?: string;
}

/** Reads the inputs, computes the week and writes the distribution files; returns their paths. */
export async function computeTask(args: ComputeArgs, hre: HardhatRuntimeEnvironment, write = true) {
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
        referralBudget: args.referralBudget,
      },
      { chainId, network: hre.network.name },
    );
  } catch (e) {
    bar?.stop();
    throw e;
  }
  if (inputs.credits && inputs.credits.length > 0) await refusePaidCredits(inputs.credits, out, week);
  bar?.update(1, { step: "points, allocation, Merkle tree" });
  let result;
  try {
    result = await computeWeek(inputs);
  } catch (e) {
    bar?.stop();
    throw e;
  }
  const { distribution, tree } = result;
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
  .addOptionalParam("referralBudget", "Total DIMO the DAO funded for referrals so far", "0")
  .addOptionalParam("out", "Output file (default distributions/<network>/week-<N>.json)")
  .addOptionalParam("chainId", "Chain id to record (default: the network's)")
  .setAction(cli(async (args: ComputeArgs, hre) => (await computeTask(args, hre)).jsonPath));

// ------------------------------------------------------------------------------------------- verify

task("rewards:verify", "Recomputes a distribution from the same inputs and compares; exit 1 on any mismatch")
  .addParam("file", "The distribution file to check")
  .addParam("activity", "Weekly activity CSV")
  .addParam("snapshot", "Registry snapshot CSV")
  .addOptionalParam("previous", "Previous week's distribution file")
  .addOptionalParam("policy", "Rewards policy JSON", "config/rewards-policy.json")
  .addOptionalParam("credits", "Credits CSV")
  .addOptionalParam("referralBudget", "Total DIMO the DAO funded for referrals so far", "0")
  .setAction(
    cli(async (args: Omit<ComputeArgs, "week" | "out"> & { file: string }, hre) => {
      const { readDistribution, verifyDistribution } = await import("../lib/rewards/distribution");
      const published = readDistribution(existing(args.file, "--file"));
      await verifyDistribution(published);
      const { distribution } = await computeTask(
        { ...args, week: String(published.week), chainId: String(published.chainId), out: undefined },
        hre,
        false,
      );
      const fields: [string, unknown, unknown][] = [
        ["root", published.root, distribution.root],
        ["cumulativeTotalWei", published.cumulativeTotalWei, distribution.cumulativeTotalWei],
        ["policyHash", published.policyHash, distribution.policyHash],
        ["tree.sha256", published.tree.sha256, distribution.tree.sha256],
      ];
      const bad = fields.filter(([, a, b]) => a !== b);
      if (bad.length > 0) {
        throw new InputError(
          path.basename(args.file),
          bad[0][0],
          `is ${String(bad[0][1])} but the inputs give ${String(bad[0][2])}`,
        );
      }
      say(`OK: ${path.basename(args.file)} (week ${published.week}) matches its inputs; root ${published.root}`);
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

task("rewards:status", "Shows the distributor: next week, active and pending roots, funded, claimed").setAction(
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
    const none = hre.ethers.ZeroHash;
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
    ]);
    return { next, funded, claimed, balance };
  }),
);
