/**
 * `token:transfer`: sends DIMO between accounts, e.g. to give a local data consumer the stake it needs (locally
 * only the genesis holders have DIMO). Checks the balance before sending; a dry run unless local or `--yes`.
 */
import { task } from "hardhat/config";
import { InputError } from "../lib/errors";
import { dimoText, parsePositiveDimo } from "../lib/governance";
import { ZeroAddress } from "ethers";
import {
  addressArg,
  arg,
  cli,
  describeAccount,
  eventOf,
  fromArg,
  loadSuiteContext,
  maySend,
  say,
  sent,
} from "./staking";
import type { SendFlags } from "./kit";

const PLUGIN = "dimo-token";

interface TransferArgs extends SendFlags {
  to: string;
  amount: string;
  from?: string;
}

task("token:transfer", "Sends DIMO from a local account to an account or address")
  .addParam("to", "The recipient: a local account index or an address")
  .addParam("amount", "DIMO to send, e.g. 20000 or 0.5")
  .addOptionalParam("from", "The sender: a local account index or address (default 0)")
  .addFlag("dryRun", "Validate and print, send nothing")
  .addFlag("yes", "Required to send on a non-local network")
  .setAction(
    cli(PLUGIN, async (args: TransferArgs, hre) => {
      const T = "token:transfer";
      const w = arg(T);
      const amount = parsePositiveDimo(args.amount, w("amount"));
      const ctx = await loadSuiteContext(hre);
      const to = addressArg(ctx, args.to, w("to"));
      if (to === ZeroAddress) throw new InputError(T, "--to", "the zero address (to destroy DIMO, burn it)");
      const from = fromArg(ctx, args.from, w("from"));
      const balance = await ctx.token.balanceOf(from.address);
      if (balance < amount) {
        throw new InputError(
          T,
          "--amount",
          `${dimoText(amount)} is more than ${describeAccount(ctx, from.address)} holds (${dimoText(balance)})`,
        );
      }
      say(`Sending ${dimoText(amount)} from ${describeAccount(ctx, from.address)} to ${describeAccount(ctx, to)}`);
      if (!maySend(hre, args, `transfer from ${describeAccount(ctx, from.address)}`)) return { dryRun: true, amount };
      const receipt = await sent("transfer", ctx.token.connect(from).transfer(to, amount));
      const moved = eventOf(receipt, ctx.token, "Transfer").value as bigint;
      say(`${describeAccount(ctx, to)} now holds ${dimoText(await ctx.token.balanceOf(to))}`);
      return { dryRun: false, amount: moved, txHash: receipt.hash, gasUsed: receipt.gasUsed };
    }),
  );
