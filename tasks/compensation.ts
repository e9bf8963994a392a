/**
 * `staking:compensation --slash <id> --out credits.csv`: the credits that pay a slash's compensation to the
 * drivers whose vehicles the consumer could really read as of `affectedAsOf` (granted long enough before, paired
 * or connected, not the consumer's own; rule: lib/rewards/compensation.ts),
 * read from the chain's state at that time. The file is the `--credits` input of `rewards:compute`.
 */
import fs from "node:fs";
import path from "node:path";
import { task } from "hardhat/config";
import type { HardhatRuntimeEnvironment } from "hardhat/types";
import { InputError } from "../lib/errors";
import { affectedVehicles, type CandidateVehicle, compensationCredits, creditsCsv } from "../lib/rewards/compensation";
import { formatDimoRounded } from "../lib/units";
import { cli, loadSuiteContext, say } from "./staking";

/** Last block whose timestamp is ≤ `t` (binary search). */
async function blockAtOrBefore(hre: HardhatRuntimeEnvironment, t: bigint): Promise<number> {
  let lo = 0;
  let hi = await hre.ethers.provider.getBlockNumber();
  while (lo < hi) {
    const mid = Math.ceil((lo + hi) / 2);
    const b = await hre.ethers.provider.getBlock(mid);
    if (BigInt(b!.timestamp) <= t) lo = mid;
    else hi = mid - 1;
  }
  return lo;
}

/** Every vehicle `consumer` was ever granted up to `asOf`, with what the rule needs, read at the as-of block. */
export async function candidateVehicles(
  hre: HardhatRuntimeEnvironment,
  consumer: string,
  asOf: bigint,
  fromBlock: number,
): Promise<{ block: number; timestamp: bigint; minGrantAge: bigint; candidates: CandidateVehicle[] }> {
  const { ethers } = hre;
  const { record, staking } = await loadSuiteContext(hre);
  const access = await ethers.getContractAt("DataAccess", record.contracts.DataAccess.address);
  const vehicles = await ethers.getContractAt("VehicleRegistry", record.contracts.VehicleRegistry.address);
  const block = await blockAtOrBefore(hre, asOf);
  const at = { blockTag: block };
  const timestamp = BigInt((await ethers.provider.getBlock(block))!.timestamp);
  const minGrantAge = await staking.minGrantAge(at);
  const granted = new Set<bigint>();
  const PAGE = 5000;
  for (let from = fromBlock; from <= block; from += PAGE) {
    const to = Math.min(block, from + PAGE - 1);
    for (const e of await access.queryFilter(access.filters.AccessGranted(undefined, consumer), from, to)) {
      granted.add(e.args.vehicleId);
    }
  }
  const candidates: CandidateVehicle[] = [];
  for (const vehicleId of [...granted].sort((a, b) => (a < b ? -1 : 1))) {
    const g = await access.grantOf(vehicleId, consumer, at);
    const epoch = await vehicles.ownershipEpoch(vehicleId, at);
    const [integrations] = await vehicles.connections(vehicleId, at);
    let liveConnections = 0;
    for (const integration of integrations) {
      if ((await vehicles.integrationKind(integration, at)) !== 0n) liveConnections++;
    }
    candidates.push({
      vehicleId,
      owner: await vehicles.ownerOf(vehicleId, at),
      grantCounted: g.permissions !== 0n && g.expiresAt > timestamp && g.epoch === epoch,
      grantedAt: g.grantedAt,
      paired: (await vehicles.pairedDevice(vehicleId, at)) !== 0n,
      liveConnections,
    });
  }
  return { block, timestamp, minGrantAge, candidates };
}

/**
 * The credits slash `slashId` pays, rebuilt from the chain alone (its `Slashed` event, then the grants, pairings and
 * connections at its as-of block, under the rule of lib/rewards/compensation.ts); undefined when there is no such
 * slash. The same computation as `staking:compensation`, so `rewards:verify` can check published credits with it.
 */
export async function slashCredits(
  hre: HardhatRuntimeEnvironment,
  slashId: bigint,
): Promise<
  | {
      credits: ReturnType<typeof compensationCredits>;
      vehicles: ReturnType<typeof affectedVehicles>["affected"];
      excluded: ReturnType<typeof affectedVehicles>["excluded"];
      block: number;
      consumer: string;
      compensation: bigint;
      minGrantAge: bigint;
    }
  | undefined
> {
  const ctx = await loadSuiteContext(hre);
  const stakingDeploy = ctx.record.contracts.ConsumerStaking.blockNumber;
  const events = await ctx.staking.queryFilter(ctx.staking.filters.Slashed(undefined, slashId), stakingDeploy);
  if (events.length === 0) return undefined;
  const { consumer, compensation, affectedAsOf } = events[0].args;
  const { block, minGrantAge, candidates } = await candidateVehicles(hre, consumer, affectedAsOf, stakingDeploy);
  const { affected: vehicles, excluded } = affectedVehicles(candidates, { consumer, affectedAsOf, minGrantAge });
  const credits = compensationCredits({ slashId, compensationWei: compensation }, vehicles);
  return { credits, vehicles, excluded, block, consumer, compensation, minGrantAge };
}

task("staking:compensation", "Writes the credits paying a slash's compensation to the affected drivers")
  .addParam("slash", "Slash id (from the Slashed event)")
  .addParam("out", "Credits CSV to write (the --credits input of rewards:compute)")
  .setAction(
    cli("dimo-staking", async (args: { slash: string; out: string }, hre) => {
      if (!/^[1-9]\d*$/.test(args.slash)) {
        throw new InputError("staking:compensation", "--slash", `expected a slash id (1, 2, …), got "${args.slash}"`);
      }
      if (path.extname(args.out) !== ".csv") {
        throw new InputError("staking:compensation", "--out", `must be a .csv file, got "${args.out}"`);
      }
      const slashId = BigInt(args.slash);
      const rebuilt = await slashCredits(hre, slashId);
      if (rebuilt === undefined) {
        const ctx = await loadSuiteContext(hre);
        throw new InputError("staking:compensation", "--slash", `no slash ${slashId} on ${ctx.network}`);
      }
      const { credits, vehicles, excluded, block, consumer, compensation, minGrantAge } = rebuilt;
      const tmp = `${args.out}.tmp-${process.pid}`;
      fs.writeFileSync(tmp, creditsCsv(credits));
      fs.renameSync(tmp, args.out);
      say(
        `Slash ${slashId} of ${consumer}: ${formatDimoRounded(compensation, 6)} DIMO for ${vehicles.length} vehicle(s) ` +
          `readable as of block ${block}; ${credits.length} credit(s) written to ${args.out}`,
      );
      if (excluded.length > 0) {
        const why: Record<string, string> = {
          "grant-not-counting": "grant not counting",
          "not-readable": "no paired device or live connection",
          "owned-by-consumer": "owned by the consumer",
          "granted-too-late": `granted less than ${minGrantAge} s before the freeze`,
        };
        say(`  excluded: ${excluded.map((e) => `#${e.vehicleId} (${why[e.reason]})`).join(", ")}`);
      }
      return { credits, vehicles, excluded, block };
    }),
  );
