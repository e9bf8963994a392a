/**
 * What every task file shares: the one-line error rule, the dry-run rule, printing sent transactions and
 * reading their events. Task files import these instead of keeping their own copies.
 */
import { inspect } from "node:util";
import { HardhatPluginError } from "hardhat/plugins";
import { HardhatError } from "hardhat/internal/core/errors";
import type { HardhatRuntimeEnvironment } from "hardhat/types";
import type { HardhatEthersSigner } from "@nomicfoundation/hardhat-ethers/signers";
import type { BaseContract, ContractTransactionReceipt, ContractTransactionResponse } from "ethers";
import { InputError } from "../lib/errors";
import { StateError } from "../lib/governance";
import { parseAccountRef, parseIntIn, type Where } from "../lib/registry-args";
import { isLocalNetwork } from "../scripts/deploy-suite";
import { DeploymentRecordError, localSigner } from "../scripts/registry-context";

export const say = (line: string) => console.log(line);

/** Prints `key  value` rows, the keys padded to one width. */
export function table(rows: [string, string][]): void {
  const width = Math.max(...rows.map(([k]) => k.length));
  for (const [k, v] of rows) say(`  ${k.padEnd(width)}  ${v}`);
}

type ErrorClass = abstract new (...args: never[]) => Error;

/**
 * A Hardhat plugin error that the CLI prints as its one message line. Hardhat prints the thrown error again
 * (`console.error(error)`, stack and fields) whenever it believes it runs in CI, decided once when its CLI
 * loads (`isRunningOnCiServer`: \`CI\`, GitHub Actions, or any Linux box without \`DISPLAY\`/\`WAYLAND_DISPLAY\`):
 * that second print goes through `util.inspect`, so the error's own inspect hook prints nothing unless
 * `--show-stack-traces` was asked for.
 */
export function oneLineError(plugin: string, message: string, parent?: Error): HardhatPluginError {
  const err = new HardhatPluginError(plugin, message, parent);
  Object.defineProperty(err, inspect.custom, {
    enumerable: false,
    value: () => stackOnlyWhenAsked.call(err),
  });
  return err;
}

/** What Hardhat's CI-mode second print of an error shows: nothing, unless `--show-stack-traces` was given. */
function stackOnlyWhenAsked(this: Error): string {
  return process.argv.includes("--show-stack-traces") ? String(this.stack) : "";
}

// Hardhat's own errors (HH3xx: a missing, unknown or malformed argument, an unknown task) are printed as one
// line first too; on a headless box the CLI then prints the error object again, stack and all. The same rule
// as oneLineError applies to them: the stack only on request.
Object.defineProperty(HardhatError.prototype, inspect.custom, {
  enumerable: false,
  configurable: true,
  value: stackOnlyWhenAsked,
});

/**
 * Turns input and chain-state problems (InputError, DeploymentRecordError, StateError and the task file's own
 * `expected` classes) into one-line Hardhat plugin errors (`oneLineError`): the CLI prints the message alone
 * and exits 1, on a desktop and on a headless box alike.
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
      if (known.some((k) => e instanceof k)) throw oneLineError(plugin, (e as Error).message, e as Error);
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

/** Default `--page-size`: blocks per eth_getLogs window. */
export const DEFAULT_PAGE_SIZE = "5000";

/** `--page-size` (default DEFAULT_PAGE_SIZE): blocks per eth_getLogs window, 1 to 1,000,000. */
export function pageSizeArg(value: string | undefined, taskName: string): number {
  return parseIntIn(value ?? DEFAULT_PAGE_SIZE, arg(taskName)("page-size"), 1, 1_000_000);
}

/** A task context's local accounts (the registry's and the suite's alike). */
export interface LocalAccounts {
  signers: HardhatEthersSigner[];
}

/** `account <i> (<address>)` for a local account, else the address. */
export function describeAccount(ctx: LocalAccounts, address: string): string {
  const i = ctx.signers.findIndex((s) => s.address.toLowerCase() === address.toLowerCase());
  return i < 0 ? address : `account ${i} (${address})`;
}

/** `<index|address>` (default 0) resolved to an address. */
export function addressArg(ctx: LocalAccounts, value: string | undefined, where: Where): string {
  const ref = parseAccountRef(value ?? "0", where, ctx.signers.length);
  return ref.kind === "index" ? ctx.signers[ref.index].address : ref.address;
}

/** `<index|address>` that must be a local account (`why`: because it signs). */
export function localAccountArg(ctx: LocalAccounts, value: string, where: Where, why: string): HardhatEthersSigner {
  const ref = parseAccountRef(value, where, ctx.signers.length);
  if (ref.kind === "index") return ctx.signers[ref.index];
  const signer = localSigner(ctx, ref.address);
  if (!signer) throw new InputError(where.source, where.field, `${ref.address} is not a local account (${why})`);
  return signer;
}
