/**
 * `data:credits --consumer C`: a consumer's DataCredits balance, redeemed, pending withdrawal and remaining credits.
 * `data:redeem --node N [--dry-run]`: redeems the receipts the node's store holds (node/redeem.ts).
 * Thin over lib/credits/receipts and the network's deployment record.
 */
import path from "node:path";
import { task } from "hardhat/config";
import { formatEther, isAddress } from "ethers";
import { InputError } from "../lib/errors";
import { creditsLines, redemptionLines } from "../lib/credits/receipts";
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

task("data:redeem", "Redeems the DataCredits receipts the node holds (its store), from the node operator's account")
  .addParam("node", "the node's address (NODE_ADDRESS of node:data); must be an account of the network's config")
  .addOptionalParam(
    "db",
    "the node's SQLite file (default data/node/<network>.sqlite; DATABASE_URL selects PostgreSQL)",
  )
  .addFlag("dryRun", "print what would be redeemed, send nothing")
  .setAction(async (args: { node: string; db?: string; dryRun: boolean }, hre) => {
    if (!isAddress(args.node)) throw new InputError("data:redeem", "--node", `not an address (${args.node})`);
    const { record } = await loadDeploymentRecord(hre, ["DataCredits"]);
    const signers = await hre.ethers.getSigners();
    const signer = signers.find((s) => s.address.toLowerCase() === args.node.toLowerCase());
    if (signer === undefined)
      throw new InputError("data:redeem", "--node", `${args.node} is not an account of network ${hre.network.name}`);
    const { openStore } = await import("../node/store");
    const { redeemHeld } = await import("../node/redeem");
    const store = await openStore({
      databaseUrl: process.env.DATABASE_URL,
      sqliteFile: args.db ?? path.join("data", "node", `${hre.network.name}.sqlite`),
    });
    try {
      const r = await redeemHeld({
        store,
        dataCredits: record.contracts.DataCredits.address,
        signer,
        dryRun: args.dryRun,
      });
      const lines = redemptionLines(r.plan, formatEther);
      for (const l of lines) console.log(l);
      if (args.dryRun) console.log("dry run: nothing sent");
      else
        console.log(
          `charged ${formatEther(r.charged)} DIMO in ${r.transactions.length} transaction(s) ${r.transactions.join(" ")}`,
        );
      return r;
    } finally {
      await store.close();
    }
  });
