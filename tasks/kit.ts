/**
 * What every task file shares: the one-line error rule, the dry-run rule, printing sent transactions and
 * reading their events. Task files import these instead of keeping their own copies.
 */
import { HardhatPluginError } from "hardhat/plugins";
import type { HardhatRuntimeEnvironment } from "hardhat/types";
import type { BaseContract, ContractTransactionReceipt, ContractTransactionResponse } from "ethers";
import { InputError } from "../lib/errors";
import { StateError } from "../lib/governance";
import type { Where } from "../lib/registry-args";
import { isLocalNetwork } from "../scripts/deploy-suite";
import { DeploymentRecordError } from "../scripts/registry-context";

export const say = (line: string) => console.log(line);

type ErrorClass = abstract new (...args: never[]) => Error;

/**
 * Turns input and chain-state problems (InputError, DeploymentRecordError, StateError and the task file's own
 * `expected` classes) into Hardhat plugin errors: the CLI prints the message alone and exits 1.
 */
export function cli<A extends object, R>(
  plugin: string,
  fn: (args: A, hre: HardhatRuntimeEnvironment) => Promise<R>,
  expected: readonly ErrorClass[] = [],
) {
  const known: readonly ErrorClass[] = [InputError, DeploymentRecordError, StateError, ...expected];
  return async (args: A, hre: HardhatRuntimeEnvironment): Promise<R> => {
    try {
      return await fn(args, hre);
    } catch (e) {
      if (known.some((k) => e instanceof k)) throw new HardhatPluginError(plugin, (e as Error).message, e as Error);
      throw e;
    }
  };
}

/** `where` of a task's arguments: `arg("gov:vote")("support")` names `gov:vote --support`. */
export function arg(taskName: string) {
  return (name: string): Where => ({ source: taskName, field: `--${name}` });
}

export interface SendFlags {
  dryRun: boolean;
  yes: boolean;
}

/** False (after saying what would be sent) when this run must not send. */
export function maySend(hre: HardhatRuntimeEnvironment, flags: SendFlags, what: string): boolean {
  if (flags.dryRun) {
    say(`Dry run: would send ${what}. Nothing was sent.`);
    return false;
  }
  if (!isLocalNetwork(hre.network.name) && !flags.yes) {
    say(`Dry run on ${hre.network.name}: would send ${what}. Nothing was sent; re-run with --yes to send.`);
    return false;
  }
  return true;
}

/** Waits for a transaction and prints its hash, block, gas and sender. */
export async function sent(
  label: string,
  tx: Promise<ContractTransactionResponse>,
): Promise<ContractTransactionReceipt> {
  const receipt = (await (await tx).wait())!;
  say(`  ${label}: tx ${receipt.hash} (block ${receipt.blockNumber}, gas ${receipt.gasUsed}, from ${receipt.from})`);
  return receipt;
}

/** Arguments of the first `name` event `contract` emitted in the receipt. */
export function eventOf(receipt: ContractTransactionReceipt, contract: BaseContract, name: string) {
  const address = String(contract.target).toLowerCase();
  for (const log of receipt.logs) {
    if (log.address.toLowerCase() !== address) continue;
    const parsed = contract.interface.parseLog(log);
    if (parsed?.name === name) return parsed.args;
  }
  throw new Error(`transaction ${receipt.hash} has no ${name} event`);
}

/** The latest block's time: what `block.timestamp` is in the contracts' view calls. */
export async function chainNow(hre: HardhatRuntimeEnvironment): Promise<number> {
  return (await hre.ethers.provider.getBlock("latest"))!.timestamp;
}
