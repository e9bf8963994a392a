/**
 * `data:credits --consumer C`: a consumer's DataCredits balance, redeemed, pending withdrawal and remaining credits.
 * `data:redeem --node N [--dry-run]`: redeems the receipts the node's store holds (node/redeem.ts).
 * Thin over lib/credits/receipts and the network's deployment record.
 */
import fs from "node:fs";
import path from "node:path";
import { task } from "hardhat/config";
import type { HardhatRuntimeEnvironment } from "hardhat/types";
import { formatEther, isAddress } from "ethers";
import { InputError } from "../lib/errors";
import { type AccessLogEntry, formatLogLine, parseAccessLog, verifyLog } from "../lib/consent/access-log";
import { creditsLines, redemptionLines } from "../lib/credits/receipts";
import {
  buildDataUseFile,
  type DataUseFile,
  DataUseError,
  dataUseFileName,
  formatDataUseFile,
  type RedeemedLog,
  type RedeemedReceipt,
  receiptsOfWeek,
  type Settlement,
} from "../lib/rewards/data-use";
import { parseIntIn } from "../lib/registry-args";
import { writeFileAtomic } from "../lib/json-file";
import { loadDeploymentRecord } from "../scripts/registry-context";
import { arg, cli, say, table } from "./kit";

const PLUGIN = "dimo-credits";

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

// ------------------------------------------------------------------------------- data-use settlement (§9)

/** What the chain says of settlement week `week`: its `WeekSettled` (null before `settle`) and its receipts. */
export async function readDataUseChain(
  hre: HardhatRuntimeEnvironment,
  week: number,
): Promise<{ chainId: number; dataCredits: string; settlement: Settlement | null; receipts: RedeemedReceipt[] }> {
  const { record, chainId } = await loadDeploymentRecord(hre, ["DataCredits"]);
  const c = record.contracts.DataCredits;
  const credits = await hre.ethers.getContractAt("DataCredits", c.address);
  const settled = await credits.queryFilter(credits.filters.WeekSettled(week), c.blockNumber);
  if (settled.length === 0) return { chainId: Number(chainId), dataCredits: c.address, settlement: null, receipts: [] };
  const s = settled[0];
  // Every redeem up to the settlement (any week): a receipt's previous sequence may be in an earlier week.
  const redeemed = await credits.queryFilter(credits.filters.ReceiptRedeemed(), c.blockNumber, s.blockNumber);
  const logs: RedeemedLog[] = redeemed.map((l) => ({
    consumer: l.args.consumer,
    node: l.args.node,
    week: Number(l.args.week),
    sequence: Number(l.args.sequence),
    cumulativeCredits: l.args.cumulativeCredits,
    credits: l.args.credits,
    pricePerCredit: l.args.pricePerCredit,
    charge: l.args.charge,
    block: l.blockNumber,
    logIndex: l.index,
    txHash: l.transactionHash,
  }));
  return {
    chainId: Number(chainId),
    dataCredits: c.address,
    settlement: {
      charged: s.args.charged,
      burned: s.args.burned,
      toTreasury: s.args.toTreasury,
      toDrivers: s.args.toDrivers,
      block: s.blockNumber,
      txHash: s.transactionHash,
    },
    receipts: receiptsOfWeek(logs, week),
  };
}

function nodeStore(hre: HardhatRuntimeEnvironment, db: string | undefined) {
  return import("../node/store").then(({ openStore }) =>
    openStore({
      databaseUrl: process.env.DATABASE_URL,
      sqliteFile: db ?? path.join("data", "node", `${hre.network.name}.sqlite`),
    }),
  );
}

task("data:access-log", "Exports the node's access log (JSON Lines, hash-chained) and prints its head")
  .addParam("out", "the file to write")
  .addOptionalParam(
    "db",
    "the node's SQLite file (default data/node/<network>.sqlite; DATABASE_URL selects PostgreSQL)",
  )
  .setAction(
    cli(PLUGIN, async (args: { out: string; db?: string }, hre) => {
      const store = await nodeStore(hre, args.db);
      try {
        const entries = await store.accessLog({});
        const head = verifyLog(entries);
        writeFileAtomic(args.out, entries.map(formatLogLine).join(""));
        say(`access log: ${head.count} entries, head ${head.hash} → ${args.out}`);
        return head;
      } finally {
        await store.close();
      }
    }),
  );

task("data:settle", "Settles an ended week of DataCredits charges: burn, treasury, drivers' share to the distributor")
  .addParam("week", "the settlement week (the vault's week numbers)")
  .setAction(
    cli(PLUGIN, async (args: { week: string }, hre) => {
      const week = parseIntIn(args.week, arg("data:settle")("week"), 0, 2 ** 32 - 1);
      const { record } = await loadDeploymentRecord(hre, ["DataCredits"]);
      const credits = await hre.ethers.getContractAt("DataCredits", record.contracts.DataCredits.address);
      const wk = await credits.week(week);
      if (wk.settled) throw new InputError("data:settle", "--week", `week ${week} is already settled`);
      const tx = await credits.settle(week);
      const receipt = await tx.wait();
      const ev = receipt!.logs.map((l) => credits.interface.parseLog(l)).find((p) => p?.name === "WeekSettled");
      const [, charged, burned, toTreasury, toDrivers] = ev!.args as unknown as bigint[];
      table([
        ["week", String(week)],
        ["charged", `${formatEther(charged)} DIMO`],
        ["burned", `${formatEther(burned)} DIMO`],
        ["to the treasury", `${formatEther(toTreasury)} DIMO`],
        ["to drivers (funded)", `${formatEther(toDrivers)} DIMO`],
        ["transaction", tx.hash],
      ]);
      return { charged, burned, toTreasury, toDrivers };
    }),
  );

task("rewards:data-use", "Writes settlement week W's data-use file: receipts, access-log disclosures, drivers' shares")
  .addParam("week", "the settlement week (settled on chain: data:settle)")
  .addParam("logs", "each redeeming node's access log: <node address>=<file>[,<node>=<file>…] (data:access-log)")
  .addOptionalParam("out", "output file (default distributions/<network>/data-use-week-<W>.json)")
  .setAction(
    cli(PLUGIN, async (args: { week: string; logs: string; out?: string }, hre) => {
      const T = "rewards:data-use";
      const week = parseIntIn(args.week, arg(T)("week"), 0, 2 ** 32 - 1);
      const logs = new Map<string, AccessLogEntry[]>();
      for (const [i, part] of args.logs.split(",").entries()) {
        const m = /^(0x[0-9a-fA-F]{40})=(.+)$/.exec(part.trim());
        if (m === null) throw new InputError(T, "--logs", `item ${i + 1} "${part}" is not <node address>=<file>`);
        if (!fs.existsSync(m[2])) throw new InputError(T, "--logs", `item ${i + 1}: file not found: ${m[2]}`);
        logs.set(m[1], parseAccessLog(fs.readFileSync(m[2], "utf8"), m[2]));
      }
      const chain = await readDataUseChain(hre, week);
      if (chain.settlement === null) {
        throw new InputError(
          T,
          "--week",
          `week ${week} is not settled on chain: once it has ended, anyone settles it (npx hardhat data:settle --week ${week})`,
        );
      }
      let file: DataUseFile;
      try {
        file = buildDataUseFile({ ...chain, settlement: chain.settlement, week, logs });
      } catch (e) {
        if (e instanceof DataUseError) throw new InputError(T, e.field === "logs" ? "--logs" : e.field, e.problem);
        throw e;
      }
      const out =
        args.out ?? path.join(hre.config.paths.root, "distributions", hre.network.name, dataUseFileName(week));
      writeFileAtomic(out, formatDataUseFile(file));
      const s = file.settlement;
      table([
        ["settlement week", String(week)],
        ["receipts redeemed", String(file.receipts.length)],
        ["charged", `${formatEther(s.charged)} DIMO`],
        ["burned / treasury", `${formatEther(s.burned)} / ${formatEther(s.toTreasury)} DIMO`],
        ["to drivers", `${formatEther(s.toDrivers)} DIMO to ${file.allocations.length} owner(s)`],
        ["file", `${path.relative(process.cwd(), out)} (give it to rewards:compute --data-use)`],
      ]);
      return out;
    }),
  );
