/**
 * `data:credits --consumer C`: a consumer's DataCredits balance, redeemed, pending withdrawal and remaining credits.
 * Thin over lib/credits/receipts and the network's deployment record.
 */
import { task } from "hardhat/config";
import { formatEther, isAddress } from "ethers";
import { InputError } from "../lib/errors";
import { creditsLines } from "../lib/credits/receipts";
import { loadDeploymentRecord } from "../scripts/registry-context";

task("data:credits", "A consumer's data credits: balance, redeemed, pending withdrawal, remaining")
  .addParam("consumer", "the consumer's address")
  .setAction(async (args: { consumer: string }, hre) => {
    if (!isAddress(args.consumer))
      throw new InputError("data:credits", "--consumer", `not an address (${args.consumer})`);
    const { record } = await loadDeploymentRecord(hre, ["DataCredits"]);
    const credits = await hre.ethers.getContractAt("DataCredits", record.contracts.DataCredits.address);
    const a = await credits.account(args.consumer);
    const lines = creditsLines(
      args.consumer,
      {
        balance: a.balance,
        deposited: a.deposited,
        redeemed: a.redeemed,
        withdrawn: a.withdrawn,
        pendingWithdrawal: a.pendingWithdrawal,
        releaseAt: a.releaseAt,
        available: await credits.available(args.consumer),
        pricePerCredit: await credits.pricePerCredit(),
      },
      formatEther,
    );
    for (const l of lines) console.log(l);
    return lines;
  });
