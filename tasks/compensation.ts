/**
 * `staking:compensation --slash <id> --out credits.csv`: the credits that pay a slash's compensation to the
 * drivers whose vehicles the consumer could read as of `affectedAsOf` (rule: lib/rewards/compensation.ts),
 * read from the chain's state at that time. The file is the `--credits` input of `rewards:compute`.
 */
import fs from "node:fs";
import path from "node:path";
import { task } from "hardhat/config";
import type { HardhatRuntimeEnvironment } from "hardhat/types";
import { InputError } from "../lib/errors";
import { type AffectedVehicle, compensationCredits, creditsCsv } from "../lib/rewards/compensation";
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

export async function affectedVehicles(
  hre: HardhatRuntimeEnvironment,
  consumer: string,
  asOf: bigint,
  fromBlock: number,
): Promise<{ block: number; vehicles: AffectedVehicle[] }> {
  const { ethers } = hre;
  const { record } = await loadSuiteContext(hre);
  const access = await ethers.getContractAt("DataAccess", record.contracts.DataAccess.address);
  const vehicles = await ethers.getContractAt("VehicleRegistry", record.contracts.VehicleRegistry.address);
  const block = await blockAtOrBefore(hre, asOf);
  const timestamp = BigInt((await ethers.provider.getBlock(block))!.timestamp);
  const granted = new Set<bigint>();
  const PAGE = 5000;
  for (let from = fromBlock; from <= block; from += PAGE) {
    const to = Math.min(block, from + PAGE - 1);
    for (const e of await access.queryFilter(access.filters.AccessGranted(undefined, consumer), from, to)) {
      granted.add(e.args.vehicleId);
    }
  }
  const out: AffectedVehicle[] = [];
  for (const vehicleId of [...granted].sort((a, b) => (a < b ? -1 : 1))) {
    const g = await access.grantOf(vehicleId, consumer, { blockTag: block });
    const epoch = await vehicles.ownershipEpoch(vehicleId, { blockTag: block });
    if (g.permissions !== 0n && g.expiresAt > timestamp && g.epoch === epoch) {
      out.push({ vehicleId, owner: await vehicles.ownerOf(vehicleId, { blockTag: block }) });
    }
  }
  return { block, vehicles: out };
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
      const ctx = await loadSuiteContext(hre);
      const slashId = BigInt(args.slash);
      const stakingDeploy = ctx.record.contracts.ConsumerStaking.blockNumber;
      const events = await ctx.staking.queryFilter(ctx.staking.filters.Slashed(undefined, slashId), stakingDeploy);
      if (events.length === 0) {
        throw new InputError("staking:compensation", "--slash", `no slash ${slashId} on ${ctx.network}`);
      }
      const { consumer, compensation, affectedAsOf } = events[0].args;
      const { block, vehicles } = await affectedVehicles(hre, consumer, affectedAsOf, stakingDeploy);
      const credits = compensationCredits({ slashId, compensationWei: compensation }, vehicles);
      const tmp = `${args.out}.tmp-${process.pid}`;
      fs.writeFileSync(tmp, creditsCsv(credits));
      fs.renameSync(tmp, args.out);
      say(
        `Slash ${slashId} of ${consumer}: ${formatDimoRounded(compensation, 6)} DIMO for ${vehicles.length} vehicle(s) ` +
          `readable as of block ${block}; ${credits.length} credit(s) written to ${args.out}`,
      );
      return { credits, vehicles, block };
    }),
  );
