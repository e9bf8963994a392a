/**
 * Local-chain tasks: `chain:advance` moves a local node's clock (Hardhat's `evm_setNextBlockTimestamp` and
 * `evm_mine`) so a week can end, a challenge window pass or a vote close without waiting. Refused on any
 * network but the local ones: a real chain's time cannot be moved.
 */
import { task } from "hardhat/config";
import { StateError } from "../lib/governance";
import { parseAdvanceTarget, type AdvanceArgs } from "../lib/chain-time";
import { WEEK_SECONDS } from "../lib/issuance";
import { isoOf } from "../lib/registry-args";
import { isLocalNetwork } from "../scripts/deploy-suite";
import { loadDeploymentRecord } from "../scripts/registry-context";
import { chainNow, cli, say } from "./kit";

const PLUGIN = "dimo-chain";
const T = "chain:advance";

task(T, "Local networks only: moves the chain's clock forward and mines a block")
  .addOptionalParam("toWeek", "Go to the start of issuance week N (weeks 0..N-1 have then ended)")
  .addOptionalParam("to", "Go to this time: ISO-8601 with a zone (2026-12-08T05:00:00Z) or unix seconds")
  .addOptionalParam("by", "Go forward by a duration: <n>s|m|h|d|w, e.g. 3d or 12h")
  .setAction(
    cli(PLUGIN, async (args: AdvanceArgs, hre) => {
      if (!isLocalNetwork(hre.network.name)) {
        throw new StateError(
          `${T}: refused on ${hre.network.name}: only a local node's clock can be moved (--network localhost)`,
        );
      }
      const { record } = await loadDeploymentRecord(hre, ["IssuanceVault"]);
      const vault = await hre.ethers.getContractAt("IssuanceVault", record.contracts.IssuanceVault.address);
      const genesis = Number(await vault.genesis());
      const now = await chainNow(hre);
      const target = parseAdvanceTarget(args, T, now, genesis);
      await hre.network.provider.send("evm_setNextBlockTimestamp", [target.timestamp]);
      await hre.network.provider.send("evm_mine", []);
      const reached = await chainNow(hre);
      const weekOf = (t: number) =>
        t < genesis ? "before week 0" : `week ${Math.floor((t - genesis) / WEEK_SECONDS)}`;
      say(`Chain time ${isoOf(now)} (${weekOf(now)}) → ${isoOf(reached)} (${weekOf(reached)}): ${target.label}`);
      say(`  weeks ended by the vault's clock: ${await vault.weeksEnded()}`);
      return { from: now, to: reached };
    }),
  );
